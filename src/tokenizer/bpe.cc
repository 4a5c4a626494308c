// Ranked-merge BPE (GGUF tokenizer.ggml.model = "gpt2", HF model "BPE").
//
// Byte-level (GPT-2): the text is split by the pre-tokenizer, each word's bytes
// become the tokens of their GPT-2 code points, then the adjacent pair with the
// lowest merge rank is merged until none applies (ties: leftmost first).
// SentencePiece-style (byte_level false, HF Gemma 3 / Mistral): spaces become
// "▁" (and a leading "▁" is added where configured), each character is its
// token or, with byte_fallback, its <0xNN> byte tokens, then the same merging.
// With ignore_merges (Llama 3), a word that is itself a token is kept whole.
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/strings.h"
#include "tokenizer/tokenizer_base.h"
#include "tokenizer/unicode/pretokenizer.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth::tok::internal {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581 "▁"

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

class BpeTokenizer final : public TokenizerBase {
 public:
  explicit BpeTokenizer(VocabData data) : TokenizerBase(std::move(data)) {}

  Status Init() {
    HEARTH_RETURN_IF_ERROR(InitBase());
    const VocabData& v = data_;
    Result<unicode::PreTokenizer> pre = !v.pre_regexes.empty()
                                            ? unicode::PreTokenizer::FromRegexes(v.pre_regexes)
                                        : !v.pre.empty() ? unicode::PreTokenizer::ForFamily(v.pre)
                                        : v.byte_level ? unicode::PreTokenizer::ForFamily("default")
                                                       : unicode::PreTokenizer::ForFamily("none");
    if (!pre.ok()) return pre.status().WithContext("pre-tokenizer");
    pre_ = std::move(pre).value();

    merges_.reserve(v.merges.size() * 2);
    for (size_t rank = 0; rank < v.merges.size(); ++rank) {
      const auto& [a, b] = v.merges[rank];
      const int32_t ia = Find(a), ib = Find(b), im = Find(a + b);
      if (ia < 0 || ib < 0 || im < 0) {
        return InvalidArgumentError(
            StrFormat("merge %zu '%s %s': %s is not a token", rank, EscapeForDisplay(a, 40).c_str(),
                      EscapeForDisplay(b, 40).c_str(),
                      ia < 0   ? "the left side"
                      : ib < 0 ? "the right side"
                               : "the result"),
            "tokenizer.bad_merge");
      }
      merges_.emplace(PairKey(ia, ib), Merge{static_cast<int32_t>(rank), im});  // first rank wins
    }

    user_defined_as_normal_ = !v.byte_level;
    pieces_.resize(v.tokens.size());
    for (size_t i = 0; i < v.tokens.size(); ++i) pieces_[i] = RenderPiece(v.tokens[i]);
    if (v.byte_level) {
      for (int b = 0; b < 256; ++b) {
        std::string mapped;
        unicode::AppendUtf8(&mapped, unicode::ByteToCodepoint(static_cast<uint8_t>(b)));
        byte_ids_[b] = Find(mapped);
        byte_mapped_[b] = std::move(mapped);
      }
    }
    return Status::Ok();
  }

 protected:
  void EncodeFragment(std::string_view text, bool after_special,
                      std::vector<int32_t>* out) const override {
    std::string normalized;
    text = Normalized(text, &normalized);
    std::vector<std::string_view> words;
    if (data_.byte_level) {
      pre_.Split(text, &words);
      std::string mapped;
      for (std::string_view w : words) EncodeByteLevelWord(w, &mapped, out);
      return;
    }
    std::string escaped;
    escaped.reserve(text.size() + text.size() / 2 + 3);
    if (data_.add_space_prefix && after_special) escaped.append(kSpaceMark);
    for (char c : text) {
      if (c == ' ' && data_.escape_spaces) {
        escaped.append(kSpaceMark);
      } else {
        escaped.push_back(c);
      }
    }
    pre_.Split(escaped, &words);
    for (std::string_view w : words) EncodeCharWord(w, out);
  }

  std::string RenderNormal(int32_t id) const override { return pieces_[id]; }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  struct Symbol {
    int32_t id;  // token id; -1: no token (dropped on output)
    int32_t prev, next;
    bool alive;
  };
  struct Candidate {
    int32_t rank;
    int32_t left, right;  // symbol indices
    int32_t left_id, right_id, result;
  };
  struct CandidateOrder {
    bool operator()(const Candidate& a, const Candidate& b) const {
      return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
  };
  using Queue = std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder>;

