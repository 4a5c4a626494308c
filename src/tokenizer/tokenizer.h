// Text <-> token ids. Built once from VocabData; immutable and thread-safe
// afterwards (Encode/Decode may be called concurrently).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

struct EncodeOptions {
  // Add BOS/EOS as the vocabulary's add_bos/add_eos say.
  bool add_special = true;
  // Recognise special added tokens (control tokens) written in the text. Off by
  // default: user text containing "<|im_start|>" stays plain text. Non-special
  // added tokens are always recognised. Matching is leftmost-longest over the
  // raw text (before normalization); the text between matches is encoded by
  // the model separately.
  bool parse_special = false;
};

struct DecodeOptions {
  bool skip_special = false;   // drop control and unknown-type tokens (BOS, EOS, <|im_end|>, <unk>)
  bool render_special = true;  // when not skipped, write control tokens' text
  bool clean_up_spaces = false;  // HF clean_up_tokenization_spaces (" ." -> ".", " 's" -> "'s")
  // Remove one leading space from the first non-control token's piece when the
  // vocabulary adds a dummy prefix (add_space_prefix) or is WordPiece
  // (SentencePiece's / HF's rule; control tokens before it, e.g. BOS, do not
  // count). Set false when decoding a continuation (generated ids without the
  // prompt), whose first space is real.
  bool strip_leading_space = true;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Validates `data` (ids in range, merges refer to tokens, ...) and builds the
  // tokenizer. Errors name the offending token or merge.
  static Result<std::unique_ptr<Tokenizer>> Create(VocabData data);

  // Never fails: any byte string (invalid UTF-8 included) encodes to some ids.
  virtual std::vector<int32_t> Encode(std::string_view text,
                                      const EncodeOptions& opts = {}) const = 0;

  // The raw bytes a token stands for (byte tokens as their byte, "▁" as a space
  // for SentencePiece, GPT-2 byte mapping undone; WordPiece word starts get a
  // leading space, "##" continuations none). Control tokens give their text
  // when render_special, else ""; unknown-type tokens their text; user-defined
  // tokens their text ("▁" as a space in SentencePiece alphabets). No
  // leading-space stripping: that is Decode's. Out-of-range ids give "".
  virtual std::string TokenToPiece(int32_t id, bool render_special = true) const = 0;

  // Concatenated pieces with the family's decoding rules (see
  // DecodeOptions::strip_leading_space). May contain invalid UTF-8 if the ids
  // do. Out-of-range ids decode to "".
  std::string Decode(std::span<const int32_t> ids, const DecodeOptions& opts = {}) const;

  virtual const VocabData& vocab() const = 0;
  int32_t n_vocab() const { return static_cast<int32_t>(vocab().tokens.size()); }
  TokenType Type(int32_t id) const;  // kUndefined for out-of-range ids
  bool IsEog(int32_t id) const;
  bool IsControl(int32_t id) const;
  // True when DecodeOptions::strip_leading_space applies to this vocabulary.
  bool StripsLeadingSpace() const;
  // Id of a token by exact text, or -1.
  virtual int32_t Find(std::string_view piece) const = 0;
};

// Turns a stream of ids into text pieces whose concatenation (all Push()
// results, then Flush()) is exactly Decode(all ids, opts). Each piece ends on a
// UTF-8 boundary: an incomplete sequence at the end is held back until it
// completes or is known to be invalid. Bytes that can never become valid (stray
// continuation bytes, a truncated sequence followed by something else) are
// released as they are, so a piece is valid UTF-8 exactly where Decode's output
// is. With clean_up_spaces, a trailing space that may start a clean-up pattern
// is held back too. O(piece length) per Push; holds at most a few bytes.
// Not thread-safe; the tokenizer must outlive it.
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, DecodeOptions opts = {});
  // Text that became complete with this id (possibly empty).
  std::string Push(int32_t id);
  // Whatever is still held back, at end of stream. The detokenizer can then be
  // reused for a new stream.
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  DecodeOptions opts_;
  bool strip_next_space_;      // the leading-space rule has not fired yet
  std::string clean_pending_;  // clean-up stage: bytes that may start a pattern
  std::string utf8_pending_;   // UTF-8 stage: an incomplete sequence
};

namespace internal {
// The decode steps shared by Tokenizer::Decode and StreamingDetokenizer.
// Appends the piece of `id` to *out, applying skip/render rules and the
// leading-space rule (*strip_next_space is cleared by the first non-control
// token).
void AppendDecodedPiece(const Tokenizer& t, int32_t id, const DecodeOptions& opts,
                        bool* strip_next_space, std::string* out);
// HF clean_up_tokenization_spaces as one left-to-right pass over `in`,
// appending to *out. With `final` false, stops before a suffix that could
// still become a pattern and returns its length (to be fed again later).
size_t CleanUpSpaces(std::string_view in, bool final, std::string* out);
}  // namespace internal

}  // namespace hearth::tok
