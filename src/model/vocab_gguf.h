// Reads a GGUF file's tokenizer.* metadata into plain tokenizer data.
//
// Keys (llama.cpp's): tokenizer.ggml.model ("llama" SPM, "gpt2" BPE, "bert"
// WPM, "t5" UGM; "no"/"none" is refused), .pre, .tokens, .scores, .token_type,
// .merges ("a b" strings), .{bos,eos,eot,eom,unknown,padding,seperator
// (sic; "separator" also read),cls,mask}_token_id (0xFFFFFFFF or absent =
// none), .add_bos_token, .add_eos_token, .add_space_prefix,
// .remove_extra_whitespaces. Defaults when absent follow llama.cpp: SPM adds
// BOS and a dummy prefix; BPE adds BOS only for the Llama 3 / Tekken
// pre-tokenizer families; WordPiece adds [CLS] ... [SEP].
#pragma once

#include <memory>

#include "base/status.h"
#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth {

// Errors name the key ("tokenizer.ggml.scores: 31999 values for 32000 tokens").
Result<tok::VocabData> VocabFromGguf(const GgufFile& f);

// VocabFromGguf + Tokenizer::Create.
Result<std::unique_ptr<tok::Tokenizer>> LoadTokenizer(const GgufFile& f);

}  // namespace hearth
