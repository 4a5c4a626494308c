// Jinja filters and tests (see builtins.h).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/strings.h"
#include "tokenizer/chat/builtins.h"
#include "tokenizer/chat/text_util.h"

namespace hearth::chat {
namespace {

Status UndefinedError(const Value& v) {
  return InvalidArgumentError(v.text.empty() ? "value is undefined" : v.text);
}

// Attribute lookup used by map/selectattr/sort/join(attribute=...): "a.b" or "0".
Value AttrPath(const Value& v, const std::string& path) {
  Value cur = v;
  for (std::string_view part : StrSplit(path, '.')) {
    int64_t idx = 0;
    if (cur.is_list() && ParseInt64(part, &idx)) {
      if (idx < 0) idx += static_cast<int64_t>(cur.list->size());
      if (idx < 0 || idx >= static_cast<int64_t>(cur.list->size())) return Value::Undefined();
      cur = (*cur.list)[static_cast<size_t>(idx)];
      continue;
    }
    const Value* f = cur.Find(part);
    if (f == nullptr) return Value::Undefined();
    cur = *f;
  }
  return cur;
}

Result<Value::List> Items(const Value& v) {
  return IterItems(v);
}

Result<std::string> OptStr(const CallArgs& a, size_t i, const char* name, std::string fallback) {
  const Value* v = a.Get(i, name);
  if (v == nullptr || v->is_none()) return fallback;
  if (!v->is_string())
    return InvalidArgumentError(StrFormat("argument '%s' must be a string", name));
  return v->text;
}

bool OptBool(const CallArgs& a, size_t i, const char* name, bool fallback) {
  const Value* v = a.Get(i, name);
  return v == nullptr ? fallback : Truthy(*v);
}

Result<Value::List> Sorted(Value::List items, bool reverse, bool case_sensitive,
                           const std::string& attribute) {
  Status error;
  const auto key = [&](const Value& v) {
    Value k = attribute.empty() ? v : AttrPath(v, attribute);
    if (!case_sensitive && k.is_string()) k.text = ChangeCase(k.text, "lower");
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    auto c = Compare(key(x), key(y));
    if (!c.ok()) {
      if (error.ok()) error = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  if (!error.ok()) return error;
  return items;
}

Result<Value> SelectFilter(std::string_view name, const Value& value, const CallArgs& a) {
  const bool by_attr = name == "selectattr" || name == "rejectattr";
  const bool keep = name == "select" || name == "selectattr";
  HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
  size_t next = 0;
  std::string attr;
  if (by_attr) {
    if (a.pos.empty() || !a.pos[0].is_string()) {
      return InvalidArgumentError(std::string(name) + "() needs an attribute name");
    }
    attr = a.pos[0].text;
    next = 1;
  }
  std::string test;
  if (next < a.pos.size()) {
    if (!a.pos[next].is_string()) return InvalidArgumentError("test name must be a string");
    test = a.pos[next].text;
  }
  CallArgs targs;
  for (size_t k = next + 1; k < a.pos.size(); ++k) targs.pos.push_back(a.pos[k]);
  Value::List out;
  for (const Value& item : items) {
    const Value x = by_attr ? AttrPath(item, attr) : item;
    bool pass = Truthy(x);
    if (!test.empty()) {
      HEARTH_ASSIGN_OR_RETURN(pass, ApplyTest(test, x, targs));
    }
    if (pass == keep) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

Result<Value> StringFilter(std::string_view name, const Value& value, const CallArgs& a) {
  const std::string s = ToStr(value);
  if (name == "trim") {
    const Value* chars = a.Get(0, "chars");
    std::string set;
    const bool custom = chars != nullptr && !chars->is_none();
    if (custom) set = ToStr(*chars);
    return Value::Str(PyStrip(s, custom ? &set : nullptr, true, true));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    return Value::Str(ChangeCase(s, name));
  }
  if (name == "replace") {
    if (a.pos.size() < 2) return InvalidArgumentError("replace() needs old and new strings");
    const Value* count = a.Get(2, "count");
    return PyReplace(s, ToStr(a.pos[0]), ToStr(a.pos[1]),
                     count != nullptr && count->is_intlike() ? count->as_int() : -1);
  }
  if (name == "indent") {
    const Value* w = a.Get(0, "width");
    std::string pad = w == nullptr ? "    " : w->is_string() ? w->text : "";
    if (w != nullptr && w->is_intlike())
      pad.assign(static_cast<size_t>(std::clamp<int64_t>(w->as_int(), 0, 256)), ' ');
    const bool first = OptBool(a, 1, "first", false), blank = OptBool(a, 2, "blank", false);
    std::vector<std::string> lines = SplitLines(s + "\n");
    std::string out;
    for (size_t k = 0; k < lines.size(); ++k) {
      if (k) out += "\n";
      if ((k > 0 || first) && (blank || !lines[k].empty())) out += pad;
      out += lines[k];
    }
    return Value::Str(std::move(out));
  }
  if (name == "wordcount") {
    return Value::Int(static_cast<int64_t>(PySplit(s, nullptr, -1, false).size()));
  }
  if (name == "escape" || name == "e") {
    std::string out;
    for (char c : s) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&#34;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out += c;
      }
    }
    return Value::Str(std::move(out));
  }
  return NotFoundError("unknown filter '" + std::string(name) + "'");
}

}  // namespace

Result<Value> ApplyFilter(std::string_view name, const Value& value, const CallArgs& a) {
  if (name == "default" || name == "d") {
    const Value* def = a.Get(0, "default_value");
    const bool use = value.is_undefined() || (OptBool(a, 1, "boolean", false) && !Truthy(value));
    return use ? (def != nullptr ? *def : Value::Str("")) : value;
  }
  if (name == "safe" || name == "string") {
    return name == "safe" ? value : Value::Str(ToStr(value));
  }
  if (name == "tojson") {
    if (value.is_undefined()) return UndefinedError(value);
    const Value* indent = a.Get(0, "indent");
    const int n = indent != nullptr && indent->is_intlike()
                      ? static_cast<int>(std::clamp<int64_t>(indent->as_int(), 0, 64))
                      : -1;
    HEARTH_ASSIGN_OR_RETURN(std::string s, ToJson(value, n));
    return Value::Str(std::move(s));
  }
  if (name == "length" || name == "count") {
    HEARTH_ASSIGN_OR_RETURN(int64_t n, Length(value));
    return Value::Int(n);
  }
  if (name == "first" || name == "last") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    if (items.empty()) return Value::Undefined("no first/last item of an empty sequence");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    return Value::MakeList(std::move(items));
  }
  if (name == "reverse") {
    if (value.is_string()) {
      Value one = Value::Int(-1);
      return SliceValue(value, nullptr, nullptr, &one);
    }
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    std::reverse(items.begin(), items.end());
    return Value::MakeList(std::move(items));
  }
  if (name == "items" || name == "dictsort") {
    if (value.is_undefined()) return Value::MakeList();
    if (!value.is_dict()) return InvalidArgumentError("items filter needs a mapping");
    Value::List out;
    for (const auto& [k, v] : *value.dict) out.push_back(Value::MakeList({Value::Str(k), v}));
    if (name == "dictsort") {
      HEARTH_ASSIGN_OR_RETURN(out, Sorted(std::move(out), OptBool(a, 2, "reverse", false),
                                          OptBool(a, 0, "case_sensitive", false), "0"));
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "join") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    HEARTH_ASSIGN_OR_RETURN(std::string sep, OptStr(a, 0, "d", ""));
    HEARTH_ASSIGN_OR_RETURN(std::string attr, OptStr(a, 1, "attribute", ""));
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (k) out += sep;
      out += ToStr(attr.empty() ? items[k] : AttrPath(items[k], attr));
      if (out.size() > kMaxStringBytes) return ResourceExhaustedError("join result too large");
    }
    return Value::Str(std::move(out));
  }
  if (name == "sort") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    HEARTH_ASSIGN_OR_RETURN(std::string attr, OptStr(a, 2, "attribute", ""));
    HEARTH_ASSIGN_OR_RETURN(items, Sorted(std::move(items), OptBool(a, 0, "reverse", false),
                                          OptBool(a, 1, "case_sensitive", false), attr));
    return Value::MakeList(std::move(items));
  }
  if (name == "unique") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    Value::List out;
    for (const Value& v : items) {
      if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return Equals(o, v); })) {
        out.push_back(v);
      }
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "map") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    HEARTH_ASSIGN_OR_RETURN(std::string attr, OptStr(a, 99, "attribute", ""));
    const Value* def = a.Get(99, "default");
    Value::List out;
    CallArgs fargs;
    for (size_t k = 1; k < a.pos.size(); ++k) fargs.pos.push_back(a.pos[k]);
    for (const Value& v : items) {
      if (!attr.empty()) {
        Value x = AttrPath(v, attr);
        out.push_back(x.is_undefined() && def != nullptr ? *def : x);
      } else if (!a.pos.empty() && a.pos[0].is_string()) {
        HEARTH_ASSIGN_OR_RETURN(Value x, ApplyFilter(a.pos[0].text, v, fargs));
        out.push_back(std::move(x));
      } else {
        return InvalidArgumentError("map() needs a filter name or attribute=");
      }
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    return SelectFilter(name, value, a);
  }
  if (name == "attr") {
    if (a.pos.empty() || !a.pos[0].is_string()) return InvalidArgumentError("attr() needs a name");
    const Value* f = value.Find(a.pos[0].text);
    return f != nullptr ? *f : Value::Undefined();
  }
  if (name == "sum" || name == "min" || name == "max") {
    HEARTH_ASSIGN_OR_RETURN(Value::List items, Items(value));
    HEARTH_ASSIGN_OR_RETURN(std::string attr, OptStr(a, name == "sum" ? 0 : 1, "attribute", ""));
    if (!attr.empty()) {
      for (Value& v : items) v = AttrPath(v, attr);
    }
    if (name == "sum") {
      const Value* start = a.Get(1, "start");
      Value acc = start != nullptr ? *start : Value::Int(0);
      for (const Value& v : items) {
        if (!(v.is_number() || v.kind == Value::Kind::kBool) || !acc.is_number()) {
          return InvalidArgumentError("sum() needs numbers");
        }
        acc = acc.is_intlike() && v.is_intlike() ? Value::Int(acc.as_int() + v.as_int())
                                                 : Value::Float(acc.as_double() + v.as_double());
      }
      return acc;
    }
    if (items.empty()) return Value::Undefined("min/max of an empty sequence");
    HEARTH_ASSIGN_OR_RETURN(items, Sorted(std::move(items), false, false, ""));
    return name == "min" ? items.front() : items.back();
  }
  if (name == "int" || name == "float" || name == "abs" || name == "round") {
    const Value* def = a.Get(0, "default");
    double d = 0;
    int64_t i = 0;
    bool is_int = value.is_intlike();
    if (value.is_number() || value.kind == Value::Kind::kBool) {
      d = value.as_double();
      i = value.is_intlike() ? value.as_int() : static_cast<int64_t>(d);
    } else if (value.is_string() && ParseInt64(std::string(StripWhitespace(value.text)), &i)) {
      d = static_cast<double>(i);
      is_int = true;
    } else if (value.is_string() && ParseDouble(std::string(StripWhitespace(value.text)), &d)) {
      i = std::isfinite(d) && std::fabs(d) < 9e18 ? static_cast<int64_t>(d) : 0;
    } else if (name == "int" || name == "float") {
      return def != nullptr ? *def : (name == "int" ? Value::Int(0) : Value::Float(0));
    } else {
      return InvalidArgumentError(StrFormat("bad operand type for %.*s(): '%s'",
                                            static_cast<int>(name.size()), name.data(),
                                            TypeName(value)));
    }
    if (name == "int") return Value::Int(is_int ? i : static_cast<int64_t>(std::trunc(d)));
    if (name == "float") return Value::Float(d);
    if (name == "abs") return is_int ? Value::Int(i < 0 ? -i : i) : Value::Float(std::fabs(d));
    const Value* prec = a.Get(0, "precision");
    const double scale = std::pow(10.0, prec != nullptr && prec->is_intlike() ? prec->as_int() : 0);
    return Value::Float(std::round(d * scale) / scale);
  }
  return StringFilter(name, value, a);
}

