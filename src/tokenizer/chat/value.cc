#include "tokenizer/chat/value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/strings.h"

namespace hearth::chat {

Value Value::Undefined(std::string name) {
  Value v;
  v.text = std::move(name);
  return v;
}
Value Value::None() {
  Value v;
  v.kind = Kind::kNone;
  return v;
}
Value Value::Bool(bool x) {
  Value v;
  v.kind = Kind::kBool;
  v.b = x;
  return v;
}
Value Value::Int(int64_t x) {
  Value v;
  v.kind = Kind::kInt;
  v.i = x;
  return v;
}
Value Value::Float(double x) {
  Value v;
  v.kind = Kind::kFloat;
  v.f = x;
  return v;
}
Value Value::Str(std::string s) {
  Value v;
  v.kind = Kind::kString;
  v.text = std::move(s);
  return v;
}
Value Value::MakeList(List items) {
  Value v;
  v.kind = Kind::kList;
  v.list = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::MakeDict(Dict items) {
  Value v;
  v.kind = Kind::kDict;
  v.dict = std::make_shared<Dict>(std::move(items));
  return v;
}
Value Value::Namespace(Dict items) {
  Value v = MakeDict(std::move(items));
  v.kind = Kind::kNamespace;
  return v;
}
Value Value::Function(std::string name) {
  Value v;
  v.kind = Kind::kFunction;
  v.text = std::move(name);
  return v;
}

double Value::as_double() const {
  if (kind == Kind::kFloat) return f;
  return static_cast<double>(as_int());
}

const Value* Value::Find(std::string_view key) const {
  if (!dict) return nullptr;
  for (auto it = dict->rbegin(); it != dict->rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

Value FromJson(const json::Value& v) {
  switch (v.type()) {
    case json::Value::Type::kNull:
      return Value::None();
    case json::Value::Type::kBool:
      return Value::Bool(v.as_bool());
    case json::Value::Type::kNumber: {
      if (v.is_integer()) {
        // json::Value keeps integer literals exact; a double with an integral
        // value (3.0) serializes with a fraction or exponent.
        const std::string s = json::Serialize(v);
        if (s.find_first_of(".eE") == std::string::npos) return Value::Int(v.as_int());
      }
      return Value::Float(v.as_double());
    }
    case json::Value::Type::kString:
      return Value::Str(v.as_string());
    case json::Value::Type::kArray: {
      Value::List items;
      items.reserve(v.as_array().size());
      for (const json::Value& e : v.as_array()) items.push_back(FromJson(e));
      return Value::MakeList(std::move(items));
    }
    case json::Value::Type::kObject: {
      Value::Dict items;
      items.reserve(v.as_object().size());
      for (const auto& [k, e] : v.as_object()) items.emplace_back(k, FromJson(e));
      return Value::MakeDict(std::move(items));
    }
  }
  return Value::None();
}

bool Truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kBool:
      return v.b;
    case Value::Kind::kInt:
      return v.i != 0;
    case Value::Kind::kFloat:
      return v.f != 0;
    case Value::Kind::kString:
      return !v.text.empty();
    case Value::Kind::kList:
      return !v.list->empty();
    case Value::Kind::kDict:
      return !v.dict->empty();
    default:
      return true;
  }
}

const char* TypeName(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "NoneType";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kFloat:
      return "float";
    case Value::Kind::kString:
      return "str";
    case Value::Kind::kList:
      return "list";
    case Value::Kind::kDict:
      return "dict";
    case Value::Kind::kNamespace:
      return "Namespace";
    case Value::Kind::kFunction:
      return "function";
    case Value::Kind::kMacro:
      return "Macro";
  }
  return "object";
}

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf: [-]D[.DDD]e(+|-)XX
  std::string s = buf;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    s.erase(0, 1);
  }
  const size_t e = s.find('e');
  const int exp = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t k = 0; k < e; ++k) {
    if (s[k] != '.') digits += s[k];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string int_part = digits.substr(0, std::min<size_t>(digits.size(), exp + 1));
      while (static_cast<int>(int_part.size()) < exp + 1) int_part += '0';
      std::string frac =
          digits.size() > static_cast<size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out += int_part + "." + frac;
    } else {
      out += "0." + std::string(-exp - 1, '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += StrFormat("e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  }
  return out;
}

std::string ToStr(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kString:
      return v.text;
    case Value::Kind::kFunction:
      return "<function " + v.text + ">";
    default:
      return Repr(v);
  }
}

