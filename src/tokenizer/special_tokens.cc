#include "tokenizer/special_tokens.h"

#include <algorithm>

#include "tokenizer/unicode/unicode.h"

namespace hearth::tok::internal {
namespace {

// Length of the whitespace code point ending at text[end-1] (0 if none).
size_t WhitespaceBefore(std::string_view text, size_t end) {
  if (end == 0) return 0;
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) {
    --start;
  }
  size_t pos = start;
  uint32_t cp = unicode::DecodeUtf8(text, &pos);
  if (pos != end || !unicode::IsWhitespace(cp)) return 0;
  return end - start;
}

// Length of the whitespace code point starting at text[pos] (0 if none).
size_t WhitespaceAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return 0;
  size_t p = pos;
  uint32_t cp = unicode::DecodeUtf8(text, &p);
  if (cp == unicode::kReplacementChar && p == pos + 1) return 0;
  return unicode::IsWhitespace(cp) ? p - pos : 0;
}

}  // namespace

void AddedTokenMatcher::Build(const std::vector<AddedToken>& tokens) {
  nodes_.assign(1, Node{});
  tokens_.clear();
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  for (const AddedToken& t : tokens) {
    if (t.content.empty() || t.id < 0) continue;
    int32_t node = 0;
    for (char c : t.content) {
      const uint8_t b = static_cast<uint8_t>(c);
      auto& next = nodes_[node].next;
      auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, int32_t{-1}));
      if (it != next.end() && it->first == b) {
        node = it->second;
      } else {
        const int32_t child = static_cast<int32_t>(nodes_.size());
        next.insert(it, {b, child});
        nodes_.push_back(Node{});
        node = child;
      }
    }
    first_byte_[static_cast<uint8_t>(t.content[0])] = true;
    // The same content twice: the later entry wins (as a piece -> id map would).
    if (nodes_[node].token >= 0) {
      tokens_[nodes_[node].token] = {t.id, t.special, t.lstrip, t.rstrip};
    } else {
      nodes_[node].token = static_cast<int32_t>(tokens_.size());
      tokens_.push_back({t.id, t.special, t.lstrip, t.rstrip});
    }
  }
}

size_t AddedTokenMatcher::MatchAt(std::string_view text, size_t pos, bool parse_special,
                                  int32_t* token) const {
  size_t best = 0;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto& next = nodes_[node].next;
    const uint8_t b = static_cast<uint8_t>(text[i]);
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, int32_t{-1}));
    if (it == next.end() || it->first != b) break;
    node = it->second;
    const int32_t t = nodes_[node].token;
    if (t >= 0 && (parse_special || !tokens_[t].special)) {
      best = i + 1 - pos;
      *token = t;
    }
  }
  return best;
}

void AddedTokenMatcher::Split(std::string_view text, bool parse_special,
                              std::vector<Fragment>* out) const {
  out->clear();
  size_t text_start = 0;  // start of the pending text fragment
  size_t pos = 0;
  const bool any = !empty();
  while (any && pos < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t token = -1;
    const size_t len = MatchAt(text, pos, parse_special, &token);
    if (len == 0) {
      ++pos;
      continue;
    }
    const Entry& e = tokens_[token];
    size_t text_end = pos;
    if (e.lstrip) {
      while (size_t n = WhitespaceBefore(text.substr(0, text_end), text_end)) {
        if (text_end - n < text_start) break;
        text_end -= n;
      }
    }
    if (text_end > text_start) out->push_back({-1, text.substr(text_start, text_end - text_start)});
    out->push_back({e.id, text.substr(pos, len)});
    pos += len;
    if (e.rstrip) {
      while (size_t n = WhitespaceAt(text, pos)) pos += n;
    }
    text_start = pos;
  }
  if (text_start < text.size()) out->push_back({-1, text.substr(text_start)});
}

}  // namespace hearth::tok::internal