Result<bool> ApplyTest(std::string_view name, const Value& v, const CallArgs& a) {
  using K = Value::Kind;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "sequence") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "number") return v.is_number() || v.kind == K::kBool;
  if (name == "integer") return v.kind == K::kInt;
  if (name == "float") return v.kind == K::kFloat;
  if (name == "boolean") return v.kind == K::kBool;
  if (name == "true") return v.kind == K::kBool && v.b;
  if (name == "false") return v.kind == K::kBool && !v.b;
  if (name == "callable") return v.kind == K::kFunction || v.kind == K::kMacro;
  if (name == "lower" || name == "upper") {
    return CharClassTest(ToStr(v), name == "lower" ? "islower" : "isupper");
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_intlike())
      return InvalidArgumentError("test '" + std::string(name) + "' needs an integer");
    if (name != "divisibleby") return (v.as_int() % 2 != 0) == (name == "odd");
    const Value* d = a.Get(0, "num");
    if (d == nullptr || !d->is_intlike() || d->as_int() == 0) {
      return InvalidArgumentError("divisibleby needs a non-zero integer");
    }
    return v.as_int() % d->as_int() == 0;
  }
  const Value* other = a.Get(0, "b");
  if (name == "eq" || name == "equalto" || name == "==" || name == "ne" || name == "!=" ||
      name == "sameas") {
    if (other == nullptr) return InvalidArgumentError("test needs an argument");
    const bool eq =
        name == "sameas" ? v.kind == other->kind && Equals(v, *other) : Equals(v, *other);
    return (name == "ne" || name == "!=") ? !eq : eq;
  }
  if (name == "lt" || name == "lessthan" || name == "<" || name == "gt" || name == "greaterthan" ||
      name == ">" || name == "le" || name == "<=" || name == "ge" || name == ">=") {
    if (other == nullptr) return InvalidArgumentError("test needs an argument");
    HEARTH_ASSIGN_OR_RETURN(int c, Compare(v, *other));
    if (name == "lt" || name == "lessthan" || name == "<") return c < 0;
    if (name == "gt" || name == "greaterthan" || name == ">") return c > 0;
    if (name == "le" || name == "<=") return c <= 0;
    return c >= 0;
  }
  if (name == "in") {
    if (other == nullptr) return InvalidArgumentError("test 'in' needs an argument");
    if (other->is_string() && v.is_string()) return other->text.find(v.text) != std::string::npos;
    if (other->is_dict()) return v.is_string() && other->Find(v.text) != nullptr;
    HEARTH_ASSIGN_OR_RETURN(Value::List items, IterItems(*other));
    return std::any_of(items.begin(), items.end(), [&](const Value& x) { return Equals(x, v); });
  }
  if (name == "escaped") return false;
  return NotFoundError("unknown test '" + std::string(name) + "'");
}

}  // namespace hearth::chat
