// Lexer of the chat-template language: splits template text into data and
// tag tokens, applying the whitespace rules of the environment transformers
// uses (trim_blocks, lstrip_blocks, `-`/`+` modifiers, one trailing newline
// of the source dropped, newlines normalized to "\n").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hearth::chat {

struct Token {
  enum class Kind : uint8_t {
    kText,        // template data, already whitespace-processed
    kVarBegin,    // {{
    kVarEnd,      // }}
    kBlockBegin,  // {%
    kBlockEnd,    // %}
    kName,
    kString,  // text holds the unescaped value
    kInt,
    kFloat,
    kOp,  // text holds the operator or punctuation
    kEof,
  };
  Kind kind;
  std::string text;
  int line = 1;
  int column = 1;
};

// "template line L, column C: what" (L and C 1-based, C in bytes).
std::string Where(int line, int column, std::string_view what);

// Source larger than this is rejected ("template.too_large").
inline constexpr size_t kMaxTemplateBytes = size_t{4} << 20;

Result<std::vector<Token>> Lex(std::string_view source);

}  // namespace hearth::chat
