#include "base/json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "base/strings.h"

namespace hearth::json {

// ---------------------------------------------------------------------------
// Value

namespace {

// Doubles in [-2^63, 2^63) convert to int64 without overflow.
constexpr double kInt64Lo = -9223372036854775808.0;
constexpr double kInt64Hi = 9223372036854775808.0;

bool DoubleIsInt64(double d) {
  return d >= kInt64Lo && d < kInt64Hi && d == std::trunc(d);
}

const char* TypeName(Value::Type type) {
  static constexpr const char* kNames[] = {"null",     "a bool",   "a number",
                                           "a string", "an array", "an object"};
  return kNames[static_cast<int>(type)];
}

}  // namespace

Value::Value(const char* s) {
  HEARTH_CHECK(s != nullptr, "json::Value from a null const char*");
  v_.emplace<std::string>(s);
}

void Value::SetUnsigned(unsigned long long u) {
  if (u <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
    v_.emplace<int64_t>(static_cast<int64_t>(u));
  } else {
    v_.emplace<double>(static_cast<double>(u));
  }
}

void Value::TypeMismatch(const char* wanted) const {
  ::hearth::internal::CheckFailed(__FILE__, __LINE__, "json::Value type",
                                  "json::Value is %s, not %s", TypeName(type()), wanted);
}

bool Value::is_integer() const {
  if (v_.index() == kIntIndex) return true;
  return v_.index() == kDoubleIndex && DoubleIsInt64(std::get<double>(v_));
}

int64_t Value::as_int() const {
  HEARTH_CHECK(is_integer(), "json::Value is %s, not an integer",
               is_number() ? "a non-integral number" : TypeName(type()));
  if (v_.index() == kIntIndex) return std::get<int64_t>(v_);
  return static_cast<int64_t>(std::get<double>(v_));
}

double Value::as_double() const {
  HEARTH_CHECK(is_number(), "json::Value is %s, not a number", TypeName(type()));
  if (v_.index() == kIntIndex) return static_cast<double>(std::get<int64_t>(v_));
  return std::get<double>(v_);
}

const Value* Value::Find(std::string_view key) const {
  const Object* members = std::get_if<Object>(&v_);
  if (members == nullptr) return nullptr;
  for (auto it = members->rbegin(); it != members->rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->Find(key));
}

Value& Value::Set(std::string key, Value v) {
  Object& members = as_object();
  if (Value* existing = Find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  members.emplace_back(std::move(key), std::move(v));
  return members.back().second;
}

void Value::Push(Value v) {
  as_array().push_back(std::move(v));
}

bool operator==(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    const int64_t* ai = std::get_if<int64_t>(&a.v_);
    const int64_t* bi = std::get_if<int64_t>(&b.v_);
    if (ai != nullptr && bi != nullptr) return *ai == *bi;
    if (ai == nullptr && bi == nullptr) return std::get<double>(a.v_) == std::get<double>(b.v_);
    const double d = std::get<double>(ai != nullptr ? b.v_ : a.v_);
    return DoubleIsInt64(d) && static_cast<int64_t>(d) == (ai != nullptr ? *ai : *bi);
  }
  // Same alternative: std::variant compares element-wise (recursing through
  // the vectors, which compare Values with this operator).
  return a.v_.index() == b.v_.index() && a.v_ == b.v_;
}

// ---------------------------------------------------------------------------
// Typed getters

namespace {

Result<const Value*> Lookup(const Value& obj, std::string_view key) {
  if (!obj.is_object()) {
    return InvalidArgumentError(
        StrFormat("expected an object with field '%.*s'", static_cast<int>(key.size()), key.data()),
        "json.type");
  }
  const Value* v = obj.Find(key);
  if (v == nullptr) {
    return InvalidArgumentError(
        StrFormat("missing field '%.*s'", static_cast<int>(key.size()), key.data()),
        "json.missing");
  }
  return v;
}

Status WrongType(std::string_view key, const char* what) {
  return InvalidArgumentError(
      StrFormat("field '%.*s' must be %s", static_cast<int>(key.size()), key.data(), what),
      "json.type");
}

// The value of field `key` if `has_type` holds for it, else a "json.type" error.
template <typename T, typename Getter>
Result<T> GetField(const Value& obj, std::string_view key, bool (Value::*has_type)() const,
                   const char* type_name, Getter get) {
  HEARTH_ASSIGN_OR_RETURN(const Value* v, Lookup(obj, key));
  if (!(v->*has_type)()) return WrongType(key, type_name);
  return get(*v);
}

}  // namespace

Result<std::string> GetString(const Value& obj, std::string_view key) {
  return GetField<std::string>(obj, key, &Value::is_string, "a string",
                               [](const Value& v) { return v.as_string(); });
}
Result<int64_t> GetInt(const Value& obj, std::string_view key) {
  return GetField<int64_t>(obj, key, &Value::is_integer, "an integer",
                           [](const Value& v) { return v.as_int(); });
}
Result<double> GetDouble(const Value& obj, std::string_view key) {
  return GetField<double>(obj, key, &Value::is_number, "a number",
                          [](const Value& v) { return v.as_double(); });
}
Result<bool> GetBool(const Value& obj, std::string_view key) {
  return GetField<bool>(obj, key, &Value::is_bool, "a bool",
                        [](const Value& v) { return v.as_bool(); });
}
Result<const Value::Array*> GetArray(const Value& obj, std::string_view key) {
  return GetField<const Value::Array*>(obj, key, &Value::is_array, "an array",
                                       [](const Value& v) { return &v.as_array(); });
}
Result<const Value::Object*> GetObject(const Value& obj, std::string_view key) {
  return GetField<const Value::Object*>(obj, key, &Value::is_object, "an object",
                                        [](const Value& v) { return &v.as_object(); });
}

// ---------------------------------------------------------------------------
// Parser

namespace {

// What each byte means inside a string literal.
enum : uint8_t { kPlain, kQuote, kBackslash, kControl, kNonAscii };
constexpr std::array<uint8_t, 256> kStringClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kControl;
  for (int c = 0x80; c < 0x100; ++c) t[c] = kNonAscii;
  t['"'] = kQuote;
  t['\\'] = kBackslash;
  return t;
}();

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends code point `cp` (<= U+10FFFF, not a surrogate) in UTF-8.
void AppendUtf8(std::string* out, uint32_t cp) {
  static constexpr unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  const int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  char bytes[4];
  for (int i = n - 1; i > 0; --i, cp >>= 6) bytes[i] = static_cast<char>(0x80 | (cp & 0x3F));
  bytes[0] = static_cast<char>(kLead[n] | cp);
  out->append(bytes, static_cast<size_t>(n));
}

const char* Utf8ErrorText(internal::Utf8Error e) {
  static constexpr const char* kTexts[] = {"ok",
                                           "invalid byte",
                                           "incomplete sequence",
                                           "overlong encoding",
                                           "encoded surrogate",
                                           "code point above U+10FFFF"};
  return kTexts[static_cast<int>(e)];
}

// An iterative recursive-descent parser: open containers live on an explicit
// stack, so nesting costs heap, not call stack.
class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), options_(options) {}

  Result<Value> Run();

 private:
  // An open array or object. The key is the member whose value is being parsed.
  struct Frame {
    bool is_object;
    Value::Array array;
    Value::Object object;
    std::string key;
  };

  // Records the first error (at byte `at`) and returns false.
  bool Fail(const char* at, std::string_view what, const char* reason = "json.syntax");
  std::string Position(const char* at) const;

  void SkipWhitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // A scalar (string, number, literal) at p_, or an error naming `expected`.
  bool ParseScalar(Value* out, const char* expected);
  bool ParseLiteral(std::string_view word, Value value, Value* out);
  bool ParseNumber(Value* out);
  bool ParseString(std::string* out);
  bool ParseEscape(std::string* out);
  bool ParseHex4(const char* at, uint32_t* out);
  // `"key" :` with whitespace, into *key; `expected` names what was missing.
  bool ParseKey(std::string* key, const char* expected);

  const char* const begin_;
  const char* p_;
  const char* const end_;
  const ParseOptions& options_;
  Status error_;
};

