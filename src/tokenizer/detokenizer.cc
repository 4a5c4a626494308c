// Decoding steps shared by Tokenizer::Decode and StreamingDetokenizer.
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth::tok {
namespace internal {

void AppendDecodedPiece(const Tokenizer& t, int32_t id, const DecodeOptions& opts,
                        bool* strip_next_space, std::string* out) {
  if (id < 0 || id >= t.n_vocab()) return;
  const TokenType type = t.Type(id);
  if (type == TokenType::kControl || type == TokenType::kUnknown) {
    // Special tokens neither carry nor consume the dummy-prefix space.
    if (opts.skip_special) return;
    out->append(t.TokenToPiece(id, opts.render_special));
    return;
  }
  std::string piece = t.TokenToPiece(id, opts.render_special);
  if (*strip_next_space) {
    *strip_next_space = false;
    if (!piece.empty() && piece[0] == ' ') {
      out->append(piece, 1, std::string::npos);
      return;
    }
  }
  out->append(piece);
}

namespace {

// Hugging Face's clean_up_tokenization: each pattern loses its leading space,
// except " ' " which becomes "'". No pattern is a prefix of another.
constexpr std::string_view kCleanUpPatterns[] = {" .",   " ?",  " !",  " ,",   " ' ",
                                                 " n't", " 'm", " 's", " 've", " 're"};

}  // namespace

size_t CleanUpSpaces(std::string_view in, bool final, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] != ' ') {
      const size_t next_space = in.find(' ', i);
      const size_t end = next_space == std::string_view::npos ? in.size() : next_space;
      out->append(in.substr(i, end - i));
      i = end;
      continue;
    }
    const std::string_view rest = in.substr(i);
    bool matched = false, maybe = false;
    for (std::string_view p : kCleanUpPatterns) {
      if (rest.substr(0, p.size()) == p) {
        out->append(p == " ' " ? "'" : p.substr(1));
        i += p.size();
        matched = true;
        break;
      }
      if (rest.size() < p.size() && p.substr(0, rest.size()) == rest) maybe = true;
    }
    if (matched) continue;
    if (maybe && !final) return in.size() - i;  // may still become a pattern
    out->push_back(' ');
    ++i;
  }
  return 0;
}

}  // namespace internal

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, DecodeOptions opts)
    : tokenizer_(tokenizer),
      opts_(opts),
      strip_next_space_(opts.strip_leading_space && tokenizer.StripsLeadingSpace()) {}

std::string StreamingDetokenizer::Push(int32_t id) {
  std::string piece;
  internal::AppendDecodedPiece(tokenizer_, id, opts_, &strip_next_space_, &piece);
  if (opts_.clean_up_spaces) {
    clean_pending_ += piece;
    piece.clear();
    const size_t held = internal::CleanUpSpaces(clean_pending_, /*final=*/false, &piece);
    clean_pending_.erase(0, clean_pending_.size() - held);
  }
  if (utf8_pending_.empty()) {
    // Common case: nothing held; emit the valid prefix of the piece directly.
    const size_t n = unicode::ValidUtf8Prefix(piece);
    utf8_pending_.assign(piece, n, std::string::npos);
    piece.resize(n);
    return piece;
  }
  utf8_pending_ += piece;
  const size_t n = unicode::ValidUtf8Prefix(utf8_pending_);
  std::string out = utf8_pending_.substr(0, n);
  utf8_pending_.erase(0, n);
  return out;
}

std::string StreamingDetokenizer::Flush() {
  std::string out;
  if (opts_.clean_up_spaces) {
    std::string cleaned;
    internal::CleanUpSpaces(clean_pending_, /*final=*/true, &cleaned);
    clean_pending_.clear();
    utf8_pending_ += cleaned;
  }
  out.swap(utf8_pending_);
  strip_next_space_ = opts_.strip_leading_space && tokenizer_.StripsLeadingSpace();
  return out;
}

}  // namespace hearth::tok
