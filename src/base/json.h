// JSON values, a strict parser and a serializer (RFC 8259).
//
//   HEARTH_ASSIGN_OR_RETURN(json::Value config, json::Parse(text));
//   HEARTH_ASSIGN_OR_RETURN(int64_t n_ctx, json::GetInt(config, "n_ctx"));
//   std::string out = json::Serialize(config, /*indent=*/2);
//
// A Value is a plain tree (no sharing, no references between nodes); copying
// one copies the whole tree. Values are not thread-safe to mutate
// concurrently, but const access from several threads is fine.
//
// Accessing a Value as the wrong type (as_string() on a number, Set() on an
// array, ...) is a programmer bug and aborts through HEARTH_CHECK. Code that
// looks at untrusted documents checks the type first (is_string(), ...) or uses
// the Result-returning GetString()/GetInt()/... helpers below.
//
// For large outputs that need no tree, see json_writer.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/check.h"
#include "base/status.h"

namespace hearth::json {

class Writer;

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Value>;
  // Members in insertion (document) order. Duplicate keys are kept as they
  // appear; Find() returns the last one, like JavaScript's JSON.parse.
  using Object = std::vector<std::pair<std::string, Value>>;

  // The constructors are implicit on purpose so that trees can be written as
  // literals: Value(Value::Object{{"a", 1}, {"b", Value::Array{true, "x"}}}).
  // Every integer type is accepted (int64_t is long, uint64_t and size_t are
  // unsigned long here); unsigned values above INT64_MAX are stored as
  // (rounded) doubles. A null const char* is a bug.
  Value() = default;                                     // null
  Value(std::nullptr_t) {}                               // NOLINT(runtime/explicit)
  Value(bool b) : v_(std::in_place_type<bool>, b) {}     // NOLINT(runtime/explicit)
  Value(int i) : v_(std::in_place_type<int64_t>, i) {}   // NOLINT(runtime/explicit)
  Value(long i) : v_(std::in_place_type<int64_t>, i) {}  // NOLINT(runtime/explicit)
  Value(long long i) : v_(std::in_place_type<int64_t>, static_cast<int64_t>(i)) {}  // NOLINT
  Value(unsigned u) : v_(std::in_place_type<int64_t>, u) {}  // NOLINT(runtime/explicit)
  Value(unsigned long u) { SetUnsigned(u); }                 // NOLINT(runtime/explicit)
  Value(unsigned long long u) { SetUnsigned(u); }            // NOLINT(runtime/explicit)
  Value(double d) : v_(std::in_place_type<double>, d) {}     // NOLINT(runtime/explicit)
  Value(const char* s);                                      // NOLINT(runtime/explicit)
  Value(std::string s) : v_(std::in_place_type<std::string>, std::move(s)) {}  // NOLINT
  Value(std::string_view s) : v_(std::in_place_type<std::string>, s) {}        // NOLINT
  Value(Array a) : v_(std::in_place_type<Array>, std::move(a)) {}    // NOLINT(runtime/explicit)
  Value(Object o) : v_(std::in_place_type<Object>, std::move(o)) {}  // NOLINT(runtime/explicit)
  // Without these, a char would become a number and a pointer a bool.
  Value(char) = delete;
  Value(const void*) = delete;

  Type type() const {
    static constexpr Type kTypes[] = {Type::kNull,   Type::kBool,  Type::kNumber, Type::kNumber,
                                      Type::kString, Type::kArray, Type::kObject};
    return kTypes[v_.index()];
  }
  bool is_null() const { return v_.index() == kNullIndex; }
  bool is_bool() const { return v_.index() == kBoolIndex; }
  bool is_number() const { return v_.index() == kIntIndex || v_.index() == kDoubleIndex; }
  bool is_string() const { return v_.index() == kStringIndex; }
  bool is_array() const { return v_.index() == kArrayIndex; }
  bool is_object() const { return v_.index() == kObjectIndex; }
  // A number whose value is exactly an int64: every integer literal that fits
  // (stored exactly), and doubles with an integral value in range (3.0, 1e3).
  bool is_integer() const;

  bool as_bool() const { return Get<bool>(kBoolIndex, "a bool"); }
  // Requires is_integer().
  int64_t as_int() const;
  // Any number; integers above 2^53 round to the nearest double.
  double as_double() const;
  const std::string& as_string() const { return Get<std::string>(kStringIndex, "a string"); }
  std::string& as_string() { return Get<std::string>(kStringIndex, "a string"); }
  const Array& as_array() const { return Get<Array>(kArrayIndex, "an array"); }
  Array& as_array() { return Get<Array>(kArrayIndex, "an array"); }
  const Object& as_object() const { return Get<Object>(kObjectIndex, "an object"); }
  Object& as_object() { return Get<Object>(kObjectIndex, "an object"); }

