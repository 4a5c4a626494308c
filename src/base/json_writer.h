// Streaming JSON output, for large documents that need no Value tree.
//
//   json::Writer w(/*indent=*/-1);
//   w.BeginObject();
//   w.Key("model");  w.String("qwen3");
//   w.Key("ids");    w.BeginArray(); w.Int(1); w.Int(2); w.EndArray();
//   w.EndObject();
//   w.str();  // {"model":"qwen3","ids":[1,2]}
//
// The Writer inserts commas, colons and (when indent >= 0) newlines and
// indentation itself. Its rules are those of json::Serialize (which is built
// on it): strings escape '"', '\\' and control characters, keep valid UTF-8
// as-is and turn each byte of invalid UTF-8 into U+FFFD; integers are exact;
// doubles use the shortest round-tripping form; NaN and infinities become null.
//
// Misuse is a programmer bug and aborts (HEARTH_CHECK): a value inside an
// object without a Key() first, Key() outside an object, an End that does not
// match its Begin, a second top-level value, or str() before the document is
// complete. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"

namespace hearth::json {

class Writer {
 public:
  // indent < 0: compact. indent >= 0: pretty, `indent` spaces per level.
  explicit Writer(int indent = -1) : indent_(indent) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);

  void String(std::string_view s);
  void Int(int64_t i);
  // Written exactly, even above INT64_MAX (Parse reads such numbers back as doubles).
  void Uint(uint64_t u);
  void Double(double d);
  void Bool(bool b);
  void Null();
  // Embeds a whole Value (recursing once per nesting level).
  void Raw(const Value& value);

  // The finished document. Requires exactly one complete top-level value.
  const std::string& str() const;
  // Same, moving the text out; the Writer must not be used afterwards.
  std::string TakeStr();

 private:
  struct Level {
    bool is_object;
    bool has_items = false;  // a separator is due before the next item
    bool has_key = false;    // (objects) Key() written, its value is due
  };

  // Bookkeeping around every value: separators before, completion after.
  void BeforeValue();
  void AfterValue();
  // ',' if needed, then newline and indentation when pretty.
  void Separate(Level& level);
  void Close(bool is_object);

  int indent_;
  std::string out_;
  std::vector<Level> stack_;
  bool done_ = false;
};

// The JSON string literal for `s`, quotes included: Quote("a\"b") == "\"a\\\"b\"".
std::string Quote(std::string_view s);

namespace internal {
// The building blocks of Writer and Serialize, appending to *out.
void AppendQuoted(std::string* out, std::string_view s);
void AppendDouble(std::string* out, double d);
}  // namespace internal

}  // namespace hearth::json
