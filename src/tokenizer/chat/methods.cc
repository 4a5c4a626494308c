// Python str/list/dict methods, slicing and iteration (see builtins.h).
#include <algorithm>

#include "base/strings.h"
#include "tokenizer/chat/builtins.h"
#include "tokenizer/chat/text_util.h"

namespace hearth::chat {

const Value* CallArgs::Get(size_t index, std::string_view name) const {
  if (index < pos.size()) return &pos[index];
  for (const auto& [k, v] : kw) {
    if (k == name) return &v;
  }
  return nullptr;
}

Result<int64_t> Length(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
      return int64_t{0};
    case Value::Kind::kString:
      return static_cast<int64_t>(CodepointCount(v.text));
    case Value::Kind::kList:
      return static_cast<int64_t>(v.list->size());
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return static_cast<int64_t>(v.dict->size());
    default:
      return InvalidArgumentError(StrFormat("object of type '%s' has no len()", TypeName(v)));
  }
}

Result<Value::List> IterItems(const Value& v) {
  Value::List out;
  switch (v.kind) {
    case Value::Kind::kUndefined:
      return out;
    case Value::Kind::kList:
      return *v.list;
    case Value::Kind::kDict:
      for (const auto& [k, unused] : *v.dict) out.push_back(Value::Str(k));
      return out;
    case Value::Kind::kString:
      for (std::string_view c : SplitCodepoints(v.text)) out.push_back(Value::Str(std::string(c)));
      return out;
    default:
      return InvalidArgumentError(StrFormat("'%s' object is not iterable", TypeName(v)));
  }
}

Result<Value> SliceValue(const Value& obj, const Value* start, const Value* stop,
                         const Value* step) {
  const auto get = [](const Value* v, const char* what, int64_t* out) -> Status {
    if (v == nullptr || v->is_none()) return Status::Ok();
    if (!v->is_intlike()) {
      return InvalidArgumentError(StrFormat("slice %s must be an integer or None", what));
    }
    *out = v->as_int();
    return Status::Ok();
  };
  int64_t st = 1;
  HEARTH_RETURN_IF_ERROR(get(step, "step", &st));
  if (st == 0) return InvalidArgumentError("slice step cannot be zero");
  std::vector<std::string_view> chars;
  int64_t n = 0;
  if (obj.is_string()) {
    chars = SplitCodepoints(obj.text);
    n = static_cast<int64_t>(chars.size());
  } else if (obj.is_list()) {
    n = static_cast<int64_t>(obj.list->size());
  } else if (obj.is_undefined()) {
    return InvalidArgumentError(obj.text.empty() ? "value is undefined" : obj.text);
  } else {
    return InvalidArgumentError(StrFormat("'%s' object is not subscriptable", TypeName(obj)));
  }
  int64_t lo = st > 0 ? 0 : n - 1, hi = st > 0 ? n : -1;
  const auto clamp = [&](int64_t x, bool is_start) {
    if (x < 0) x += n;
    if (st > 0) return std::clamp<int64_t>(x, 0, n);
    (void)is_start;
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  int64_t a = 0, b = 0;
  if (start != nullptr && !start->is_none()) {
    HEARTH_RETURN_IF_ERROR(get(start, "start", &a));
    lo = clamp(a, true);
  }
  if (stop != nullptr && !stop->is_none()) {
    HEARTH_RETURN_IF_ERROR(get(stop, "stop", &b));
    hi = clamp(b, false);
  }
  Value::List items;
  std::string s;
  for (int64_t k = lo; st > 0 ? k < hi : k > hi; k += st) {
    if (obj.is_string()) {
      s += chars[static_cast<size_t>(k)];
    } else {
      items.push_back((*obj.list)[static_cast<size_t>(k)]);
    }
  }
  return obj.is_string() ? Value::Str(std::move(s)) : Value::MakeList(std::move(items));
}

namespace {

Status ArgCount(std::string_view name, const CallArgs& a, size_t lo, size_t hi) {
  const size_t n = a.pos.size() + a.kw.size();
  if (n < lo || n > hi) {
    return InvalidArgumentError(StrFormat("%.*s() takes %zu to %zu arguments (%zu given)",
                                          static_cast<int>(name.size()), name.data(), lo, hi, n));
  }
  return Status::Ok();
}

Result<std::string> StrArg(std::string_view method, const Value* v) {
  if (v == nullptr || !v->is_string()) {
    return InvalidArgumentError(StrFormat("%.*s() argument must be a string",
                                          static_cast<int>(method.size()), method.data()));
  }
  return v->text;
}

Result<Value> StringMethod(const std::string& s, std::string_view name, const CallArgs& a) {
  if (name == "startswith" || name == "endswith") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 1, 1));
    const Value* arg = a.Get(0, "prefix");
    std::vector<std::string> options;
    if (arg != nullptr && arg->is_list()) {
      for (const Value& o : *arg->list) {
        HEARTH_ASSIGN_OR_RETURN(std::string x, StrArg(name, &o));
        options.push_back(std::move(x));
      }
    } else {
      HEARTH_ASSIGN_OR_RETURN(std::string x, StrArg(name, arg));
      options.push_back(std::move(x));
    }
    for (const std::string& o : options) {
      if (name == "startswith" ? StartsWith(s, o) : EndsWith(s, o)) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 0, 1));
    const Value* chars = a.Get(0, "chars");
    std::string set;
    const bool custom = chars != nullptr && !chars->is_none();
    if (custom) {
      HEARTH_ASSIGN_OR_RETURN(set, StrArg(name, chars));
    }
    return Value::Str(PyStrip(s, custom ? &set : nullptr, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 0, 2));
    const Value* sep = a.Get(0, "sep");
    const Value* max = a.Get(1, "maxsplit");
    int64_t maxsplit = -1;
    if (max != nullptr) {
      if (!max->is_intlike()) return InvalidArgumentError("maxsplit must be an integer");
      maxsplit = max->as_int();
    }
    std::string sep_text;
    const bool has_sep = sep != nullptr && !sep->is_none();
    if (has_sep) {
      HEARTH_ASSIGN_OR_RETURN(sep_text, StrArg(name, sep));
      if (sep_text.empty()) return InvalidArgumentError("empty separator");
    }
    Value::List out;
    for (std::string& part :
         PySplit(s, has_sep ? &sep_text : nullptr, maxsplit, name == "rsplit")) {
      out.push_back(Value::Str(std::move(part)));
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "replace") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 2, 3));
    HEARTH_ASSIGN_OR_RETURN(std::string from, StrArg(name, a.Get(0, "old")));
    HEARTH_ASSIGN_OR_RETURN(std::string to, StrArg(name, a.Get(1, "new")));
    const Value* count = a.Get(2, "count");
    const int64_t n = count != nullptr && count->is_intlike() ? count->as_int() : -1;
    return PyReplace(s, from, to, n);
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "swapcase") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 0, 0));
    return Value::Str(ChangeCase(s, name));
  }
  if (name == "find" || name == "rfind" || name == "count" || name == "index") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 1, 1));
    HEARTH_ASSIGN_OR_RETURN(std::string sub, StrArg(name, a.Get(0, "sub")));
    if (name == "count") {
      if (sub.empty()) return Value::Int(static_cast<int64_t>(CodepointCount(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::Int(n);
    }
    const size_t p = name == "rfind" ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (name == "index") return InvalidArgumentError("substring not found");
      return Value::Int(-1);
    }
    return Value::Int(static_cast<int64_t>(CodepointCount(std::string_view(s).substr(0, p))));
  }
  if (name == "join") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 1, 1));
    HEARTH_ASSIGN_OR_RETURN(Value::List items, IterItems(*a.Get(0, "iterable")));
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (!items[k].is_string()) {
        return InvalidArgumentError(
            StrFormat("sequence item %zu: expected str instance, %s found", k, TypeName(items[k])));
      }
      if (k) out += s;
      out += items[k].text;
      if (out.size() > kMaxStringBytes) return ResourceExhaustedError("join result too large");
    }
    return Value::Str(std::move(out));
  }
  if (name == "splitlines") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 0, 0));
    Value::List out;
    for (std::string& line : SplitLines(s)) out.push_back(Value::Str(std::move(line)));
    return Value::MakeList(std::move(out));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "isupper" || name == "islower") {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 0, 0));
    return Value::Bool(CharClassTest(s, name));
  }
  return NotFoundError(
      StrFormat("'str' object has no method '%.*s'", static_cast<int>(name.size()), name.data()));
}

}  // namespace

