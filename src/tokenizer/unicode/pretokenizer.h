// Pre-tokenization: splitting text into the pieces BPE runs on.
//
// A PreTokenizer is a sequence of regex stages. Each stage splits every piece
// of the previous stage into its matches AND the unmatched gaps between them,
// in order (Hugging Face Split "Isolated" behaviour; llama.cpp's
// unicode_regex_split), so the pieces always concatenate back to the input
// exactly: every byte, invalid UTF-8 included, lands in exactly one non-empty
// piece. Invalid UTF-8 never matches any pattern element, so it ends up in gap
// pieces. Empty matches only mark a split point.
//
// Regexes run on PCRE2 (JIT) with Unicode properties (\p{L}, \s, \d are
// Unicode-aware, as in Oniguruma and llama.cpp) and ^/$ as line anchors
// (Oniguruma's Ruby syntax, which Hugging Face tokenizers uses). PCRE2's
// property tables are its own (Unicode 14 in Debian 12's 10.42), so the ~4,500
// code points new in Unicode 15 are not \p{L}/\p{N} to the regex engine,
// while the hand-written splitters use our Unicode 15 tables. The gpt-2,
// llama3 and qwen2 patterns may run on an equivalent hand-written splitter
// (see fast_split.h), which the tests check against PCRE2.
//
// Thread safety: a PreTokenizer is immutable; Split may be called from many
// threads at once (match state is per thread). Copies are cheap and share the
// compiled patterns.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hearth::unicode {

class PreTokenizer {
 public:
  enum class Engine {
    kAuto,   // hand-written splitter where one exists and is faster, else PCRE2
    kRegex,  // always PCRE2 (reference behaviour, used by the differential tests)
  };

  // No stages: Split returns the whole text as one piece (same as "none").
  PreTokenizer();

  // The stages of a GGUF `tokenizer.ggml.pre` family, as llama.cpp defines
  // them ("gpt-2", "llama-bpe", "qwen2", "deepseek-v3", ...). "default" and ""
  // are llama.cpp's fallback for BPE vocabularies without a pre-tokenizer;
  // "none" splits nothing; "bert" is WordPiece's basic split (whitespace runs,
  // single punctuation characters and single CJK ideographs as pieces, words
  // as the gaps between them; the caller drops the whitespace pieces).
  // Unknown names give kInvalidArgument naming the family and listing the
  // known ones; families llama.cpp handles with custom code ("kimi-k2",
  // "afmoe") give kUnimplemented.
  static Result<PreTokenizer> ForFamily(std::string_view family, Engine engine = Engine::kAuto);

  // Stages from explicit patterns (tokenizer.json Split pre-tokenizers,
  // Isolated behaviour), applied in order. kInvalidArgument names the pattern
  // PCRE2 rejects and why.
  static Result<PreTokenizer> FromRegexes(std::vector<std::string> patterns,
                                          Engine engine = Engine::kAuto);

  // Every name ForFamily accepts, sorted.
  static std::vector<std::string> KnownFamilies();

  // Replaces *out with the pieces of `text` (views into `text`; none empty;
  // none for empty text).
  void Split(std::string_view text, std::vector<std::string_view>* out) const;

  const std::vector<std::string>& patterns() const;
  // True when Split runs a hand-written splitter instead of PCRE2.
  bool uses_fast_path() const;

 private:
  struct Impl;
  explicit PreTokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  static Result<PreTokenizer> Build(std::vector<std::string> patterns, int fast_path);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hearth::unicode
