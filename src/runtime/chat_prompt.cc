#include "runtime/chat_prompt.h"

#include "base/strings.h"
#include "tokenizer/chat/template.h"

namespace hearth::runtime {
namespace {

bool IsRole(const std::string& r) {
  return r == "system" || r == "user" || r == "assistant" || r == "tool";
}

// Indices where turns start: each user message after the leading system message.
std::vector<size_t> TurnStarts(const json::Value::Array& msgs) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].Find("role")->as_string() == "user") starts.push_back(i);
  }
  return starts;
}

// Message contents that contain special-token text (e.g. a user typing
// "<|im_start|>"), located in the rendered prompt in message order.
std::vector<std::pair<size_t, size_t>> ProtectedSpans(const std::string& text,
                                                      const json::Value& messages,
                                                      const tok::Tokenizer& tokenizer) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t from = 0;
  for (const json::Value& m : messages.as_array()) {
    const json::Value* c = m.Find("content");
    if (c == nullptr || !c->is_string() || c->as_string().empty()) continue;
    const std::string& content = c->as_string();
    bool risky = false;
    for (const tok::AddedToken& t : tokenizer.vocab().added_tokens) {
      if (t.special && !t.content.empty() && content.find(t.content) != std::string::npos) {
        risky = true;
        break;
      }
    }
    // Templates may trim the content; look for it as written, then trimmed.
    std::string_view needle = content;
    size_t at = text.find(needle, from);
    if (at == std::string::npos) {
      needle = StripWhitespace(content);
      at = needle.empty() ? std::string::npos : text.find(needle, from);
    }
    if (at == std::string::npos) continue;
    if (risky) spans.emplace_back(at, at + needle.size());
    from = at + needle.size();
  }
  return spans;
}

// The template's own markers become control tokens; special-token text inside
// message contents stays plain text (DESIGN §5). Without such text the whole
// prompt is tokenized in one piece.
std::vector<int32_t> TokenizeRendered(const std::string& text, const json::Value& messages,
                                      const tok::Tokenizer& tokenizer) {
  tok::EncodeOptions markers;
  markers.parse_special = true;
  markers.add_special = false;
  tok::EncodeOptions plain;
  plain.parse_special = false;
  plain.add_special = false;
  std::vector<int32_t> ids;
  size_t pos = 0;
  for (const auto& [begin, end] : ProtectedSpans(text, messages, tokenizer)) {
    std::vector<int32_t> a =
        tokenizer.Encode(std::string_view(text).substr(pos, begin - pos), markers);
    std::vector<int32_t> b =
        tokenizer.Encode(std::string_view(text).substr(begin, end - begin), plain);
    ids.insert(ids.end(), a.begin(), a.end());
    ids.insert(ids.end(), b.begin(), b.end());
    pos = end;
  }
  std::vector<int32_t> rest = tokenizer.Encode(std::string_view(text).substr(pos), markers);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

}  // namespace

Status ValidateMessages(const json::Value& messages) {
  if (!messages.is_array() || messages.as_array().empty()) {
    return InvalidArgumentError("messages must be a non-empty array", "empty_messages");
  }
  const auto& arr = messages.as_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    const json::Value& m = arr[i];
    const json::Value* role = m.Find("role");
    if (role == nullptr || !role->is_string()) {
      return InvalidArgumentError(StrFormat("messages[%zu].role must be a string", i),
                                  "invalid_parameter");
    }
    if (!IsRole(role->as_string())) {
      return InvalidArgumentError(StrFormat("messages[%zu].role '%s' is not one of system, user, "
                                            "assistant, tool",
                                            i, role->as_string().c_str()),
                                  "invalid_role");
    }
    const json::Value* content = m.Find("content");
    if (content != nullptr && !content->is_string() && !content->is_null()) {
      return InvalidArgumentError(StrFormat("messages[%zu].content must be a string", i),
                                  "invalid_parameter");
    }
  }
  return Status::Ok();
}

Result<ChatFormatter> ChatFormatter::Create(std::string source, std::string bos, std::string eos) {
  auto parsed = chat::Template::Parse(source);
  if (!parsed.ok()) return parsed.status().WithContext("chat template");
  ChatFormatter f;
  f.source_ = std::move(source);
  f.bos_ = std::move(bos);
  f.eos_ = std::move(eos);
  return f;
}