  // The bytes a token of this vocabulary's alphabet stands for.
  std::string RenderPiece(const std::string& token) const {
    std::string out;
    out.reserve(token.size());
    if (data_.byte_level) {
      for (size_t pos = 0; pos < token.size();) {
        const size_t start = pos;
        const uint32_t cp = unicode::DecodeUtf8(token, &pos);
        const int b = unicode::CodepointToByte(cp);
        if (b >= 0 && !(cp == unicode::kReplacementChar && pos == start + 1)) {
          out.push_back(static_cast<char>(b));
        } else {
          out.append(token, start, pos - start);  // not in the alphabet: as written
        }
      }
      return out;
    }
    for (size_t pos = 0; pos < token.size();) {
      if (token.compare(pos, kSpaceMark.size(), kSpaceMark) == 0) {
        out.push_back(' ');
        pos += kSpaceMark.size();
      } else {
        out.push_back(token[pos++]);
      }
    }
    return out;
  }

  void TryAdd(const std::vector<Symbol>& symbols, int32_t left, int32_t right, Queue* queue) const {
    if (left < 0 || right < 0) return;
    const int32_t a = symbols[left].id, b = symbols[right].id;
    if (a < 0 || b < 0) return;
    auto it = merges_.find(PairKey(a, b));
    if (it == merges_.end()) return;
    queue->push({it->second.rank, left, right, a, b, it->second.result});
  }

  // Merges `symbols` (a chain 0 -> next -> ... -> -1) and appends the ids.
  void MergeAndEmit(std::vector<Symbol>& symbols, std::vector<int32_t>* out) const {
    if (symbols.empty()) return;
    if (symbols.size() > 1) {
      Queue queue;
      for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) {
        TryAdd(symbols, i - 1, i, &queue);
      }
      while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& l = symbols[c.left];
        Symbol& r = symbols[c.right];
        if (!l.alive || !r.alive || l.next != c.right || l.id != c.left_id || r.id != c.right_id) {
          continue;  // stale
        }
        l.id = c.result;
        r.alive = false;
        l.next = r.next;
        if (r.next >= 0) symbols[r.next].prev = c.left;
        TryAdd(symbols, l.prev, c.left, &queue);
        TryAdd(symbols, c.left, l.next, &queue);
      }
    }
    for (int32_t i = 0; i >= 0; i = symbols[i].next) {
      if (symbols[i].id >= 0) out->push_back(symbols[i].id);
    }
  }

  static void Link(std::vector<Symbol>* symbols) {
    const int32_t n = static_cast<int32_t>(symbols->size());
    for (int32_t i = 0; i < n; ++i) {
      (*symbols)[i].prev = i - 1;
      (*symbols)[i].next = i + 1 < n ? i + 1 : -1;
      (*symbols)[i].alive = true;
    }
  }

  void EncodeByteLevelWord(std::string_view word, std::string* mapped,
                           std::vector<int32_t>* out) const {
    if (data_.ignore_merges) {
      mapped->clear();
      for (char c : word) mapped->append(byte_mapped_[static_cast<uint8_t>(c)]);
      const int32_t id = Find(*mapped);
      if (id >= 0) {
        out->push_back(id);
        return;
      }
    }
    std::vector<Symbol> symbols(word.size());
    for (size_t i = 0; i < word.size(); ++i)
      symbols[i].id = byte_ids_[static_cast<uint8_t>(word[i])];
    Link(&symbols);
    MergeAndEmit(symbols, out);
  }

  void EncodeCharWord(std::string_view word, std::vector<int32_t>* out) const {
    if (data_.ignore_merges) {
      const int32_t id = Find(word);
      if (id >= 0) {
        out->push_back(id);
        return;
      }
    }
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    std::vector<int32_t> bytes;
    for (size_t pos = 0; pos < word.size();) {
      const size_t start = pos;
      unicode::DecodeUtf8(word, &pos);
      const std::string_view ch = word.substr(start, pos - start);
      const int32_t id = Find(ch);
      if (id >= 0) {
        symbols.push_back({id, 0, 0, true});
        continue;
      }
      if (data_.byte_fallback) {
        bytes.clear();
        AppendBytes(ch, &bytes);
        for (int32_t b : bytes) symbols.push_back({b, 0, 0, true});
      } else if (data_.unk_id >= 0) {
        symbols.push_back({data_.unk_id, 0, 0, true});
      }
    }
    Link(&symbols);
    MergeAndEmit(symbols, out);
  }

  unicode::PreTokenizer pre_ = unicode::PreTokenizer::ForFamily("none").value();
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> merge
  std::vector<std::string> pieces_;             // id -> bytes of a normal token
  int32_t byte_ids_[256] = {};                  // byte-level: byte -> token id or -1
  std::string byte_mapped_[256];                // byte-level: byte -> its GPT-2 code point
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> CreateBpe(VocabData data) {
  auto t = std::make_unique<BpeTokenizer>(std::move(data));
  HEARTH_RETURN_IF_ERROR(t->Init().WithContext("BPE tokenizer"));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace hearth::tok::internal
