// Hugging Face tokenizer.json (+ tokenizer_config.json) -> VocabData.
//
// Supported: model BPE (byte-level or SentencePiece-style with byte fallback)
// and WordPiece; normalizers NFC/NFKC/NFD/NFKD, Lowercase, BertNormalizer,
// Prepend("▁"), Replace(" " -> "▁"), Sequence; pre-tokenizers Split(Regex,
// Isolated), ByteLevel, Metaspace, BertPreTokenizer, Whitespace, Sequence;
// decoders ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, WordPiece.
// Anything else is refused with an error naming the component, never guessed.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

// `config_json` may be empty (no tokenizer_config.json).
Result<VocabData> VocabFromHfJson(std::string_view tokenizer_json, std::string_view config_json);

// Reads `path` (a tokenizer.json) and the tokenizer_config.json beside it, if any.
Result<VocabData> VocabFromHfFile(const std::string& path);

}  // namespace hearth::tok
