#include "server/support/config_toml.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "base/mapped_file.h"
#include "base/strings.h"

namespace hearth::server {
namespace {

constexpr char kSyntax[] = "config.syntax";
// Table headers nest at most this deep; it bounds the cost of tracking every
// prefix of a header (a header of k parts records k names).
constexpr size_t kMaxTableDepth = 8;
constexpr size_t kMaxConfigBytes = size_t{1} << 20;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsBareKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '-';
}
// Characters an unquoted value (number, boolean, or an unsupported date) is made of.
bool IsTokenChar(char c) {
  return IsBareKeyChar(c) || c == '+' || c == '.' || c == ':';
}
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// UTF-8 encoding of a Unicode scalar value (the caller has checked the range).
void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) return out->push_back(static_cast<char>(cp));
  const int n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;  // bytes in the sequence
  static constexpr unsigned kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  out->push_back(static_cast<char>(kLead[n] | (cp >> (6 * (n - 1)))));
  for (int k = n - 2; k >= 0; --k)
    out->push_back(static_cast<char>(0x80 | ((cp >> (6 * k)) & 0x3F)));
}

// Scans digits with single '_' between digits from tok[*i]. Returns false
// (with *i at the offending '_') if an underscore is not between two digits;
// *any tells whether at least one digit was read.
bool ScanDigits(std::string_view tok, size_t* i, bool* any) {
  *any = false;
  while (*i < tok.size()) {
    if (IsDigit(tok[*i])) {
      *any = true;
      ++*i;
    } else if (tok[*i] == '_') {
      if (!*any || *i + 1 >= tok.size() || !IsDigit(tok[*i + 1])) return false;
      ++*i;
    } else {
      break;
    }
  }
  return true;
}

// One pass over the document; keeps the flat result and what has been defined.
class TomlParser {
 public:
  TomlParser(std::string_view text, std::string_view file) : s_(text), file_(file) {}