Result<ChatFormatter> ChatFormatter::ForTokenizer(const std::string& source,
                                                  const std::string& arch,
                                                  const tok::Tokenizer& tokenizer) {
  const tok::VocabData& v = tokenizer.vocab();
  const std::string bos = v.bos_id >= 0 ? v.tokens[v.bos_id] : "";
  const std::string eos = v.eos_id >= 0 ? v.tokens[v.eos_id] : "";
  if (!source.empty()) return Create(source, bos, eos);
  std::vector<std::string> specials;
  for (const tok::AddedToken& t : v.added_tokens) {
    if (t.special) specials.push_back(t.content);
  }
  const std::string family = chat::GuessTemplateFamily(arch, specials);
  return Create(std::string(chat::BuiltinTemplate(family)), bos, eos);
}

Result<ChatPrompt> ChatFormatter::Render(const json::Value& messages,
                                         const tok::Tokenizer& tokenizer,
                                         const ChatPromptOptions& opts) const {
  ChatPrompt p;
  HEARTH_ASSIGN_OR_RETURN(
      p.text, chat::ApplyChatTemplate(source_, messages, opts.tools, opts.add_generation_prompt,
                                      bos_, eos_, opts.extra_context));
  p.ids = TokenizeRendered(p.text, messages, tokenizer);
  const tok::VocabData& v = tokenizer.vocab();
  if (v.add_bos && v.bos_id >= 0 && (p.ids.empty() || p.ids.front() != v.bos_id)) {
    p.ids.insert(p.ids.begin(), v.bos_id);
  }
  return p;
}

Result<ChatPrompt> ChatFormatter::Build(const json::Value& messages,
                                        const tok::Tokenizer& tokenizer,
                                        const ChatPromptOptions& opts) const {
  HEARTH_RETURN_IF_ERROR(ValidateMessages(messages));
  if (opts.n_ctx <= 0 || opts.max_tokens < 0) {
    return InvalidArgumentError("context and max_tokens must be positive", "invalid_parameter");
  }
  if (opts.max_tokens >= opts.n_ctx) {
    return InvalidArgumentError(StrFormat("max_tokens %d leaves no room for a prompt in a context "
                                          "of %d",
                                          opts.max_tokens, opts.n_ctx),
                                "max_tokens_too_large");
  }
  const int budget = opts.n_ctx - opts.max_tokens;
  HEARTH_ASSIGN_OR_RETURN(ChatPrompt full, Render(messages, tokenizer, opts));
  if (static_cast<int>(full.ids.size()) <= budget) return full;
  const auto too_long = [&](size_t n) {
    return OutOfRangeError(StrFormat("the prompt is %zu tokens; with max_tokens %d it exceeds the "
                                     "context of %d by %zu",
                                     n, opts.max_tokens, opts.n_ctx, n - budget),
                           "prompt_too_long");
  };
  if (opts.truncation == Truncation::kNone) return too_long(full.ids.size());

  // Drop whole oldest turns, keeping a leading system message and the last user turn.
  const json::Value::Array& all = messages.as_array();
  const bool has_system = all.front().Find("role")->as_string() == "system";
  const std::vector<size_t> starts = TurnStarts(all);
  size_t best_size = full.ids.size();
  for (size_t drop = 1; drop < starts.size(); ++drop) {
    json::Value::Array kept;
    if (has_system) kept.push_back(all.front());
    for (size_t i = starts[drop]; i < all.size(); ++i) kept.push_back(all[i]);
    const json::Value trimmed(kept);
    HEARTH_ASSIGN_OR_RETURN(ChatPrompt p, Render(trimmed, tokenizer, opts));
    best_size = p.ids.size();
    if (static_cast<int>(p.ids.size()) <= budget) {
      p.truncated = true;
      p.dropped_turns = static_cast<int>(drop);
      p.dropped_messages = static_cast<int>(all.size() - kept.size());
      return p;
    }
  }
  return too_long(best_size);
}

}  // namespace hearth::runtime
