// Chat templates: a Jinja-subset interpreter for tokenizer.chat_template.
//
//   HEARTH_ASSIGN_OR_RETURN(chat::Template t, chat::Template::Parse(source));
//   HEARTH_ASSIGN_OR_RETURN(std::string prompt, t.Render(context));
//
// Semantics follow the environment Hugging Face transformers uses for
// apply_chat_template (Jinja2 ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols; tojson = json.dumps(ensure_ascii=False) keeping
// key order). Rendering is deterministic except for strftime_now(). The
// supported subset is documented in docs/templates.md; anything outside it
// fails with an error naming the construct and its position, never a crash.
//
// Errors: parse and render failures are InvalidArgument "template line L,
// column C: what" (reason "template.syntax" / "template.render"); exceeding a
// RenderLimits bound is ResourceExhausted (reason "template.limit");
// raise_exception("msg") yields exactly "msg" (reason "template.raise").
//
// Thread safety: a Template is immutable; Render may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "tokenizer/chat/evaluator.h"

namespace hearth::chat {

struct Stmt;

class Template {
 public:
  static Result<Template> Parse(std::string_view source);

  // `context` must be a JSON object; its members are the template variables.
  Result<std::string> Render(const json::Value& context, const RenderLimits& limits = {}) const;

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
};

// Builds the context transformers' apply_chat_template passes (messages,
// tools (null when tools_or_null is null), documents (null),
// add_generation_prompt, bos_token / eos_token (omitted when empty), then the
// members of extra_context (an object, or null)) and renders `source`.
Result<std::string> ApplyChatTemplate(std::string_view source, const json::Value& messages,
                                      const json::Value& tools_or_null, bool add_generation_prompt,
                                      const std::string& bos, const std::string& eos,
                                      const json::Value& extra_context);

// Built-in fallback templates for models without tokenizer.chat_template:
// "chatml", "llama2", "llama3", "gemma", "phi3". Unknown names give "".
std::string_view BuiltinTemplate(std::string_view name);
// The names BuiltinTemplate knows.
std::vector<std::string_view> BuiltinTemplateNames();

// A built-in family for a model: from its architecture (general.architecture)
// and, when present, the special tokens of its vocabulary. Defaults to "chatml".
std::string GuessTemplateFamily(std::string_view architecture,
                                const std::vector<std::string>& special_tokens);

}  // namespace hearth::chat