std::string Parser::Position(const char* at) const {
  size_t line = 1;
  const char* line_start = begin_;
  for (const char* q = begin_; q < at; ++q) {
    if (*q == '\n') {
      ++line;
      line_start = q + 1;
    }
  }
  return StrFormat("line %zu, column %zu", line, static_cast<size_t>(at - line_start) + 1);
}

bool Parser::Fail(const char* at, std::string_view what, const char* reason) {
  error_ = InvalidArgumentError(
      StrFormat("%s: %.*s", Position(at).c_str(), static_cast<int>(what.size()), what.data()),
      reason);
  return false;
}

Result<Value> Parser::Run() {
  if (static_cast<size_t>(end_ - begin_) > options_.max_bytes) {
    return InvalidArgumentError(StrFormat("JSON text is %zu bytes, more than the limit of %zu",
                                          static_cast<size_t>(end_ - begin_), options_.max_bytes),
                                "json.too_large");
  }
  if (end_ - begin_ >= 3 && std::memcmp(begin_, "\xEF\xBB\xBF", 3) == 0) {
    Fail(begin_, "a byte order mark is not allowed");
    return error_;
  }
  std::vector<Frame> stack;
  const char* expected = "expected a value";
  Value value;
  for (;;) {
    // Here a value is due at p_.
    SkipWhitespace();
    const char c = p_ < end_ ? *p_ : '\0';
    if (c == '[' || c == '{') {
      if (stack.size() >= options_.max_depth) {
        Fail(p_, StrFormat("nesting deeper than %zu levels", options_.max_depth), "json.depth");
        return error_;
      }
      const bool is_object = c == '{';
      ++p_;
      SkipWhitespace();
      if (p_ < end_ && *p_ == (is_object ? '}' : ']')) {
        ++p_;
        value = is_object ? Value(Value::Object{}) : Value(Value::Array{});
      } else {
        Frame& frame = stack.emplace_back();
        frame.is_object = is_object;
        if (is_object) {
          if (!ParseKey(&frame.key, "expected a string key or '}'")) return error_;
          expected = "expected a value after ':'";
        } else {
          expected = "expected a value or ']'";
        }
        continue;
      }
    } else if (!ParseScalar(&value, expected)) {
      return error_;
    }
    // A value is complete: attach it to its container and read what follows,
    // closing containers until one expects another element.
    for (;;) {
      if (stack.empty()) {
        SkipWhitespace();
        if (p_ != end_) {
          Fail(p_, "expected end of input after the top-level value");
          return error_;
        }
        return value;
      }
      Frame& frame = stack.back();
      if (frame.is_object) {
        frame.object.emplace_back(std::move(frame.key), std::move(value));
      } else {
        frame.array.push_back(std::move(value));
      }
      SkipWhitespace();
      const char next = p_ < end_ ? *p_ : '\0';
      if (next == ',') {
        ++p_;
        if (frame.is_object) {
          SkipWhitespace();
          if (!ParseKey(&frame.key, "expected a string key after ','")) return error_;
          expected = "expected a value after ':'";
        } else {
          expected = "expected a value after ','";
        }
        break;
      }
      if (next == (frame.is_object ? '}' : ']')) {
        ++p_;
        value = frame.is_object ? Value(std::move(frame.object)) : Value(std::move(frame.array));
        stack.pop_back();
        continue;
      }
      Fail(p_, frame.is_object ? "expected ',' or '}' after object member"
                               : "expected ',' or ']' after array element");
      return error_;
    }
  }
}