Result<Value> CallMethod(const Value& obj, std::string_view name, const CallArgs& a) {
  if (obj.is_string()) return StringMethod(obj.text, name, a);
  if (obj.is_dict()) {
    if (name == "items" || name == "keys" || name == "values") {
      HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 0, 0));
      Value::List out;
      for (const auto& [k, v] : *obj.dict) {
        if (name == "items") {
          out.push_back(Value::MakeList({Value::Str(k), v}));
        } else {
          out.push_back(name == "keys" ? Value::Str(k) : v);
        }
      }
      return Value::MakeList(std::move(out));
    }
    if (name == "get") {
      HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 1, 2));
      const Value* key = a.Get(0, "key");
      const Value* def = a.Get(1, "default");
      const Value* found = key->is_string() ? obj.Find(key->text) : nullptr;
      if (found != nullptr) return *found;
      return def != nullptr ? *def : Value::None();
    }
  }
  if (obj.is_list() && (name == "index" || name == "count")) {
    HEARTH_RETURN_IF_ERROR(ArgCount(name, a, 1, 1));
    int64_t n = 0;
    for (size_t k = 0; k < obj.list->size(); ++k) {
      if (!Equals((*obj.list)[k], a.pos.empty() ? a.kw[0].second : a.pos[0])) continue;
      if (name == "index") return Value::Int(static_cast<int64_t>(k));
      ++n;
    }
    if (name == "index") return InvalidArgumentError("value is not in list");
    return Value::Int(n);
  }
  if ((obj.is_list() || obj.is_dict()) &&
      (name == "append" || name == "pop" || name == "extend" || name == "insert" ||
       name == "remove" || name == "clear" || name == "update" || name == "setdefault" ||
       name == "sort" || name == "reverse" || name == "popitem")) {
    return InvalidArgumentError(StrFormat("unsafe method '%.*s': templates cannot modify %s values",
                                          static_cast<int>(name.size()), name.data(),
                                          TypeName(obj)));
  }
  return NotFoundError(StrFormat("'%s' object has no method '%.*s'", TypeName(obj),
                                 static_cast<int>(name.size()), name.data()));
}

}  // namespace hearth::chat