  Result<json::Value> Parse() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // byte order mark
    HEARTH_RETURN_IF_ERROR(CheckEncoding());
    while (true) {
      SkipSpaces();
      if (AtEnd()) break;
      if (Peek() == '[') {
        HEARTH_RETURN_IF_ERROR(ParseHeader());
      } else if (Peek() != '#' && !AtNewline()) {
        HEARTH_RETURN_IF_ERROR(ParseKeyValue());
      }
      HEARTH_RETURN_IF_ERROR(ExpectLineEnd("this line"));
      if (AtEnd()) break;
      pos_ += Peek() == '\r' ? 2 : 1;
    }
    return std::move(out_);
  }

 private:
  // ---- positions and messages ----
  Status ErrorAt(size_t pos, const std::string& what) const {
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < pos && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return InvalidArgumentError(StrFormat("%.*s:%zu:%zu: %s", static_cast<int>(file_.size()),
                                          file_.data(), line, pos - line_start + 1, what.c_str()),
                                kSyntax);
  }
  size_t LineOf(size_t pos) const {
    size_t line = 1;
    for (size_t i = 0; i < pos; ++i) line += s_[i] == '\n';
    return line;
  }
  // What sits at `pos`, for "found …" in messages.
  std::string Describe(size_t pos) const {
    if (pos >= s_.size()) return "the end of the file";
    const char c = s_[pos];
    if (c == '\n' || c == '\r') return "the end of the line";
    if (static_cast<unsigned char>(c) < 0x80) return StrFormat("'%c'", c);
    size_t len = 1;
    (void)json::internal::CheckUtf8Sequence(reinterpret_cast<const unsigned char*>(&s_[pos]),
                                            reinterpret_cast<const unsigned char*>(s_.end()), &len);
    return "'" + std::string(s_.substr(pos, len)) + "'";
  }
  static std::string Show(std::string_view s) { return EscapeForDisplay(s, 60); }

  // Invalid UTF-8 and control characters are rejected anywhere in the file,
  // so everything after this can copy bytes without looking at them again.
  Status CheckEncoding() const {
    static constexpr const char* kUtf8Errors[] = {"",
                                                  "invalid byte",
                                                  "incomplete sequence",
                                                  "overlong encoding",
                                                  "encoded surrogate",
                                                  "code point above U+10FFFF"};
    const auto* p = reinterpret_cast<const unsigned char*>(s_.data());
    for (size_t i = pos_; i < s_.size(); ++i) {
      const unsigned char c = p[i];
      if (c >= 0x80) {
        size_t len = 1;
        const auto e = json::internal::CheckUtf8Sequence(p + i, p + s_.size(), &len);
        if (e != json::internal::Utf8Error::kOk) {
          return ErrorAt(
              i, StrFormat("invalid UTF-8: %s (byte 0x%02X)", kUtf8Errors[static_cast<int>(e)], c));
        }
        i += len - 1;
      } else if (c == '\r') {
        if (i + 1 >= s_.size() || p[i + 1] != '\n')
          return ErrorAt(i, "carriage return not followed by a line feed");
      } else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
        return ErrorAt(i, StrFormat("control character U+%04X is not allowed", c));
      }
    }
    return Status::Ok();
  }

  // ---- lexical helpers ----
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  bool AtNewline() const { return Peek() == '\n' || (Peek() == '\r' && Peek(1) == '\n'); }
  void SkipSpaces() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }
  void SkipComment() {
    if (Peek() != '#') return;
    while (!AtEnd() && !AtNewline()) ++pos_;
  }
  // Spaces, comments and newlines: what may separate array elements.
  void SkipBlank() {
    while (true) {
      SkipSpaces();
      SkipComment();
      if (!AtNewline()) return;
      pos_ += Peek() == '\r' ? 2 : 1;
    }
  }
  Status ExpectLineEnd(std::string_view after) {
    SkipSpaces();
    SkipComment();
    if (AtEnd() || AtNewline()) return Status::Ok();
    return ErrorAt(pos_,
                   StrFormat("unexpected %s after %.*s; expected a comment or a new line",
                             Describe(pos_).c_str(), static_cast<int>(after.size()), after.data()));
  }
  bool AtTripleQuote() const { return Peek() == Peek(1) && Peek() == Peek(2); }

  // ---- keys and tables ----
  // One key: bare, "basic" or 'literal'.
  Result<std::string> ParseKey() {
    const size_t start = pos_;
    const char c = Peek();
    if (IsBareKeyChar(c)) {
      while (IsBareKeyChar(Peek())) ++pos_;
      return std::string(s_.substr(start, pos_ - start));
    }
    if (c != '"' && c != '\'') return ErrorAt(pos_, "expected a key, found " + Describe(pos_));
    if (AtTripleQuote()) return ErrorAt(pos_, "a key cannot be a multi-line string");
    HEARTH_ASSIGN_OR_RETURN(std::string key, c == '"' ? ParseBasicString() : ParseLiteralString());
    if (key.empty()) return ErrorAt(start, "empty quoted key");
    if (key.find('.') != std::string::npos) {
      return ErrorAt(start, "quoted key '" + Show(key) +
                                "' contains '.', which would be ambiguous in dotted names");
    }
    return key;
  }

  Status ParseHeader() {
    const size_t start = pos_++;
    if (Peek() == '[') return ErrorAt(start, "arrays of tables ([[...]]) are not supported");
    std::string name;
    std::vector<std::string> prefixes;  // "a", "a.b", … of this header
    while (true) {
      SkipSpaces();
      HEARTH_ASSIGN_OR_RETURN(std::string part, ParseKey());
      if (!name.empty()) name.push_back('.');
      name += part;
      prefixes.push_back(name);
      if (prefixes.size() > kMaxTableDepth)
        return ErrorAt(start, StrFormat("tables nest at most %zu levels deep", kMaxTableDepth));
      SkipSpaces();
      if (Peek() == ']') break;
      if (Peek() != '.') {
        return ErrorAt(pos_, "expected '.' or ']' in the table header, found " + Describe(pos_));
      }
      ++pos_;
    }
    ++pos_;  // ']'
    if (auto it = tables_.find(name); it != tables_.end()) {
      return ErrorAt(start, StrFormat("table [%s] is defined twice (first on line %zu)",
                                      Show(name).c_str(), LineOf(it->second)));
    }
    for (const std::string& p : prefixes) {
      if (auto it = values_.find(p); it != values_.end()) {
        return ErrorAt(start, StrFormat("[%s]: '%s' is already a value (line %zu), not a table",
                                        Show(name).c_str(), Show(p).c_str(), LineOf(it->second)));
      }
    }
    table_prefixes_.insert(prefixes.begin(), prefixes.end());
    tables_.emplace(name, start);
    table_ = std::move(name);
    return ExpectLineEnd("the table header");
  }

  Status ParseKeyValue() {
    const size_t key_pos = pos_;
    HEARTH_ASSIGN_OR_RETURN(std::string key, ParseKey());
    SkipSpaces();
    if (Peek() == '.') {
      return ErrorAt(
          pos_, "dotted keys are not supported; put '" + Show(key) + "' under a [table] header");
    }
    if (Peek() != '=') {
      return ErrorAt(pos_, "expected '=' after key '" + Show(key) + "', found " + Describe(pos_));
    }
    ++pos_;
    SkipSpaces();
    const std::string full = table_.empty() ? key : table_ + "." + key;
    if (auto it = values_.find(full); it != values_.end()) {
      return ErrorAt(key_pos, StrFormat("duplicate key '%s' (first set on line %zu)",
                                        Show(full).c_str(), LineOf(it->second)));
    }
    if (table_prefixes_.count(full) != 0)
      return ErrorAt(key_pos, "key '" + Show(full) + "' is already a table");
    if (AtEnd() || AtNewline() || Peek() == '#')
      return ErrorAt(pos_, "missing value for key '" + Show(key) + "'");
    HEARTH_ASSIGN_OR_RETURN(json::Value value, ParseValue(/*in_array=*/false));
    values_.emplace(full, key_pos);
    out_.as_object().emplace_back(full, std::move(value));
    return ExpectLineEnd("the value of '" + Show(full) + "'");
  }

  // ---- values ----
  Result<json::Value> ParseValue(bool in_array) {
    const char c = Peek();
    if (c == '"' || c == '\'') {
      if (AtTripleQuote()) return ErrorAt(pos_, "multi-line strings are not supported");
      HEARTH_ASSIGN_OR_RETURN(std::string s, c == '"' ? ParseBasicString() : ParseLiteralString());
      return json::Value(std::move(s));
    }
    if (c == '[') {
      if (in_array) return ErrorAt(pos_, "nested arrays are not supported");
      return ParseArray();
    }
    if (c == '{') return ErrorAt(pos_, "inline tables ({...}) are not supported; use [table]");
    return ParseToken();
  }

  Result<std::string> ParseBasicString() {
    const size_t open = pos_++;
    std::string out;
    while (true) {
      if (AtEnd() || AtNewline()) {
        return ErrorAt(open, "unterminated string (a \"...\" string must end on its line)");
      }
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c != '\\') {
        out.push_back(c);  // already checked: valid UTF-8, no control characters but tab
        ++pos_;
        continue;
      }
      const size_t esc = pos_++;
      const char e = Peek();
      static constexpr std::string_view kEscaped = "btnfr\"\\";
      static constexpr std::string_view kMeaning = "\b\t\n\f\r\"\\";
      if (const size_t i = kEscaped.find(e); e != '\0' && i != std::string_view::npos) {
        out.push_back(kMeaning[i]);
        ++pos_;
        continue;
      }
      if (e != 'u' && e != 'U') {
        if (AtEnd() || AtNewline()) return ErrorAt(open, "unterminated string");
        return ErrorAt(esc, "invalid escape sequence '\\" + Describe(pos_).substr(1));
      }
      const size_t digits = e == 'u' ? 4 : 8;
      ++pos_;
      uint32_t cp = 0;
      for (size_t k = 0; k < digits; ++k) {
        const int h = HexValue(Peek());
        if (h < 0) return ErrorAt(esc, StrFormat("\\%c needs %zu hex digits", e, digits));
        cp = (cp << 4) | static_cast<uint32_t>(h);
        ++pos_;
      }
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return ErrorAt(esc, StrFormat("\\%c%0*X is not a Unicode scalar value", e,
                                      static_cast<int>(digits), cp));
      AppendUtf8(&out, cp);
    }
  }

  Result<std::string> ParseLiteralString() {
    const size_t open = pos_++;
    const size_t begin = pos_;
    while (Peek() != '\'') {
      if (AtEnd() || AtNewline())
        return ErrorAt(open, "unterminated string (a '...' string must end on its line)");
      ++pos_;
    }
    return std::string(s_.substr(begin, pos_++ - begin));
  }

  Result<json::Value> ParseArray() {
    const size_t open = pos_++;
    json::Value array(json::Value::Array{});
    while (true) {
      SkipBlank();
      if (AtEnd()) return ErrorAt(open, "unterminated array: no closing ']'");
      if (Peek() == ']') break;
      HEARTH_ASSIGN_OR_RETURN(json::Value v, ParseValue(/*in_array=*/true));
      array.Push(std::move(v));
      SkipBlank();
      if (AtEnd()) return ErrorAt(open, "unterminated array: no closing ']'");
      if (Peek() == ']') break;
      if (Peek() != ',')
        return ErrorAt(pos_, "expected ',' or ']' in the array, found " + Describe(pos_));
      ++pos_;
    }
    ++pos_;  // ']'
    return array;
  }

  // An unquoted value: true, false, an integer or a float.
  Result<json::Value> ParseToken() {
    const size_t start = pos_;
    while (IsTokenChar(Peek())) ++pos_;
    const std::string_view tok = s_.substr(start, pos_ - start);
    if (tok.empty()) return ErrorAt(start, "expected a value, found " + Describe(start));
    if (tok == "true") return json::Value(true);
    if (tok == "false") return json::Value(false);

    const std::string_view unsigned_tok =
        tok[0] == '+' || tok[0] == '-' ? tok.substr(1) : tok.substr(0);
    if (unsigned_tok == "inf" || unsigned_tok == "nan")
      return ErrorAt(start, "inf and nan are not allowed");
    if (tok.find(':') != std::string_view::npos ||
        (tok.size() >= 8 && IsDigit(tok[0]) && tok[4] == '-' && tok[7] == '-')) {
      return ErrorAt(start, "dates and times are not supported");
    }
    if (unsigned_tok.size() >= 2 && unsigned_tok[0] == '0' &&
        (unsigned_tok[1] == 'x' || unsigned_tok[1] == 'o' || unsigned_tok[1] == 'b')) {
      return ErrorAt(start, "only decimal integers are supported");
    }
    return ParseNumber(tok, start);
  }

  Result<json::Value> ParseNumber(std::string_view tok, size_t start) {
    const std::string bad = "invalid value '" + Show(tok) + "'";
    size_t i = tok[0] == '+' || tok[0] == '-' ? 1 : 0;
    const size_t int_begin = i;
    bool any = false;
    if (!ScanDigits(tok, &i, &any)) return ErrorAt(start, bad + ": '_' must be between digits");
    if (!any) return ErrorAt(start, bad);
    if (tok[int_begin] == '0' && i - int_begin > 1)
      return ErrorAt(start, bad + ": leading zeros are not allowed");
    bool is_float = false;
    if (i < tok.size() && tok[i] == '.') {
      ++i;
      is_float = true;
      if (!ScanDigits(tok, &i, &any) || !any)
        return ErrorAt(start, bad + ": expected digits after '.'");
    }
    if (i < tok.size() && (tok[i] == 'e' || tok[i] == 'E')) {
      ++i;
      is_float = true;
      if (i < tok.size() && (tok[i] == '+' || tok[i] == '-')) ++i;
      if (!ScanDigits(tok, &i, &any) || !any)
        return ErrorAt(start, bad + ": expected digits in the exponent");
    }
    if (i != tok.size()) return ErrorAt(start, bad);

    std::string clean;  // without '_' and a leading '+', which from_chars rejects
    for (size_t k = tok[0] == '+' ? 1 : 0; k < tok.size(); ++k)
      if (tok[k] != '_') clean.push_back(tok[k]);
    const char* first = clean.data();
    const char* last = clean.data() + clean.size();
    if (!is_float) {
      int64_t v = 0;
      const auto r = std::from_chars(first, last, v);
      if (r.ec != std::errc() || r.ptr != last)
        return ErrorAt(start, bad + ": integer out of range (64-bit)");
      return json::Value(v);
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last || !std::isfinite(d))
      return ErrorAt(start, bad + ": float out of range");
    return json::Value(d);
  }

  std::string_view s_;
  std::string_view file_;
  size_t pos_ = 0;
  std::string table_;  // the current [header], "" before the first one
  json::Value out_{json::Value::Object{}};
  std::map<std::string, size_t> values_;  // full key → where it was set
  std::map<std::string, size_t> tables_;  // explicit headers → where
  std::set<std::string> table_prefixes_;  // every header and each of its prefixes
};

