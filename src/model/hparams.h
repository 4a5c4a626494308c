// Architecture hyper-parameters and tokenizer facts read from GGUF metadata.
//
// Reading is lenient (inspect must describe incomplete files such as
// vocab-only GGUFs): absent keys are recorded in `missing` and leave 0 or a
// documented default. The engine validates what it needs at load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/gguf.h"

namespace hearth {

enum class RopeType { kNone, kNorm, kNeox };
const char* RopeTypeName(RopeType t);  // "none", "norm", "neox"

struct HParams {
  std::string arch;  // general.architecture
  std::string name;  // general.name
  uint64_t n_embd = 0;
  uint64_t n_layer = 0;
  uint64_t n_head = 0;
  uint64_t n_head_kv = 0;   // defaults to n_head
  uint64_t head_dim = 0;    // attention.key_length, else n_embd / n_head
  uint64_t head_dim_v = 0;  // attention.value_length, else head_dim
  uint64_t n_ff = 0;
  uint64_t n_ctx_train = 0;
  uint64_t n_vocab = 0;   // tokenizer token count, else vocab_size, else token_embd rows
  double norm_eps = 0.0;  // layer_norm_rms_epsilon (or layer_norm_epsilon)
  RopeType rope_type = RopeType::kNone;
  uint64_t rope_dims = 0;             // rope.dimension_count, else head_dim
  double rope_freq_base = 10000;      // rope.freq_base
  std::string rope_scaling = "none";  // none | linear | yarn | llama3 | ...
  double rope_scaling_factor = 1.0;
  uint64_t rope_orig_ctx = 0;
  bool tied_output = false;  // no output.weight: token_embd is the classifier
  bool has_qkv_bias = false;
  std::vector<std::string> missing;  // keys that were absent (and defaulted)
};

HParams ReadHParams(const GgufFile& f);

struct SpecialToken {
  std::string role;  // "bos", "eos", "eot", "pad", "unk", ...
  int64_t id = -1;
  std::string text;  // the token's text, or "" if the id is out of range
};

struct TokenizerSummary {
  std::string model;  // tokenizer.ggml.model: llama, gpt2, bert, ...
  std::string pre;    // tokenizer.ggml.pre or ""
  uint64_t n_tokens = 0;
  uint64_t n_merges = 0;
  std::vector<SpecialToken> specials;
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  bool has_chat_template = false;
};

TokenizerSummary ReadTokenizerSummary(const GgufFile& f);

enum class KvType { kF32, kF16, kQ8_0 };
std::optional<KvType> ParseKvType(const std::string& s);  // "f32", "f16", "q8_0"
const char* KvTypeName(KvType t);

// What a model needs in memory (DESIGN §4).
struct MemoryPlan {
  uint64_t weight_bytes = 0;
  KvType kv_type = KvType::kF16;
  uint64_t n_ctx = 0;
  uint64_t n_parallel = 1;
  // 2 · n_layer · n_head_kv · head_dim · bytes(kv_type): KV heads, not attention heads.
  uint64_t kv_bytes_per_token = 0;
  uint64_t kv_bytes = 0;       // per token × n_ctx × n_parallel
  uint64_t scratch_bytes = 0;  // activation buffers (estimate, see docs/inspect.md)
  uint64_t total_bytes = 0;
};

// n_ctx = 0 means the model's training context.
MemoryPlan PlanMemory(const GgufFile& f, const HParams& hp, uint64_t n_ctx, uint64_t n_parallel,
                      KvType kv_type);

}  // namespace hearth
