// `hearth template`: renders a chat template (a model's tokenizer.chat_template
// or a template file) for a conversation, printing exactly the prompt.
#include <cstdio>
#include <string>

#include "args.h"
#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "commands.h"
#include "format/gguf.h"
#include "tokenizer/chat/lexer.h"
#include "tokenizer/chat/template.h"

namespace hearth::cli {
namespace {

struct TemplateSource {
  std::string text;
  std::string bos, eos;  // from the model's vocabulary, when it is a GGUF
};

// The text of token `key` (a token id) of a GGUF vocabulary, or "".
std::string TokenText(const GgufFile& f, const char* key) {
  auto id = f.GetUint(key);
  const GgufValue* tokens = f.Find("tokenizer.ggml.tokens");
  if (!id.ok() || tokens == nullptr || !tokens->is_array() ||
      tokens->elem_type() != GgufValueType::kString || *id >= tokens->size()) {
    return "";
  }
  return std::string(tokens->StringAt(*id));
}

Result<TemplateSource> LoadSource(const std::string& path, const std::string& builtin) {
  TemplateSource src;
  if (!builtin.empty()) {
    src.text = std::string(chat::BuiltinTemplate(builtin));
    if (src.text.empty()) {
      return InvalidArgumentError("--builtin: unknown template '" + builtin + "'", "cli.bad_value");
    }
    if (path.empty() || !EndsWith(path, ".gguf")) return src;
  }
  if (EndsWith(path, ".gguf")) {
    HEARTH_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(path));
    if (builtin.empty()) {
      auto t = f.GetString("tokenizer.chat_template");
      if (!t.ok())
        return t.status().WithContext("'" + path + "' has no chat template (try --builtin)");
      src.text = std::string(*t);
    }
    src.bos = TokenText(f, "tokenizer.ggml.bos_token_id");
    src.eos = TokenText(f, "tokenizer.ggml.eos_token_id");
    return src;
  }
  HEARTH_ASSIGN_OR_RETURN(src.text, ReadFileToString(path, chat::kMaxTemplateBytes + 1));
  return src;
}

}  // namespace

int RunTemplate(int argc, char** argv) {
  ArgParser p("hearth template", "Render a chat template for a conversation.");
  p.Positional("MODEL", "a GGUF model (its tokenizer.chat_template) or a template file", false);
  p.Option("messages", 'm', "FILE",
           "JSON object: messages, and optional tools, bos_token, eos_token, "
           "add_generation_prompt, extra_context");
  p.Flag("add-generation-prompt", 'g', "end with the assistant header (overrides the file)");
  p.Option("builtin", 0, "NAME", "use a built-in template: chatml, llama2, llama3, gemma, phi3");
  p.Epilog(
      "Prints exactly the rendered prompt (no newline is added).\n"
      "Examples:\n"
      "  hearth template model.gguf --messages chat.json --add-generation-prompt\n"
      "  hearth template chat_template.jinja --messages case.json\n"
      "  hearth template --builtin chatml --messages chat.json");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("template", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  const std::string path = args->positionals.empty() ? "" : args->positionals[0];
  const std::string builtin = args->Get("builtin");
  if (path.empty() && builtin.empty()) {
    return ReportError("template",
                       InvalidArgumentError("give a MODEL, a template file or --builtin "
                                            "(see 'hearth template --help')",
                                            "cli.usage"));
  }
  if (!args->Has("messages")) {
    return ReportError("template",
                       InvalidArgumentError("--messages FILE is required", "cli.usage"));
  }
  auto src = LoadSource(path, builtin);
  if (!src.ok()) return ReportError("template", src.status());
  auto text = ReadFileToString(args->Get("messages"), size_t{256} << 20);
  if (!text.ok()) return ReportError("template", text.status());
  auto doc = json::Parse(*text);
  if (!doc.ok()) return ReportError("template", doc.status().WithContext(args->Get("messages")));
  const json::Value* messages = doc->Find("messages");
  if (messages == nullptr || !messages->is_array()) {
    return ReportError("template",
                       InvalidArgumentError(args->Get("messages") +
                                            ": expected an object with a 'messages' list"));
  }
  const auto str_or = [&](const char* key, const std::string& fallback) {
    const json::Value* v = doc->Find(key);
    if (v == nullptr) return fallback;
    return v->is_string() ? v->as_string() : std::string();  // null: no token
  };
  const json::Value* gen = doc->Find("add_generation_prompt");
  const bool add_gen =
      args->Has("add-generation-prompt") || (gen != nullptr && gen->is_bool() && gen->as_bool());
  const json::Value* tools = doc->Find("tools");
  const json::Value* extra = doc->Find("extra_context");
  auto out = chat::ApplyChatTemplate(src->text, *messages, tools ? *tools : json::Value(), add_gen,
                                     str_or("bos_token", src->bos), str_or("eos_token", src->eos),
                                     extra ? *extra : json::Value());
  if (!out.ok()) return ReportError("template", out.status());
  std::fwrite(out->data(), 1, out->size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace hearth::cli
