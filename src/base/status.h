// Status and Result<T>: the error model of every fallible boundary in Hearth.
//
// A Status is OK or carries a code, a human-readable message and an optional
// stable `reason` slug (e.g. "gguf.truncated") that tests and machine clients
// can match on. Our code throws nothing; errors travel as values and gain
// context at each level ("loading model: reading 'x.gguf': ...").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace hearth {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,     // the caller passed something malformed (bad flag value, bad JSON)
  kNotFound,            // a file, key or tensor is missing
  kAlreadyExists,       //
  kOutOfRange,          // a value is outside its allowed range
  kDataLoss,            // an input file is corrupt or malformed
  kUnimplemented,       // valid input that this build does not support
  kResourceExhausted,   // memory, disk or a configured limit
  kFailedPrecondition,  // the system is not in a state to do this
  kIoError,             // the OS refused a read, write, map or sync
  kInternal,            // a bug in Hearth
  kCancelled,
  kDeadlineExceeded,
  kPermissionDenied,
  kUnavailable,
};

// Short lower-case name of a code, e.g. "data_loss".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string reason = {});

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // Stable machine-readable slug, or empty.
  const std::string& reason() const;

  // Returns this status with "context: " prepended to the message (OK stays OK).
  Status WithContext(std::string_view context) const&;
  Status WithContext(std::string_view context) &&;

  // "data_loss: message" or "ok".
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::string reason;
  };
  std::unique_ptr<State> state_;
};

// Convenience constructors.
Status InvalidArgumentError(std::string message, std::string reason = {});
Status NotFoundError(std::string message, std::string reason = {});
Status OutOfRangeError(std::string message, std::string reason = {});
Status DataLossError(std::string message, std::string reason = {});
Status UnimplementedError(std::string message, std::string reason = {});
Status ResourceExhaustedError(std::string message, std::string reason = {});
Status FailedPreconditionError(std::string message, std::string reason = {});
Status IoError(std::string message, std::string reason = {});
Status InternalError(std::string message, std::string reason = {});
Status PermissionDeniedError(std::string message, std::string reason = {});
Status AlreadyExistsError(std::string message, std::string reason = {});
Status UnavailableError(std::string message, std::string reason = {});
Status DeadlineExceededError(std::string message, std::string reason = {});
Status CancelledError(std::string message, std::string reason = {});

// Status for a failed syscall: "<what>: <strerror(err)>", code from errno
// (ENOENT -> kNotFound, ENOSPC/EDQUOT -> kResourceExhausted, EACCES -> kPermissionDenied).
Status ErrnoError(std::string_view what, int err);

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(runtime/explicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(runtime/explicit)
    HEARTH_CHECK(!std::get<Status>(v_).ok(), "Result constructed from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const& { return ok() ? Status() : std::get<Status>(v_); }
  Status status() && { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  T& value() & {
    CheckOk();
    return std::get<T>(v_);
  }
  const T& value() const& {
    CheckOk();
    return std::get<T>(v_);
  }
  T&& value() && {
    CheckOk();
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    HEARTH_CHECK(ok(), "value() on an error Result: %s", std::get<Status>(v_).ToString().c_str());
  }
  std::variant<T, Status> v_;
};

}  // namespace hearth

#define HEARTH_CONCAT_INNER(a, b) a##b
#define HEARTH_CONCAT(a, b) HEARTH_CONCAT_INNER(a, b)

// Evaluates `expr` (a Status); returns it from the enclosing function if not OK.
#define HEARTH_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::hearth::Status hearth_status_ = (expr);        \
    if (!hearth_status_.ok()) return hearth_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its Status.
#define HEARTH_ASSIGN_OR_RETURN(lhs, expr) \
  HEARTH_ASSIGN_OR_RETURN_IMPL(HEARTH_CONCAT(hearth_result_, __LINE__), lhs, expr)
#define HEARTH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()