  // Object lookup by key: the LAST member with that key, or nullptr if there
  // is none. Unlike the as_*() accessors, a non-object Value is not a bug
  // here: it simply has no members, and Find returns nullptr.
  // Cost: a linear scan (from the back) over the members.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);

  // Replaces the value of the last member named `key`, or appends a member.
  // Returns a reference to the stored value (valid until the object changes),
  // so nested objects can be filled in place. Requires is_object().
  Value& Set(std::string key, Value v);
  // Appends to an array. Requires is_array().
  void Push(Value v);

  // Deep equality. Numbers compare by exact value (int 3 == double 3.0, but
  // 2^53 + 1 != 2^53 as double); NaN equals nothing. Objects compare members
  // in order, so {"a":1,"b":2} != {"b":2,"a":1}.
  friend bool operator==(const Value& a, const Value& b);

 private:
  friend class Writer;  // tells integers from doubles when serializing

  static constexpr size_t kNullIndex = 0, kBoolIndex = 1, kIntIndex = 2, kDoubleIndex = 3,
                          kStringIndex = 4, kArrayIndex = 5, kObjectIndex = 6;

  void SetUnsigned(unsigned long long u);
  [[noreturn]] void TypeMismatch(const char* wanted) const;
  template <typename T>
  const T& Get(size_t index, const char* wanted) const {
    if (__builtin_expect(v_.index() != index, 0)) TypeMismatch(wanted);
    return *std::get_if<T>(&v_);
  }
  template <typename T>
  T& Get(size_t index, const char* wanted) {
    if (__builtin_expect(v_.index() != index, 0)) TypeMismatch(wanted);
    return *std::get_if<T>(&v_);
  }

  // Integers that fit int64 are kept as int64 so they survive exactly.
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

struct ParseOptions {
  // Containers nested deeper than this are rejected ("json.depth"). The parser
  // itself is iterative, but destroying and serializing a Value recurse once
  // per level, so keep this in the thousands at most.
  size_t max_depth = 128;
  // Larger inputs are rejected up front ("json.too_large").
  size_t max_bytes = size_t{256} << 20;
};

// Parses exactly one JSON value (RFC 8259, strict): no comments, no trailing
// commas, no leading zeros, no NaN/Infinity, no byte order mark, whitespace
// only space/tab/CR/LF, strings in valid UTF-8 with control characters
// escaped and \u surrogates paired. Integer literals that fit int64 stay
// exact; other numbers become doubles; a number beyond the double range
// (1e999) is an error, one too small to represent (1e-400) becomes 0.
//
// Errors are InvalidArgumentError with reason "json.syntax", "json.depth" or
// "json.too_large" and a message "line L, column C: what was expected", where
// L and C are 1-based and C counts bytes. Cost: linear; the result holds the
// input's strings in separate allocations (short ones inline).
Result<Value> Parse(std::string_view text, const ParseOptions& options = {});

// JSON text of `value`. indent < 0: compact, no spaces at all. indent >= 0:
// one member or element per line, indented by `indent` spaces per level,
// "key": value. Strings escape '"', '\\' and control characters, and keep
// other UTF-8 as-is; each byte of invalid UTF-8 becomes U+FFFD. Integers are
// exact; doubles use the shortest text that parses back to the same double;
// NaN and infinities become null. Recurses once per nesting level.
std::string Serialize(const Value& value, int indent = -1);

// Typed field getters for validation code. Errors (InvalidArgumentError):
//   "missing field 'x'"                   reason "json.missing"
//   "field 'x' must be a string" (etc.)   reason "json.type"
//   "expected an object with field 'x'"   reason "json.type" (obj not an object)
// GetInt accepts any number for which is_integer() holds; GetDouble any number.
Result<std::string> GetString(const Value& obj, std::string_view key);
Result<int64_t> GetInt(const Value& obj, std::string_view key);
Result<double> GetDouble(const Value& obj, std::string_view key);
Result<bool> GetBool(const Value& obj, std::string_view key);
// Pointers into `obj`, valid while it is alive and unchanged.
Result<const Value::Array*> GetArray(const Value& obj, std::string_view key);
Result<const Value::Object*> GetObject(const Value& obj, std::string_view key);

namespace internal {
// Shared by the parser and the writer (json.cc). Checks the multi-byte UTF-8
// sequence starting at p (whose first byte is >= 0x80) and stores its length
// in *len. Overlong forms, UTF-8-encoded surrogates and code points above
// U+10FFFF are invalid.
enum class Utf8Error { kOk, kBadLeadByte, kTruncated, kOverlong, kSurrogate, kTooLarge };
Utf8Error CheckUtf8Sequence(const unsigned char* p, const unsigned char* end, size_t* len);
}  // namespace internal

}  // namespace hearth::json