bool Parser::ParseKey(std::string* key, const char* expected) {
  if (p_ == end_ || *p_ != '"') return Fail(p_, expected);
  if (!ParseString(key)) return false;
  SkipWhitespace();
  if (p_ == end_ || *p_ != ':') return Fail(p_, "expected ':' after object key");
  ++p_;
  return true;
}

bool Parser::ParseScalar(Value* out, const char* expected) {
  if (p_ == end_) return Fail(p_, expected);
  switch (*p_) {
    case '"': {
      std::string s;
      if (!ParseString(&s)) return false;
      *out = Value(std::move(s));
      return true;
    }
    case 't':
      return ParseLiteral("true", Value(true), out);
    case 'f':
      return ParseLiteral("false", Value(false), out);
    case 'n':
      return ParseLiteral("null", Value(), out);
    default:
      if (*p_ == '-' || IsDigit(*p_)) return ParseNumber(out);
      return Fail(p_, expected);
  }
}

bool Parser::ParseLiteral(std::string_view word, Value value, Value* out) {
  if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size())) {
    return Fail(p_, StrFormat("invalid literal (expected '%.*s')", static_cast<int>(word.size()),
                              word.data()));
  }
  p_ += word.size();
  *out = std::move(value);
  return true;
}

bool Parser::ParseNumber(Value* out) {
  const char* start = p_;
  const bool negative = *p_ == '-';
  if (negative) ++p_;
  if (p_ == end_ || !IsDigit(*p_)) return Fail(p_, "expected a digit after '-'");
  // Integer part: "0" or [1-9][0-9]*, accumulated while it fits 19 digits.
  const char* int_start = p_;
  uint64_t magnitude = 0;
  if (*p_ == '0') {
    ++p_;
    if (p_ < end_ && IsDigit(*p_)) return Fail(start, "leading zeros are not allowed in numbers");
  } else {
    while (p_ < end_ && IsDigit(*p_)) {
      magnitude = magnitude * 10 + static_cast<uint64_t>(*p_ - '0');  // wraps if > 19 digits
      ++p_;
    }
  }
  const size_t int_digits = static_cast<size_t>(p_ - int_start);
  bool integral = true;
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ == end_ || !IsDigit(*p_)) return Fail(p_, "expected a digit after '.'");
    while (p_ < end_ && IsDigit(*p_)) ++p_;
    integral = false;
  }
  const char* exponent_start = nullptr;  // after the 'e'
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    exponent_start = ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || !IsDigit(*p_)) return Fail(p_, "expected a digit in the exponent");
    while (p_ < end_ && IsDigit(*p_)) ++p_;
    integral = false;
  }
  constexpr uint64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
  if (integral && int_digits <= 19 && !(negative && magnitude == 0)) {  // "-0" stays a double
    if (!negative && magnitude <= kMaxInt64) {
      *out = Value(static_cast<int64_t>(magnitude));
      return true;
    }
    if (negative && magnitude <= kMaxInt64 + 1) {
      *out = Value(static_cast<int64_t>(0 - magnitude));  // two's complement; -2^63 included
      return true;
    }
  }
  double d = 0;
  const auto [end, ec] = std::from_chars(start, p_, d);
  if (ec == std::errc::result_out_of_range) {
    // Too large or too small. Find the decimal exponent of the first
    // significant digit: overflow if it is positive, else underflow to zero.
    const char* q = int_start;
    while (q < p_ && (*q == '0' || *q == '.')) ++q;  // the zeros of "0.000123"
    int64_t exponent = int_digits > 1 || *int_start != '0'
                           ? static_cast<int64_t>(int_digits) - 1
                           : 1 - static_cast<int64_t>(q - int_start);
    if (exponent_start != nullptr) {
      int64_t e = 0;
      for (const char* r = exponent_start; r < p_; ++r) {
        if (IsDigit(*r) && e < 1'000'000'000) e = e * 10 + (*r - '0');
      }
      exponent += *exponent_start == '-' ? -e : e;
    }
    if (exponent >= 0) return Fail(start, "number out of the range of a double");
    d = negative ? -0.0 : 0.0;
  } else if (ec != std::errc() || end != p_) {
    return Fail(start, "invalid number");  // not expected after the grammar check above
  }
  *out = Value(d);
  return true;
}

