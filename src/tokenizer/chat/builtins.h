// Filters, tests and Python methods of the chat-template language.
//
// All functions are pure. Errors carry plain messages ("unknown filter
// 'foo'", "join() takes ..."); the evaluator prefixes the template position.
// An unknown name is a NotFound error so the caller can tell "no such filter"
// from a failure inside one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tokenizer/chat/value.h"

namespace hearth::chat {

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;

  // Positional argument `index`, else keyword `name`, else nullptr.
  const Value* Get(size_t index, std::string_view name) const;
};

// Strings produced by filters and methods longer than this are errors.
inline constexpr size_t kMaxStringBytes = size_t{64} << 20;
// Lists built by operators (+, *) and range() longer than this are errors.
inline constexpr size_t kMaxListItems = size_t{1} << 20;

// `value | name(args)`.
Result<Value> ApplyFilter(std::string_view name, const Value& value, const CallArgs& args);
// `value is name(args)`.
Result<bool> ApplyTest(std::string_view name, const Value& value, const CallArgs& args);
// `obj.name(args)` for str, list and dict methods (startswith, split, items, get, ...).
Result<Value> CallMethod(const Value& obj, std::string_view name, const CallArgs& args);
// Python slicing obj[start:stop:step] of a list or string (null = omitted).
Result<Value> SliceValue(const Value& obj, const Value* start, const Value* stop,
                         const Value* step);
// `len()` of strings (code points), lists and dicts.
Result<int64_t> Length(const Value& v);
// Items iterated by `for`: list elements, dict keys, string characters; undefined is empty.
Result<Value::List> IterItems(const Value& v);

// Binary operators: + - * / // % ** ~ == != < <= > >= in "not in" (not and/or,
// which short-circuit in the evaluator). Undefined operands of arithmetic are
// errors naming the undefined value, as Jinja2's default Undefined does.
Result<Value> BinaryOp(std::string_view op, const Value& a, const Value& b);
// Global functions other than raise_exception: range, namespace, dict, strftime_now.
Result<Value> CallGlobalFunction(std::string_view name, const CallArgs& args, int64_t max_range);

}  // namespace hearth::chat