bool IsFlagName(std::string_view name) {
  if (name.empty() || name[0] == '-') return false;
  for (const char c : name)
    if (!IsBareKeyChar(c) || c == '_') return false;
  return true;
}

Status ValueError(std::string_view key, const std::string& what) {
  return InvalidArgumentError("config key '" + EscapeForDisplay(key, 60) + "': " + what,
                              "config.value");
}

// The flag text of a scalar; errors for null, objects and arrays.
Result<std::string> ScalarText(std::string_view key, const json::Value& v) {
  if (v.is_bool()) return std::string(v.as_bool() ? "true" : "false");
  if (v.is_string()) {
    if (v.as_string().find('\0') != std::string::npos)
      return ValueError(key, "contains a NUL character");
    return v.as_string();
  }
  if (v.is_number()) {
    if (v.is_integer()) return std::to_string(v.as_int());
    const double d = v.as_double();
    if (!std::isfinite(d)) return ValueError(key, "number is not finite");
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), d);
    return std::string(buf, r.ptr);
  }
  return ValueError(key, v.is_null()    ? "null has no flag value"
                         : v.is_array() ? "nested arrays are not supported"
                                        : "tables must be flattened first (ParseConfigToml)");
}

}  // namespace

Result<json::Value> ParseConfigToml(std::string_view text, std::string_view file_name) {
  return TomlParser(text, file_name).Parse();
}

