// Plain tokenizer data, independent of where it came from: GGUF metadata
// (tokenizer.ggml.*, see model/vocab_gguf.h) or a Hugging Face tokenizer.json
// (tokenizer/hf_json.h). A Tokenizer is built from this and nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hearth::tok {

// Token types as stored in GGUF tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class ModelKind {
  kSpm,  // SentencePiece BPE driven by scores (tokenizer.ggml.model = "llama")
  kBpe,  // ranked merges; byte-level (GPT-2 byte mapping) or SentencePiece-style with byte fallback
  kWpm,  // WordPiece (tokenizer.ggml.model = "bert")
  kUgm,  // SentencePiece unigram (tokenizer.ggml.model = "t5"), if ever needed
};

enum class Normalization { kNone, kNfc, kNfkc, kNfd, kNfkd };

// A token matched verbatim in the input before the model runs (HF "added
// tokens", GGUF CONTROL/USER_DEFINED tokens).
struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = true;  // special tokens are only recognised when the caller asks
  bool lstrip = false;  // absorb whitespace on the left / right when matched
  bool rstrip = false;
};

struct VocabData {
  ModelKind kind = ModelKind::kSpm;

  std::vector<std::string> tokens;  // id -> piece, in the model's own alphabet ("▁", GPT-2 bytes)
  std::vector<float> scores;        // SPM/UGM scores (may be empty for BPE/WPM)
  std::vector<TokenType> types;     // may be empty: all kNormal
  // BPE merges in rank order (rank 0 first), each a pair of pieces.
  std::vector<std::pair<std::string, std::string>> merges;

  // BPE only: true = GPT-2 byte-level alphabet (bytes mapped to printable code
  // points); false = SentencePiece-style pieces with "▁" and <0xNN> byte fallback.
  bool byte_level = true;
  bool byte_fallback = false;  // unknown bytes become <0xNN> tokens
  bool ignore_merges = false;  // BPE: a pre-token that is itself a token is kept whole (llama3)

  // Pre-tokenization: a family name (GGUF tokenizer.ggml.pre: "gpt-2", "llama3", "qwen2", ...)
  // or explicit regexes applied in sequence (tokenizer.json Split patterns). Regexes win.
  std::string pre;
  std::vector<std::string> pre_regexes;

  Normalization normalization = Normalization::kNone;
  // SentencePiece: prepend "▁" to the text (dummy prefix) and write spaces as "▁".
  // The prefix is added to the first text fragment and to any fragment right
  // after an added token (llama.cpp's rule; HF applies it per split, the same).
  // kSpm always escapes spaces; escape_spaces matters for kBpe only.
  bool add_space_prefix = false;
  bool escape_spaces = false;
  bool remove_extra_whitespace = false;  // UGM only; ignored by SPM/BPE/WPM (as llama.cpp)
  // WordPiece (BERT): lowercase and strip accents before splitting. `lowercase`
  // also applies to BPE/SPM text (HF Lowercase normalizer).
  bool lowercase = false;
  bool strip_accents = false;
  // WordPiece piece layout. false: BERT vocab.txt / tokenizer.json layout
  // (word-initial pieces bare, continuations prefixed "##"). true: llama.cpp's
  // GGUF layout (word-initial pieces prefixed "▁", continuations bare).
  bool wpm_phantom_space = false;
  // Decoding: HF clean_up_tokenization_spaces (" ." -> ".", " 's" -> "'s").
  bool clean_up_spaces = false;

  // Tokens matched verbatim in the text before the model runs, leftmost-longest
  // (see tokenizer.h). VocabFromGguf fills this from CONTROL/UNKNOWN (special)
  // and USER_DEFINED (not special) token types; types are not consulted for it.
  std::vector<AddedToken> added_tokens;

  // Special ids, -1 when absent.
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t eot_id = -1;
  int32_t eom_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  int32_t sep_id = -1;
  int32_t cls_id = -1;
  int32_t mask_id = -1;
  std::vector<int32_t> eog_ids;  // end-of-generation ids (eos, eot, eom and template terminators)

  // Encode(add_special) adds BOS / EOS. WordPiece uses cls_id / sep_id when
  // bos_id / eos_id are -1 ([CLS] text [SEP]).
  bool add_bos = false;
  bool add_eos = false;
};

}  // namespace hearth::tok
