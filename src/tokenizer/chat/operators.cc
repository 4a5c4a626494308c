// Binary operators and global functions (see builtins.h).
#include <cmath>
#include <ctime>

#include "base/strings.h"
#include "tokenizer/chat/builtins.h"

namespace hearth::chat {
namespace {

Status Unsupported(std::string_view op, const Value& a, const Value& b) {
  return InvalidArgumentError(StrFormat("unsupported operand type(s) for %.*s: '%s' and '%s'",
                                        static_cast<int>(op.size()), op.data(), TypeName(a),
                                        TypeName(b)));
}

bool Numeric(const Value& v) {
  return v.is_number() || v.kind == Value::Kind::kBool;
}

Result<Value> Repeat(const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value::Str("") : Value::MakeList();
  const size_t unit = seq.is_string() ? seq.text.size() : seq.list->size();
  const size_t limit = seq.is_string() ? kMaxStringBytes : kMaxListItems;
  if (unit != 0 && static_cast<uint64_t>(n) > limit / unit) {
    return ResourceExhaustedError("repetition result too large");
  }
  if (seq.is_string()) {
    std::string out;
    out.reserve(unit * static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) out += seq.text;
    return Value::Str(std::move(out));
  }
  Value::List out;
  for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::MakeList(std::move(out));
}

Result<Value> Arith(std::string_view op, const Value& a, const Value& b) {
  if (a.is_intlike() && b.is_intlike() && op != "/" && op != "**") {
    const int64_t x = a.as_int(), y = b.as_int();
    int64_t r = 0;
    bool overflow = false;
    if (op == "+") {
      overflow = __builtin_add_overflow(x, y, &r);
    } else if (op == "-") {
      overflow = __builtin_sub_overflow(x, y, &r);
    } else if (op == "*") {
      overflow = __builtin_mul_overflow(x, y, &r);
    } else {  // "//" and "%": Python floors toward negative infinity
      if (y == 0) return InvalidArgumentError("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return InvalidArgumentError("integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      r = op == "//" ? q : m;
    }
    if (overflow) return InvalidArgumentError("integer overflow");
    return Value::Int(r);
  }
  const double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value::Float(x + y);
  if (op == "-") return Value::Float(x - y);
  if (op == "*") return Value::Float(x * y);
  if (op == "**") {
    if (a.is_intlike() && b.is_intlike() && b.as_int() >= 0) {
      const double r = std::pow(x, y);
      if (std::fabs(r) >= 9.2e18) return InvalidArgumentError("integer overflow");
      return Value::Int(static_cast<int64_t>(r));
    }
    return Value::Float(std::pow(x, y));
  }
  if (y == 0) return InvalidArgumentError("division by zero");
  if (op == "/") return Value::Float(x / y);
  if (op == "//") return Value::Float(std::floor(x / y));
  double m = std::fmod(x, y);
  if (m != 0 && ((m < 0) != (y < 0))) m += y;
  return Value::Float(m);
}

}  // namespace

Result<Value> BinaryOp(std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return Value::Bool(Equals(a, b));
  if (op == "!=") return Value::Bool(!Equals(a, b));
  if (op == "~") return Value::Str(ToStr(a) + ToStr(b));
  if (op == "in" || op == "not in") {
    bool found = false;
    if (b.is_string()) {
      if (!a.is_string()) {
        return InvalidArgumentError(
            StrFormat("'in <string>' requires string as left operand, not %s", TypeName(a)));
      }
      found = b.text.find(a.text) != std::string::npos;
    } else if (b.is_dict() || b.kind == Value::Kind::kNamespace) {
      found = a.is_string() && b.Find(a.text) != nullptr;
    } else if (b.is_list()) {
      for (const Value& x : *b.list) found = found || Equals(x, a);
    } else if (!b.is_undefined()) {
      return InvalidArgumentError(StrFormat("argument of type '%s' is not iterable", TypeName(b)));
    }
    return Value::Bool(found != (op == "not in"));
  }
  for (const Value* v : {&a, &b}) {
    if (v->is_undefined())
      return InvalidArgumentError(v->text.empty() ? "value is undefined" : v->text);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    HEARTH_ASSIGN_OR_RETURN(int c, Compare(a, b));
    if (op == "<") return Value::Bool(c < 0);
    if (op == "<=") return Value::Bool(c <= 0);
    if (op == ">") return Value::Bool(c > 0);
    return Value::Bool(c >= 0);
  }
  if (Numeric(a) && Numeric(b)) return Arith(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value::Str(a.text + b.text);
    if (a.is_list() && b.is_list()) {
      if (a.list->size() + b.list->size() > kMaxListItems) {
        return ResourceExhaustedError("list concatenation result too large");
      }
      Value::List out = *a.list;
      out.insert(out.end(), b.list->begin(), b.list->end());
      return Value::MakeList(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && b.is_intlike()) return Repeat(a, b.as_int());
    if ((b.is_string() || b.is_list()) && a.is_intlike()) return Repeat(b, a.as_int());
  }
  if (op == "%" && a.is_string()) {
    return UnimplementedError("printf-style string formatting ('%') is not supported");
  }
  return Unsupported(op, a, b);
}

Result<Value> CallGlobalFunction(std::string_view name, const CallArgs& a, int64_t max_range) {
  if (name == "range") {
    if (!a.kw.empty() || a.pos.empty() || a.pos.size() > 3) {
      return InvalidArgumentError("range() takes 1 to 3 integer arguments");
    }
    for (const Value& v : a.pos) {
      if (!v.is_intlike()) return InvalidArgumentError("range() arguments must be integers");
    }
    int64_t start = 0, stop = 0, step = 1;
    if (a.pos.size() == 1) {
      stop = a.pos[0].as_int();
    } else {
      start = a.pos[0].as_int();
      stop = a.pos[1].as_int();
      if (a.pos.size() == 3) step = a.pos[2].as_int();
    }
    if (step == 0) return InvalidArgumentError("range() arg 3 must not be zero");
    const long double count =
        step > 0
            ? std::ceil((static_cast<long double>(stop) - start) / step)
            : std::ceil((static_cast<long double>(start) - stop) / -static_cast<long double>(step));
    if (count > static_cast<long double>(max_range)) {
      return ResourceExhaustedError(
          StrFormat("range() longer than %lld items", static_cast<long long>(max_range)));
    }
    Value::List out;
    for (int64_t k = 0; k < static_cast<int64_t>(count); ++k)
      out.push_back(Value::Int(start + k * step));
    return Value::MakeList(std::move(out));
  }
  if (name == "namespace" || name == "dict") {
    Value::Dict members;
    if (!a.pos.empty()) {
      if (a.pos.size() != 1 || !(a.pos[0].is_dict() || a.pos[0].kind == Value::Kind::kNamespace)) {
        return InvalidArgumentError(std::string(name) + "() takes a mapping and keyword arguments");
      }
      members = *a.pos[0].dict;
    }
    for (const auto& [k, v] : a.kw) members.emplace_back(k, v);
    return name == "dict" ? Value::MakeDict(std::move(members))
                          : Value::Namespace(std::move(members));
  }
  if (name == "strftime_now") {
    if (a.pos.size() != 1 || !a.pos[0].is_string()) {
      return InvalidArgumentError("strftime_now() takes a format string");
    }
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[256];
    const size_t n = std::strftime(buf, sizeof(buf), a.pos[0].text.c_str(), &tm);
    return Value::Str(std::string(buf, n));
  }
  return UnimplementedError("unsupported function '" + std::string(name) + "'");
}

}  // namespace hearth::chat
