// Synthetic models: deterministic random weights in the shapes of real models,
// for benchmarks and tests (`hearth synth`). Same seed and options => the same
// bytes, whatever the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/ggml_types.h"

namespace hearth {

struct SynthDims {
  std::string arch = "llama";  // llama | qwen2
  uint64_t n_embd = 256;
  uint64_t n_ff = 768;
  uint64_t n_layer = 4;
  uint64_t n_head = 8;
  uint64_t n_head_kv = 2;
  uint64_t head_dim = 0;  // 0: n_embd / n_head
  uint64_t n_vocab = 512;
  uint64_t n_ctx = 512;
  double rope_base = 10000.0;
  double norm_eps = 1e-5;
  bool tied_output = false;
  bool qkv_bias = false;       // qwen2
  bool llama3_rope = false;    // write rope_freqs for llama3-style scaling
  double rope_scale = 1.0;     // llama3 scaling factor (e.g. 32)
  uint64_t rope_orig_ctx = 0;  // llama3 original context (e.g. 8192)
};

// Presets with real shapes: "tinyllama-1.1b", "llama3.2-1b", "qwen2.5-0.5b", "tiny".
std::optional<SynthDims> SynthPreset(const std::string& name);
std::vector<std::string> SynthPresetNames();

// Applies "key=value,key=value" overrides (n_embd, n_ff, n_layer, n_head,
// n_head_kv, head_dim, n_vocab, n_ctx, rope_base, norm_eps, tied, arch).
Status ApplyDimsOverrides(const std::string& spec, SynthDims* dims);

// Pseudo-type for SynthOptions::type: the Q4_K_M mixture (Q4_K, with Q6_K for the
// output matrix and for attn_v / ffn_down of some layers).
constexpr GgmlType kQ4_K_M = static_cast<GgmlType>(1000);

// Parses "f32", "q4_k", "q4_k_m", ... (case-insensitive).
std::optional<GgmlType> ParseSynthType(const std::string& name);

struct SynthOptions {
  SynthDims dims;
  GgmlType type = GgmlType::kF32;  // type of every 2-D weight (or kQ4_K_M); 1-D tensors stay F32
  uint64_t seed = 1;
  std::string vocab_from;  // GGUF to copy tokenizer.* keys from; "" = built-in byte vocabulary
  std::string name;        // general.name; "" = "hearth-synth"
  int threads = 0;         // 0 = all cores
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Writes the model to `path` atomically.
Status WriteSynthModel(const SynthOptions& opts, const std::string& path);

}  // namespace hearth
