#include "base/status.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hearth {

namespace internal {
void CheckFailed(const char* file, int line, const char* cond, const char* fmt, ...) {
  std::fprintf(stderr, "hearth: internal error at %s:%d: check failed: %s: ", file, line, cond);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::abort();
}
void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "hearth: internal error at %s:%d: check failed: %s\n", file, line, cond);
  std::abort();
}
}  // namespace internal

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kOutOfRange:
      return "out_of_range";
    case StatusCode::kDataLoss:
      return "data_loss";
    case StatusCode::kUnimplemented:
      return "unimplemented";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kIoError:
      return "io_error";
    case StatusCode::kInternal:
      return "internal";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string message, std::string reason) {
  if (code == StatusCode::kOk) return;
  state_ = std::make_unique<State>(State{code, std::move(message), std::move(reason)});
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

const std::string& Status::reason() const {
  static const std::string kEmpty;
  return state_ ? state_->reason : kEmpty;
}

Status Status::WithContext(std::string_view context) const& {
  Status copy(*this);
  return std::move(copy).WithContext(context);
}

Status Status::WithContext(std::string_view context) && {
  if (state_) state_->message = std::string(context) + ": " + state_->message;
  return std::move(*this);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code())) + ": " + message();
}

#define HEARTH_DEFINE_ERROR(Name, Code)                                     \
  Status Name(std::string message, std::string reason) {                    \
    return Status(StatusCode::Code, std::move(message), std::move(reason)); \
  }
HEARTH_DEFINE_ERROR(InvalidArgumentError, kInvalidArgument)
HEARTH_DEFINE_ERROR(NotFoundError, kNotFound)
HEARTH_DEFINE_ERROR(OutOfRangeError, kOutOfRange)
HEARTH_DEFINE_ERROR(DataLossError, kDataLoss)
HEARTH_DEFINE_ERROR(UnimplementedError, kUnimplemented)
HEARTH_DEFINE_ERROR(ResourceExhaustedError, kResourceExhausted)
HEARTH_DEFINE_ERROR(FailedPreconditionError, kFailedPrecondition)
HEARTH_DEFINE_ERROR(IoError, kIoError)
HEARTH_DEFINE_ERROR(InternalError, kInternal)
HEARTH_DEFINE_ERROR(PermissionDeniedError, kPermissionDenied)
HEARTH_DEFINE_ERROR(AlreadyExistsError, kAlreadyExists)
HEARTH_DEFINE_ERROR(UnavailableError, kUnavailable)
HEARTH_DEFINE_ERROR(DeadlineExceededError, kDeadlineExceeded)
HEARTH_DEFINE_ERROR(CancelledError, kCancelled)
#undef HEARTH_DEFINE_ERROR

Status ErrnoError(std::string_view what, int err) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status(StatusCode::kNotFound, std::move(msg), "os.not_found");
    case ENOSPC:
    case EDQUOT:
      return Status(StatusCode::kResourceExhausted, std::move(msg), "os.disk_full");
    case ENOMEM:
      return Status(StatusCode::kResourceExhausted, std::move(msg), "os.no_memory");
    case EACCES:
    case EPERM:
      return Status(StatusCode::kPermissionDenied, std::move(msg), "os.permission");
    default:
      return Status(StatusCode::kIoError, std::move(msg), "os.io");
  }
}

}  // namespace hearth
