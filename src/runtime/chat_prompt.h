// Chat messages -> prompt ids: validation, template rendering, tokenization and
// context budgeting (DESIGN §5).
//
// The prompt plus max_tokens must fit the context. By default a prompt that
// does not fit is rejected with the counts (reason "prompt_too_long"). With
// Truncation::kOldestTurns, whole oldest turns (a user message and the replies
// that follow it) are dropped until it fits; the system message and the latest
// user turn are always kept, and the result says what was dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace hearth::runtime {

enum class Truncation { kNone, kOldestTurns };

struct ChatPromptOptions {
  int n_ctx = 0;
  int max_tokens = 0;
  Truncation truncation = Truncation::kNone;
  bool add_generation_prompt = true;
  json::Value tools;          // null or an array
  json::Value extra_context;  // null or an object (e.g. {"enable_thinking": false})
};

struct ChatPrompt {
  std::string text;          // the rendered template
  std::vector<int32_t> ids;  // what the model sees
  bool truncated = false;
  int dropped_messages = 0;
  int dropped_turns = 0;
};

class ChatFormatter {
 public:
  // `source` is a Jinja chat template; bos/eos are the token texts it may use.
  static Result<ChatFormatter> Create(std::string source, std::string bos, std::string eos);

  // For a tokenizer: the given template source, or (when empty) the built-in
  // template of the family guessed from the vocabulary's special tokens.
  static Result<ChatFormatter> ForTokenizer(const std::string& source, const std::string& arch,
                                            const tok::Tokenizer& tokenizer);

  // Checks `messages` (a non-empty array of {role, content}; roles system, user,
  // assistant, tool; reasons "empty_messages" / "invalid_role" /
  // "invalid_parameter"), renders, tokenizes (template markers become control
  // tokens; BOS added only if the vocabulary wants it and the template did not
  // write it) and applies the budget.
  Result<ChatPrompt> Build(const json::Value& messages, const tok::Tokenizer& tokenizer,
                           const ChatPromptOptions& opts) const;

  const std::string& source() const { return source_; }

 private:
  Result<ChatPrompt> Render(const json::Value& messages, const tok::Tokenizer& tokenizer,
                            const ChatPromptOptions& opts) const;
  std::string source_, bos_, eos_;
};

// Checks the shape of a messages array (see Build).
Status ValidateMessages(const json::Value& messages);

}  // namespace hearth::runtime