Result<json::Value> LoadConfigToml(const std::string& path) {
  HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxConfigBytes));
  return ParseConfigToml(text, path);
}

std::string CanonicalFlagName(std::string_view key) {
  if (StartsWith(key, "--")) key.remove_prefix(2);
  std::string out(key);
  for (char& c : out)
    if (c == '_' || c == '.') c = '-';
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ConfigToArgs(const json::Value& flat) {
  if (!flat.is_object())
    return InvalidArgumentError("config: expected a table of keys", "config.value");
  std::vector<std::pair<std::string, std::string>> args;
  std::map<std::string, std::string> owner;  // flag name → the key that set it
  for (const auto& member : flat.as_object()) {
    const std::string& key = member.first;
    const json::Value& v = member.second;
    const std::string name = CanonicalFlagName(key);
    if (!IsFlagName(name)) {
      return InvalidArgumentError("config key '" + EscapeForDisplay(key, 60) +
                                      "' is not an option name (letters, digits, '-', '_')",
                                  "config.key");
    }
    const auto inserted = owner.emplace(name, key);
    if (!inserted.second) {
      return InvalidArgumentError(StrFormat("config keys '%s' and '%s' both set --%s",
                                            EscapeForDisplay(inserted.first->second, 60).c_str(),
                                            EscapeForDisplay(key, 60).c_str(), name.c_str()),
                                  "config.key");
    }
    std::string flag = "--" + name;
    if (v.is_bool()) {
      if (v.as_bool()) args.emplace_back(std::move(flag), std::string());
      continue;
    }
    if (v.is_array()) {
      const json::Value::Array& items = v.as_array();
      if (items.empty()) return ValueError(key, "empty array; leave the key out instead");
      std::vector<std::string> parts;
      for (const json::Value& item : items) {
        HEARTH_ASSIGN_OR_RETURN(std::string text, ScalarText(key, item));
        if (text.empty()) return ValueError(key, "empty array element");
        if (text.find(',') != std::string::npos) {
          return ValueError(key, "array element '" + EscapeForDisplay(text, 60) +
                                     "' contains ',' (arrays are passed comma-joined)");
        }
        parts.push_back(std::move(text));
      }
      args.emplace_back(std::move(flag), StrJoin(parts, ","));
      continue;
    }
    HEARTH_ASSIGN_OR_RETURN(std::string text, ScalarText(key, v));
    if (text.empty()) return ValueError(key, "empty string; leave the key out instead");
    args.emplace_back(std::move(flag), std::move(text));
  }
  return args;
}

}  // namespace hearth::server
