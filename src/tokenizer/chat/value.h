// Runtime values of the chat-template interpreter (a Jinja subset).
//
// Values follow Python/Jinja2 semantics closely enough for chat templates:
// lists and dicts are shared by reference (the sandbox never mutates them,
// except namespaces, whose attributes `{% set ns.x = ... %}` assigns), dicts
// keep insertion order (tojson depends on it), strings are UTF-8 and sliced
// and measured in code points like Python str.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace hearth::chat {

struct Stmt;

struct Value {
  enum class Kind : uint8_t {
    kUndefined,  // Jinja2's default Undefined; `text` holds the missing name
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kNamespace,  // namespace(...): a dict whose members can be assigned
    kFunction,   // a global function; `text` holds its name
    kMacro,      // {% macro %}; `macro` points into the template's tree
  };
  using List = std::vector<Value>;
  using Dict = std::vector<std::pair<std::string, Value>>;  // insertion order

  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string text;
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;
  const Stmt* macro = nullptr;

  static Value Undefined(std::string name = {});
  static Value None();
  static Value Bool(bool v);
  static Value Int(int64_t v);
  static Value Float(double v);
  static Value Str(std::string s);
  static Value MakeList(List items = {});
  static Value MakeDict(Dict items = {});
  static Value Namespace(Dict items = {});
  static Value Function(std::string name);

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_list() const { return kind == Kind::kList; }
  bool is_dict() const { return kind == Kind::kDict; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  // Python's bool is an int: True + 1 == 2.
  bool is_intlike() const { return kind == Kind::kInt || kind == Kind::kBool; }
  int64_t as_int() const { return kind == Kind::kBool ? (b ? 1 : 0) : i; }
  double as_double() const;

  // Member lookup (the last member named `key`), or nullptr. Dicts and namespaces.
  const Value* Find(std::string_view key) const;
};

// Converts parsed JSON (objects keep their order) to a runtime value.
Value FromJson(const json::Value& v);

// Python truthiness.
bool Truthy(const Value& v);
// Python type name for error messages ("str", "NoneType", "list", ...).
const char* TypeName(const Value& v);
// str(v): what `{{ v }}` prints. Undefined prints "".
std::string ToStr(const Value& v);
// repr(v) as Python prints it inside containers: 'a', [1, 'b'], {'k': None}.
std::string Repr(const Value& v);
// Python float repr: 1.0, 0.1, 1e+16, inf, nan.
std::string FloatRepr(double d);
// json.dumps(v, ensure_ascii=False, sort_keys=False): separators ", " and ": "
// (or "," and ": " with an indent >= 0, one member per line). Undefined,
// functions and macros are errors.
Result<std::string> ToJson(const Value& v, int indent = -1, int depth = 0);
// Python ==. Undefined equals only undefined.
bool Equals(const Value& a, const Value& b);
// Python <: -1/0/1 for numbers, strings and lists; an error for other types.
Result<int> Compare(const Value& a, const Value& b);

// UTF-8 helpers: strings are measured and indexed in code points.
std::vector<std::string_view> SplitCodepoints(std::string_view s);
size_t CodepointCount(std::string_view s);

}  // namespace hearth::chat