bool Parser::ParseString(std::string* out) {
  const char* open = p_;
  ++p_;  // the opening quote
  const char* run = p_;
  out->clear();
  for (;;) {
    while (p_ < end_ && kStringClass[static_cast<unsigned char>(*p_)] == kPlain) ++p_;
    if (p_ == end_) {
      return Fail(p_, StrFormat("unterminated string (opened at %s)", Position(open).c_str()));
    }
    const unsigned char c = static_cast<unsigned char>(*p_);
    switch (kStringClass[c]) {
      case kQuote:
        out->append(run, p_);
        ++p_;
        return true;
      case kBackslash:
        out->append(run, p_);
        if (!ParseEscape(out)) return false;
        run = p_;
        break;
      case kControl:
        return Fail(p_, StrFormat("control character U+%04X must be escaped in a string", c));
      default: {  // kNonAscii: validated, then kept in the run
        size_t len = 0;
        const auto error =
            internal::CheckUtf8Sequence(reinterpret_cast<const unsigned char*>(p_),
                                        reinterpret_cast<const unsigned char*>(end_), &len);
        if (error != internal::Utf8Error::kOk) {
          return Fail(
              p_, StrFormat("invalid UTF-8 in string: %s (byte 0x%02X)", Utf8ErrorText(error), c));
        }
        p_ += len;
      }
    }
  }
}

bool Parser::ParseHex4(const char* at, uint32_t* out) {
  if (end_ - p_ < 4) return Fail(at, "expected 4 hex digits after \\u");
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = HexValue(p_[i]);
    if (h < 0) return Fail(at, "expected 4 hex digits after \\u");
    v = (v << 4) | static_cast<uint32_t>(h);
  }
  p_ += 4;
  *out = v;
  return true;
}

bool Parser::ParseEscape(std::string* out) {
  const char* at = p_;  // the backslash
  if (end_ - p_ < 2) return Fail(end_, "unterminated string");
  const char e = p_[1];
  p_ += 2;
  // The two-character escapes and what they stand for.
  static constexpr std::string_view kEscaped = "\"\\/bfnrt";
  static constexpr std::string_view kMeaning = "\"\\/\b\f\n\r\t";
  if (const size_t i = kEscaped.find(e); i != std::string_view::npos) {
    out->push_back(kMeaning[i]);
    return true;
  }
  if (e != 'u') {
    if (e > 0x20 && e < 0x7F) return Fail(at, StrFormat("invalid escape sequence '\\%c'", e));
    return Fail(at, "invalid escape sequence");
  }
  uint32_t cp = 0;
  if (!ParseHex4(at, &cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    return Fail(at, StrFormat("unpaired surrogate \\u%04X in string", cp));
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t low = 0;
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
      return Fail(at, StrFormat("unpaired surrogate \\u%04X in string", cp));
    }
    const char* low_at = p_;
    p_ += 2;
    if (!ParseHex4(low_at, &low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) {
      return Fail(at, StrFormat("unpaired surrogate \\u%04X in string", cp));
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  AppendUtf8(out, cp);
  return true;
}

}  // namespace

Result<Value> Parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).Run();
}

}  // namespace hearth::json
