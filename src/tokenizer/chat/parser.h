// Parser of the chat-template language: tokens -> statement tree.
// Errors name the line and column ("template line 3, column 14: ...");
// nesting deeper than kMaxNesting (blocks or expressions) is an error, so a
// hostile template cannot exhaust the stack.
#pragma once

#include <vector>

#include "base/status.h"
#include "tokenizer/chat/ast.h"
#include "tokenizer/chat/lexer.h"

namespace hearth::chat {

inline constexpr int kMaxNesting = 200;

Result<Body> ParseTokens(const std::vector<Token>& tokens);

}  // namespace hearth::chat
