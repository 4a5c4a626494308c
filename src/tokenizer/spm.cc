// SentencePiece BPE driven by piece scores (GGUF tokenizer.ggml.model = "llama").
//
// The text (with spaces written as "▁" and, where configured, a leading "▁")
// starts as one symbol per UTF-8 character. Repeatedly, the adjacent pair whose
// concatenation is a token with the highest score is merged (ties: leftmost
// first). A final symbol that is a token becomes that token; any other (a
// character not in the vocabulary) becomes its bytes as <0xNN> byte tokens, or
// unk when the vocabulary has none.
#include <queue>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_base.h"

namespace hearth::tok::internal {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581 "▁"

// Length of the UTF-8 sequence a lead byte announces, without validation
// (continuation bytes count as 1), as SentencePiece splits characters.
size_t CharLen(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

class SpmTokenizer final : public TokenizerBase {
 public:
  explicit SpmTokenizer(VocabData data) : TokenizerBase(std::move(data)) {}

  Status Init() {
    HEARTH_RETURN_IF_ERROR(InitBase());
    if (data_.scores.empty()) {
      return InvalidArgumentError("SentencePiece vocabulary without scores",
                                  "tokenizer.missing_scores");
    }
    user_defined_as_normal_ = true;
    pieces_.resize(data_.tokens.size());
    for (size_t i = 0; i < data_.tokens.size(); ++i) {
      const std::string& t = data_.tokens[i];
      std::string& p = pieces_[i];
      p.reserve(t.size());
      for (size_t pos = 0; pos < t.size();) {
        if (t.compare(pos, kSpaceMark.size(), kSpaceMark) == 0) {
          p.push_back(' ');
          pos += kSpaceMark.size();
        } else {
          p.push_back(t[pos++]);
        }
      }
    }
    return Status::Ok();
  }

 protected:
  void EncodeFragment(std::string_view text, bool after_special,
                      std::vector<int32_t>* out) const override {
    std::string s;
    s.reserve(text.size() + text.size() / 2 + 3);
    if (data_.add_space_prefix && after_special) s.append(kSpaceMark);
    for (char c : text) {
      if (c == ' ') {
        s.append(kSpaceMark);
      } else {
        s.push_back(c);
      }
    }
    Tokenize(s, out);
  }

  std::string RenderNormal(int32_t id) const override { return pieces_[id]; }

 private:
  struct Symbol {
    int32_t prev, next;
    uint32_t start, len;  // bytes of the escaped text; len 0 = merged away
  };
  struct Bigram {
    float score;
    int32_t left, right;
    uint32_t len;  // combined length when queued
  };
  struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
  };
  using Queue = std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder>;

  void TryAddBigram(std::string_view s, const std::vector<Symbol>& symbols, int32_t left,
                    int32_t right, Queue* queue) const {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    const int32_t id = Find(s.substr(l.start, l.len + r.len));
    if (id < 0) return;
    queue->push({data_.scores[id], left, right, l.len + r.len});
  }

  void Tokenize(std::string_view s, std::vector<int32_t>* out) const {
    if (s.empty()) return;
    std::vector<Symbol> symbols;
    symbols.reserve(s.size());
    for (size_t pos = 0; pos < s.size();) {
      const size_t len = std::min(CharLen(static_cast<uint8_t>(s[pos])), s.size() - pos);
      const int32_t index = static_cast<int32_t>(symbols.size());
      symbols.push_back({index - 1, pos + len == s.size() ? -1 : index + 1,
                         static_cast<uint32_t>(pos), static_cast<uint32_t>(len)});
      pos += len;
    }
    Queue queue;
    for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) {
      TryAddBigram(s, symbols, i - 1, i, &queue);
    }
    while (!queue.empty()) {
      const Bigram b = queue.top();
      queue.pop();
      Symbol& l = symbols[b.left];
      Symbol& r = symbols[b.right];
      // Stale: one side was merged into something else since.
      if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[r.next].prev = b.left;
      TryAddBigram(s, symbols, l.prev, b.left, &queue);
      TryAddBigram(s, symbols, b.left, l.next, &queue);
    }
    for (int32_t i = 0; i >= 0; i = symbols[i].next) {
      const std::string_view piece = s.substr(symbols[i].start, symbols[i].len);
      const int32_t id = Find(piece);
      if (id >= 0) {
        out->push_back(id);
      } else {
        AppendBytes(piece, out);
      }
    }
  }

  std::vector<std::string> pieces_;  // id -> bytes of a normal token ("▁" as a space)
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> CreateSpm(VocabData data) {
  auto t = std::make_unique<SpmTokenizer>(std::move(data));
  HEARTH_RETURN_IF_ERROR(t->Init().WithContext("SentencePiece tokenizer"));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace hearth::tok::internal
