#include "tokenizer/chat/template.h"

#include <algorithm>

#include "tokenizer/chat/ast.h"
#include "tokenizer/chat/lexer.h"
#include "tokenizer/chat/parser.h"

namespace hearth::chat {

Result<Template> Template::Parse(std::string_view source) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  HEARTH_ASSIGN_OR_RETURN(Body body, ParseTokens(tokens));
  Template t;
  t.body_ = std::make_shared<const Body>(std::move(body));
  return t;
}

Result<std::string> Template::Render(const json::Value& context, const RenderLimits& limits) const {
  if (!context.is_object()) return InvalidArgumentError("template context must be a JSON object");
  return RenderBody(*body_, FromJson(context), limits);
}

Result<std::string> ApplyChatTemplate(std::string_view source, const json::Value& messages,
                                      const json::Value& tools_or_null, bool add_generation_prompt,
                                      const std::string& bos, const std::string& eos,
                                      const json::Value& extra_context) {
  json::Value ctx = json::Value::Object{};
  ctx.Set("messages", messages);
  ctx.Set("tools", tools_or_null);
  ctx.Set("documents", nullptr);
  ctx.Set("add_generation_prompt", add_generation_prompt);
  if (!bos.empty()) ctx.Set("bos_token", bos);
  if (!eos.empty()) ctx.Set("eos_token", eos);
  if (extra_context.is_object()) {
    for (const auto& [k, v] : extra_context.as_object()) ctx.Set(k, v);
  } else if (!extra_context.is_null()) {
    return InvalidArgumentError("extra_context must be a JSON object");
  }
  HEARTH_ASSIGN_OR_RETURN(Template t, Template::Parse(source));
  return t.Render(ctx);
}

std::string GuessTemplateFamily(std::string_view architecture,
                                const std::vector<std::string>& special_tokens) {
  const auto has = [&](std::string_view tok) {
    return std::find(special_tokens.begin(), special_tokens.end(), tok) != special_tokens.end();
  };
  if (has("<|im_start|>")) return "chatml";
  if (has("<|start_header_id|>")) return "llama3";
  if (has("<start_of_turn>")) return "gemma";
  if (has("<|assistant|>") && has("<|end|>")) return "phi3";
  if (architecture.find("gemma") != std::string_view::npos) return "gemma";
  if (architecture.find("phi3") != std::string_view::npos) return "phi3";
  if (architecture == "llama") return special_tokens.empty() ? "llama3" : "llama2";
  return "chatml";
}

}  // namespace hearth::chat