namespace {

std::string ReprString(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == q) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += StrFormat("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += q;
  return out;
}

void JsonString(const std::string& s, std::string* out) {
  *out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          *out += StrFormat("\\u%04x", c);
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

constexpr int kMaxJsonDepth = 256;

}  // namespace

std::string Repr(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.b ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kFloat:
      return FloatRepr(v.f);
    case Value::Kind::kString:
      return ReprString(v.text);
    case Value::Kind::kList: {
      std::string out = "[";
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) out += ", ";
        out += Repr((*v.list)[k]);
      }
      return out + "]";
    }
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: {
      std::string out = v.kind == Value::Kind::kDict ? "{" : "<Namespace {";
      for (size_t k = 0; k < v.dict->size(); ++k) {
        if (k) out += ", ";
        out += ReprString((*v.dict)[k].first) + ": " + Repr((*v.dict)[k].second);
      }
      return out + (v.kind == Value::Kind::kDict ? "}" : "}>");
    }
    case Value::Kind::kFunction:
      return "<function " + v.text + ">";
    case Value::Kind::kMacro:
      return "<Macro>";
  }
  return "";
}

Result<std::string> ToJson(const Value& v, int indent, int depth) {
  if (depth > kMaxJsonDepth) return InvalidArgumentError("tojson: value nested too deeply");
  const std::string nl =
      indent >= 0 ? "\n" + std::string(static_cast<size_t>(indent) * (depth + 1), ' ') : "";
  const std::string nl_end =
      indent >= 0 ? "\n" + std::string(static_cast<size_t>(indent) * depth, ' ') : "";
  const char* sep = indent >= 0 ? "," : ", ";
  switch (v.kind) {
    case Value::Kind::kNone:
      return std::string("null");
    case Value::Kind::kBool:
      return std::string(v.b ? "true" : "false");
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kFloat:
      if (std::isnan(v.f)) return std::string("NaN");
      if (std::isinf(v.f)) return std::string(v.f > 0 ? "Infinity" : "-Infinity");
      return FloatRepr(v.f);
    case Value::Kind::kString: {
      std::string out;
      JsonString(v.text, &out);
      return out;
    }
    case Value::Kind::kList: {
      if (v.list->empty()) return std::string("[]");
      std::string out = "[";
      for (size_t k = 0; k < v.list->size(); ++k) {
        out += k ? sep + nl : nl;
        HEARTH_ASSIGN_OR_RETURN(std::string e, ToJson((*v.list)[k], indent, depth + 1));
        out += e;
      }
      return out + nl_end + "]";
    }
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: {
      if (v.dict->empty()) return std::string("{}");
      std::string out = "{";
      for (size_t k = 0; k < v.dict->size(); ++k) {
        out += k ? sep + nl : nl;
        JsonString((*v.dict)[k].first, &out);
        out += ": ";
        HEARTH_ASSIGN_OR_RETURN(std::string e, ToJson((*v.dict)[k].second, indent, depth + 1));
        out += e;
      }
      return out + nl_end + "}";
    }
    default:
      return InvalidArgumentError(
          StrFormat("Object of type %s is not JSON serializable", TypeName(v)));
  }
}

bool Equals(const Value& a, const Value& b) {
  if (a.is_undefined() || b.is_undefined()) return a.is_undefined() && b.is_undefined();
  const bool an = a.is_number() || a.kind == Value::Kind::kBool;
  const bool bn = b.is_number() || b.kind == Value::Kind::kBool;
  if (an && bn) {
    if (a.is_intlike() && b.is_intlike()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
    case Value::Kind::kFunction:
      return a.text == b.text;
    case Value::Kind::kList:
      if (a.list->size() != b.list->size()) return false;
      for (size_t k = 0; k < a.list->size(); ++k) {
        if (!Equals((*a.list)[k], (*b.list)[k])) return false;
      }
      return true;
    case Value::Kind::kDict: {
      if (a.dict->size() != b.dict->size()) return false;
      for (const auto& [key, val] : *a.dict) {  // Python dict equality ignores order
        const Value* other = b.Find(key);
        if (other == nullptr || !Equals(val, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace:
      return a.dict == b.dict;
    case Value::Kind::kMacro:
      return a.macro == b.macro;
    default:
      return false;
  }
}

Result<int> Compare(const Value& a, const Value& b) {
  const bool an = a.is_number() || a.kind == Value::Kind::kBool;
  const bool bn = b.is_number() || b.kind == Value::Kind::kBool;
  if (an && bn) {
    if (a.is_intlike() && b.is_intlike()) {
      return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    }
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.text.compare(b.text);  // UTF-8 byte order == code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const size_t n = std::min(a.list->size(), b.list->size());
    for (size_t k = 0; k < n; ++k) {
      if (Equals((*a.list)[k], (*b.list)[k])) continue;
      return Compare((*a.list)[k], (*b.list)[k]);
    }
    return a.list->size() < b.list->size() ? -1 : (a.list->size() > b.list->size() ? 1 : 0);
  }
  return InvalidArgumentError(
      StrFormat("'<' not supported between instances of '%s' and '%s'", TypeName(a), TypeName(b)));
}

std::vector<std::string_view> SplitCodepoints(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  size_t k = 0;
  while (k < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[k]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 1;
    if (k + len > s.size()) len = s.size() - k;
    out.push_back(s.substr(k, len));
    k += len;
  }
  return out;
}

size_t CodepointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace hearth::chat
