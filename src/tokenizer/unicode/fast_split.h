// Internal: hand-written equivalents of the most common pre-tokenizer regexes.
// Each reproduces PCRE2's leftmost-first backtracking result for its pattern
// exactly (alternation order, greedy quantifiers, lookahead), including how
// invalid UTF-8 behaves under PCRE2_MATCH_INVALID_UTF (it matches nothing and
// satisfies (?!\S)). pretokenizer_test.cc checks them against PCRE2 on large
// randomized inputs.
#pragma once

#include <string_view>
#include <vector>

namespace hearth::unicode::internal {

enum class FastPattern : int {
  kNone = 0,
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|
  // \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+   (llama.cpp's form)
  kLlama3,
  // The same with \p{N} instead of \p{N}{1,3}.
  kQwen2,
  // kLlama3 / kQwen2 with (?i:'s|...) as tokenizer.json writes it: Unicode
  // caseless, so "'\u017F" (long s) is a contraction too.
  kLlama3Caseless,
  kQwen2Caseless,
};

// Appends the pieces of `text` (matches and the gaps between them) to *out.
void FastSplit(FastPattern pattern, std::string_view text, std::vector<std::string_view>* out);

}  // namespace hearth::unicode::internal
