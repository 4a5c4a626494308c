// Internal: splitting text on added tokens (HF "added tokens", GGUF
// CONTROL/USER_DEFINED tokens) before the model runs.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tok::internal {

// A run of text for the model (id == -1) or one matched added token.
struct Fragment {
  int32_t id = -1;
  std::string_view text;
};

// Leftmost-longest matcher over the added tokens' literal content (a byte
// trie). Immutable after Build; Split is thread-safe.
//
// Semantics: scanning left to right, at each position the longest eligible
// token that starts there wins (eligible: every token when parse_special,
// else only tokens with special == false). This is Hugging Face's added-token
// matching; llama.cpp instead matches the longest token text everywhere first,
// which differs only when two added tokens overlap in the text. lstrip/rstrip
// tokens absorb adjacent whitespace (ASCII and Unicode White_Space).
class AddedTokenMatcher {
 public:
  void Build(const std::vector<AddedToken>& tokens);
  bool empty() const { return nodes_.size() <= 1; }
  // Replaces *out with the fragments of `text` (text fragments never empty).
  void Split(std::string_view text, bool parse_special, std::vector<Fragment>* out) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;  // sorted by byte
    int32_t token = -1;                             // index into tokens_, -1 if none
  };
  struct Entry {
    int32_t id;
    bool special, lstrip, rstrip;
  };
  // Longest eligible match at text[pos:]; returns its length (0 if none) and token index.
  size_t MatchAt(std::string_view text, size_t pos, bool parse_special, int32_t* token) const;

  std::vector<Node> nodes_;
  std::vector<Entry> tokens_;
  bool first_byte_[256] = {};
};

}  // namespace hearth::tok::internal
