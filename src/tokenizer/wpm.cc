// WordPiece (BERT; GGUF tokenizer.ggml.model = "bert", HF model "WordPiece").
//
// Basic tokenization (BERT's BasicTokenizer / HF BertNormalizer +
// BertPreTokenizer): accents stripped (NFD, nonspacing marks dropped) and
// lowercased as configured; NUL, U+FFFD and control/format characters dropped;
// words split at whitespace; each punctuation character (Unicode P*, plus ASCII
// symbols) and each CJK ideograph is a word of its own. Then each word is cut
// greedily into the longest vocabulary pieces from the left; continuation
// pieces are "##"-prefixed (vocab.txt layout) or bare after a "▁"-prefixed
// first piece (llama.cpp's GGUF layout, wpm_phantom_space). A word with an
// unmatchable part, or longer than 100 characters, becomes unk.
#include <string>
#include <vector>

#include "tokenizer/tokenizer_base.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth::tok::internal {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581 "▁"
constexpr std::string_view kContinuation = "##";
constexpr size_t kMaxWordChars = 100;  // BERT's max_input_chars_per_word

class WpmTokenizer final : public TokenizerBase {
 public:
  explicit WpmTokenizer(VocabData data) : TokenizerBase(std::move(data)) {}

  Status Init() {
    HEARTH_RETURN_IF_ERROR(InitBase());
    const std::string_view first_prefix = data_.wpm_phantom_space ? kSpaceMark : "";
    const std::string_view next_prefix = data_.wpm_phantom_space ? "" : kContinuation;
    pieces_.resize(data_.tokens.size());
    for (size_t i = 0; i < data_.tokens.size(); ++i) {
      std::string_view t = data_.tokens[i];
      max_piece_ = std::max(max_piece_, t.size());
      // Pieces: a word start gets a space (stripped at the start of a decode),
      // a continuation none.
      if (data_.wpm_phantom_space) {
        pieces_[i] = t.substr(0, kSpaceMark.size()) == kSpaceMark
                         ? " " + std::string(t.substr(kSpaceMark.size()))
                         : std::string(t);
      } else {
        pieces_[i] = t.substr(0, kContinuation.size()) == kContinuation
                         ? std::string(t.substr(kContinuation.size()))
                         : " " + std::string(t);
      }
    }
    first_prefix_ = first_prefix;
    next_prefix_ = next_prefix;
    return Status::Ok();
  }

 protected:
  void EncodeFragment(std::string_view text, bool /*after_special*/,
                      std::vector<int32_t>* out) const override {
    std::string stripped;
    if (data_.strip_accents) {
      stripped = unicode::StripAccents(text);
      text = stripped;
    } else if (data_.normalization != Normalization::kNone) {
      text = Normalized(text, &stripped);
    }
    std::string word;
    size_t word_chars = 0;
    auto flush = [&] {
      if (!word.empty()) EncodeWord(word, word_chars, out);
      word.clear();
      word_chars = 0;
    };
    for (size_t pos = 0; pos < text.size();) {
      const size_t start = pos;
      uint32_t cp = unicode::DecodeUtf8(text, &pos);
      if (cp == unicode::kReplacementChar && pos == start + 1) continue;  // invalid byte
      const uint32_t flags = unicode::Flags(cp);
      if (flags & unicode::kWhitespace) {
        flush();
        continue;
      }
      if (cp == 0 || cp == unicode::kReplacementChar ||
          (flags & (unicode::kControl | unicode::kFormat))) {
        continue;
      }
      if (data_.lowercase) cp = unicode::ToLower(cp);
      const bool isolated = (flags & unicode::kPunctuation) ||
                            (cp < 0x7F && (flags & unicode::kSymbol)) || unicode::IsHan(cp);
      if (isolated) {
        flush();
        unicode::AppendUtf8(&word, cp);
        word_chars = 1;
        flush();
      } else {
        unicode::AppendUtf8(&word, cp);
        ++word_chars;
      }
    }
    flush();
  }

  std::string RenderNormal(int32_t id) const override { return pieces_[id]; }

 private:
  void EncodeWord(std::string_view word, size_t chars, std::vector<int32_t>* out) const {
    const size_t mark = out->size();
    bool ok = chars <= kMaxWordChars;
    std::string candidate;
    for (size_t start = 0; ok && start < word.size();) {
      const std::string_view prefix = start == 0 ? first_prefix_ : next_prefix_;
      size_t end = std::min(word.size(), start + max_piece_);
      int32_t id = -1;
      for (; end > start; --end) {
        // Only cut at character boundaries.
        if (end < word.size() && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80) continue;
        candidate.assign(prefix);
        candidate.append(word.substr(start, end - start));
        id = Find(candidate);
        if (id >= 0) break;
      }
      if (id < 0) {
        ok = false;
        break;
      }
      out->push_back(id);
      start = end;
    }
    if (!ok) {
      out->resize(mark);
      if (data_.unk_id >= 0) out->push_back(data_.unk_id);
    }
  }

  std::vector<std::string> pieces_;  // id -> text with a leading space for word starts
  size_t max_piece_ = 0;
  std::string first_prefix_, next_prefix_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> CreateWpm(VocabData data) {
  auto t = std::make_unique<WpmTokenizer>(std::move(data));
  HEARTH_RETURN_IF_ERROR(t->Init().WithContext("WordPiece tokenizer"));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace hearth::tok::internal
