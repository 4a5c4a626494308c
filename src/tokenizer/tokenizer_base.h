// Internal: what every tokenizer model shares — piece lookup, added-token
// splitting, the Encode frame (BOS, fragments, EOS) and piece rendering. The
// models (spm.cc, bpe.cc, wpm.cc) only encode plain text fragments and render
// their normal tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"

namespace hearth::tok::internal {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class TokenizerBase : public Tokenizer {
 public:
  explicit TokenizerBase(VocabData data) : data_(std::move(data)) {}

  // Checks the shared invariants and builds the lookup tables; models call this
  // first from their own Init.
  Status InitBase();

  std::vector<int32_t> Encode(std::string_view text, const EncodeOptions& opts) const final;
  std::string TokenToPiece(int32_t id, bool render_special) const final;
  const VocabData& vocab() const final { return data_; }
  int32_t Find(std::string_view piece) const final;

 protected:
  // Encodes `text`, which holds no added token. `after_special`: the fragment
  // starts the input or follows an added token (where the dummy prefix goes).
  virtual void EncodeFragment(std::string_view text, bool after_special,
                              std::vector<int32_t>* out) const = 0;
  // The bytes a kNormal (or kUndefined) token stands for.
  virtual std::string RenderNormal(int32_t id) const = 0;

  // Id of the <0xNN> token for byte `b`, or -1.
  int32_t ByteToken(uint8_t b) const { return byte_tokens_[b]; }
  // Appends the byte tokens of `bytes` (<0xNN>, else the one-byte piece); when
  // some byte has neither, one unk for the whole of `bytes` (nothing without unk).
  void AppendBytes(std::string_view bytes, std::vector<int32_t>* out) const;
  // Applies the vocabulary's normalization and lowercase (not WordPiece's own).
  std::string_view Normalized(std::string_view text, std::string* storage) const;

  VocabData data_;
  PieceMap piece_to_id_;
  // kUserDefined tokens render like normal ones ("▁" as a space in
  // SentencePiece alphabets, as HF's decoders do) instead of verbatim
  // (byte-level and WordPiece vocabularies, as llama.cpp does).
  bool user_defined_as_normal_ = false;

 private:
  int32_t byte_tokens_[256];
  std::vector<uint8_t> byte_values_;  // id -> byte for kByte tokens
  AddedTokenMatcher matcher_;
};

// Model constructors (spm.cc, bpe.cc, wpm.cc). Each validates its own data.
Result<std::unique_ptr<Tokenizer>> CreateSpm(VocabData data);
Result<std::unique_ptr<Tokenizer>> CreateBpe(VocabData data);
Result<std::unique_ptr<Tokenizer>> CreateWpm(VocabData data);

// "<0x1F>" -> 0x1F; -1 when `piece` is not of that form.
int ParseByteToken(std::string_view piece);

}  // namespace hearth::tok::internal
