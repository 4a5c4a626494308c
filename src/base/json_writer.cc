#include "base/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <variant>

namespace hearth::json {

namespace internal {

Utf8Error CheckUtf8Sequence(const unsigned char* p, const unsigned char* end, size_t* len) {
  *len = 1;  // on error, the caller skips (or replaces) one byte
  const unsigned lead = p[0];
  size_t n = 0;
  uint32_t cp = 0;
  if (lead < 0xC0) return Utf8Error::kBadLeadByte;  // a stray continuation byte
  if (lead < 0xC2) return Utf8Error::kOverlong;     // C0/C1 only encode ASCII
  if (lead < 0xE0) {
    n = 2;
    cp = lead & 0x1F;
  } else if (lead < 0xF0) {
    n = 3;
    cp = lead & 0x0F;
  } else if (lead < 0xF5) {
    n = 4;
    cp = lead & 0x07;
  } else {
    return lead < 0xF8 ? Utf8Error::kTooLarge : Utf8Error::kBadLeadByte;
  }
  if (static_cast<size_t>(end - p) < n) return Utf8Error::kTruncated;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return Utf8Error::kTruncated;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return Utf8Error::kOverlong;
  if (cp >= 0xD800 && cp <= 0xDFFF) return Utf8Error::kSurrogate;
  if (cp > 0x10FFFF) return Utf8Error::kTooLarge;
  *len = n;
  return Utf8Error::kOk;
}

namespace {

// Bytes that cannot be copied into a string literal as they are.
constexpr std::array<bool, 256> kNeedsCare = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  for (int c = 0x80; c < 0x100; ++c) t[c] = true;  // checked as UTF-8
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

}  // namespace

void AppendQuoted(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  out->push_back('"');
  while (p < end) {
    const unsigned char* run = p;
    while (p < end && !kNeedsCare[*p]) ++p;
    out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (p == end) break;
    const unsigned char c = *p;
    if (c >= 0x80) {
      size_t len = 0;
      if (CheckUtf8Sequence(p, end, &len) == Utf8Error::kOk) {
        out->append(reinterpret_cast<const char*>(p), len);
      } else {
        out->append("\xEF\xBF\xBD");  // U+FFFD for this one byte
      }
      p += len;
      continue;
    }
    ++p;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escape, sizeof(escape));
      }
    }
  }
  out->push_back('"');
}

void AppendDouble(std::string* out, double d) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[32];  // the shortest form of any double is at most 24 characters
  const auto result = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, result.ptr);
}

}  // namespace internal

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  internal::AppendQuoted(&out, s);
  return out;
}

std::string Serialize(const Value& value, int indent) {
  Writer writer(indent);
  writer.Raw(value);
  return writer.TakeStr();
}

void Writer::Separate(Level& level) {
  if (level.has_items) out_.push_back(',');
  level.has_items = true;
  if (indent_ >= 0) {
    out_.push_back('\n');
    out_.append(stack_.size() * static_cast<size_t>(indent_), ' ');
  }
}

void Writer::BeforeValue() {
  if (stack_.empty()) {
    HEARTH_CHECK(!done_, "json::Writer: a second top-level value");
    return;
  }
  Level& level = stack_.back();
  if (level.is_object) {
    HEARTH_CHECK(level.has_key, "json::Writer: a value inside an object needs a Key() first");
    level.has_key = false;
  } else {
    Separate(level);
  }
}

void Writer::AfterValue() {
  if (stack_.empty()) done_ = true;
}

void Writer::Close(bool is_object) {
  HEARTH_CHECK(!stack_.empty() && stack_.back().is_object == is_object,
               "json::Writer: End%s does not match the open container",
               is_object ? "Object" : "Array");
  HEARTH_CHECK(!stack_.back().has_key, "json::Writer: EndObject after a Key() with no value");
  const bool had_items = stack_.back().has_items;
  stack_.pop_back();
  if (had_items && indent_ >= 0) {
    out_.push_back('\n');
    out_.append(stack_.size() * static_cast<size_t>(indent_), ' ');
  }
  out_.push_back(is_object ? '}' : ']');
  AfterValue();
}

void Writer::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  stack_.push_back(Level{.is_object = true});
}

void Writer::EndObject() {
  Close(/*is_object=*/true);
}

void Writer::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  stack_.push_back(Level{.is_object = false});
}

void Writer::EndArray() {
  Close(/*is_object=*/false);
}

void Writer::Key(std::string_view key) {
  HEARTH_CHECK(!stack_.empty() && stack_.back().is_object, "json::Writer: Key() outside an object");
  Level& level = stack_.back();
  HEARTH_CHECK(!level.has_key, "json::Writer: two Key() calls without a value between them");
  Separate(level);
  internal::AppendQuoted(&out_, key);
  out_.append(indent_ >= 0 ? ": " : ":");
  level.has_key = true;
}

void Writer::String(std::string_view s) {
  BeforeValue();
  internal::AppendQuoted(&out_, s);
  AfterValue();
}

void Writer::Int(int64_t i) {
  BeforeValue();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof(buf), i).ptr);
  AfterValue();
}

void Writer::Uint(uint64_t u) {
  BeforeValue();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof(buf), u).ptr);
  AfterValue();
}

void Writer::Double(double d) {
  BeforeValue();
  internal::AppendDouble(&out_, d);
  AfterValue();
}

void Writer::Bool(bool b) {
  BeforeValue();
  out_.append(b ? "true" : "false");
  AfterValue();
}

void Writer::Null() {
  BeforeValue();
  out_.append("null");
  AfterValue();
}

void Writer::Raw(const Value& value) {
  switch (value.type()) {
    case Value::Type::kNull:
      Null();
      return;
    case Value::Type::kBool:
      Bool(value.as_bool());
      return;
    case Value::Type::kNumber:
      // Integers are stored exactly; doubles keep their own form ("-0", "1e+300").
      if (const int64_t* i = std::get_if<int64_t>(&value.v_)) {
        Int(*i);
      } else {
        Double(std::get<double>(value.v_));
      }
      return;
    case Value::Type::kString:
      String(value.as_string());
      return;
    case Value::Type::kArray:
      BeginArray();
      for (const Value& element : value.as_array()) Raw(element);
      EndArray();
      return;
    case Value::Type::kObject:
      BeginObject();
      for (const auto& [key, member] : value.as_object()) {
        Key(key);
        Raw(member);
      }
      EndObject();
      return;
  }
}

const std::string& Writer::str() const {
  HEARTH_CHECK(done_, "json::Writer: str() before the top-level value is complete");
  return out_;
}

std::string Writer::TakeStr() {
  HEARTH_CHECK(done_, "json::Writer: TakeStr() before the top-level value is complete");
  return std::move(out_);
}

}  // namespace hearth::json
