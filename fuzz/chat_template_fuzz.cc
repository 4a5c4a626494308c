// Fuzzes the chat-template interpreter (src/tokenizer/chat/template.h). A
// model file's tokenizer.chat_template is untrusted text that `run`, `serve`
// and `chat` render for every request.
//
// Input: byte 0 chooses the conversation (bit 0: add_generation_prompt, bit 1:
// with tools, bit 2: with an assistant tool call); the rest is the template
// source. Any source must parse or be refused with InvalidArgument
// "template.syntax"; a parsed template must render the conversation or fail
// with "template.render" (InvalidArgument), "template.limit"
// (ResourceExhausted) or "template.raise", within small limits (so that the
// fuzzer stays fast), never with another status and never by crashing. A
// rendered text stays within the output limit, and a second render gives the
// same text (rendering is deterministic; templates calling strftime_now are
// exempt).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "base/json.h"
#include "tokenizer/chat/template.h"

using namespace hearth;

namespace {

constexpr std::string_view kMessages = R"([
  {"role": "system", "content": "You are terse."},
  {"role": "user", "content": "Hi \u00e9\u4e16 <b>&</b>"},
  {"role": "assistant", "content": "Hello.", "tool_calls": [{"type": "function",
    "function": {"name": "get_time", "arguments": {"tz": "UTC", "n": [1, 2.5, null, true]}}}]},
  {"role": "tool", "content": "12:00"},
  {"role": "user", "content": ""}
])";

constexpr std::string_view kTools = R"([{"type": "function", "function": {
  "name": "get_time", "description": "Current time",
  "parameters": {"type": "object", "properties": {"tz": {"type": "string"}},
                 "required": ["tz"]}}}])";

json::Value Parsed(std::string_view text) {
  Result<json::Value> v = json::Parse(text);
  HEARTH_CHECK(v.ok(), "fuzz context does not parse");
  return std::move(v).value();
}

json::Value MakeContext(uint8_t flags) {
  const json::Value messages = Parsed(kMessages);
  const json::Value tools = Parsed(kTools);
  json::Value msgs = messages;
  if ((flags & 4) == 0) {
    // Without the tool call and its result: the assistant's plain reply.
    json::Value::Array plain;
    const json::Value::Array& all = messages.as_array();
    for (size_t i = 0; i < all.size(); ++i) {
      if (i == 2) {
        plain.push_back(json::Value::Object{{"role", "assistant"}, {"content", "Hello."}});
      } else if (i != 3) {
        plain.push_back(all[i]);
      }
    }
    msgs = json::Value(std::move(plain));
  }
  return json::Value::Object{
      {"messages", std::move(msgs)}, {"tools", (flags & 2) != 0 ? tools : json::Value()},
      {"documents", nullptr},        {"add_generation_prompt", (flags & 1) != 0},
      {"bos_token", "<s>"},          {"eos_token", "</s>"}};
}

// The conversation of byte 0's low three bits, built once per choice.
const json::Value& Context(uint8_t flags) {
  static const std::vector<json::Value> contexts = [] {
    std::vector<json::Value> c;
    for (uint8_t f = 0; f < 8; ++f) c.push_back(MakeContext(f));
    return c;
  }();
  return contexts[flags & 7];
}

bool Allowed(const Status& s) {
  const std::string& r = s.reason();
  if (r == "template.syntax" || r == "template.render") {
    return s.code() == StatusCode::kInvalidArgument;
  }
  if (r == "template.limit") return s.code() == StatusCode::kResourceExhausted;
  return r == "template.raise";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view source(reinterpret_cast<const char*>(data + 1), size - 1);
  Result<chat::Template> t = chat::Template::Parse(source);
  if (!t.ok()) {
    HEARTH_CHECK(t.status().reason() == "template.syntax" &&
                     t.status().code() == StatusCode::kInvalidArgument,
                 "unexpected parse status: %s", t.status().ToString().c_str());
    return 0;
  }
  chat::RenderLimits limits;
  limits.max_output_bytes = 64 << 10;
  limits.max_steps = 20'000;
  limits.max_range = 1'000;
  const json::Value& context = Context(flags);
  Result<std::string> out = t->Render(context, limits);
  if (!out.ok()) {
    HEARTH_CHECK(Allowed(out.status()), "unexpected render status: %s",
                 out.status().ToString().c_str());
    return 0;
  }
  HEARTH_CHECK(out->size() <= limits.max_output_bytes, "output over the limit: %zu bytes",
               out->size());
  if (source.find("strftime_now") == std::string_view::npos) {
    Result<std::string> again = t->Render(context, limits);
    HEARTH_CHECK(again.ok() && *again == *out, "a second render differs");
  }
  return 0;
}
