// The executable specification of the forward pass: llama2.c-style fp32 code
// with plain loops, every weight dequantized to F32 at load. Slow and simple on
// purpose; the optimized engine is tested against it.
//
// Architectures: llama (RMSNorm, RoPE "norm" pairs, optional llama3 rope_freqs,
// GQA, SwiGLU, tied or untied output) and qwen2 (q/k/v biases, RoPE "neox").
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "format/gguf.h"
#include "model/hparams.h"

namespace hearth::ref {

class RefModel {
 public:
  // Dequantizes every weight of `f`. `n_ctx` bounds the positions Forward accepts.
  static Result<RefModel> Load(const GgufFile& f, int n_ctx);

  // Feeds `token` at the next position and returns its logits [n_vocab].
  Result<std::vector<float>> Forward(int32_t token);
  void Reset() { pos_ = 0; }
  int pos() const { return pos_; }
  const HParams& hparams() const { return hp_; }

 private:
  struct Layer {
    std::vector<float> attn_norm, wq, wk, wv, bq, bk, bv, wo, ffn_norm, w_gate, w_up, w_down;
  };
  HParams hp_;
  int n_ctx_ = 0;
  int pos_ = 0;
  std::vector<float> token_embd_;  // [n_vocab][n_embd]
  std::vector<Layer> layers_;
  std::vector<float> output_norm_;   // [n_embd]
  std::vector<float> output_;        // [n_vocab][n_embd] (a copy of token_embd_ when tied)
  std::vector<float> rope_factors_;  // [rope_dims / 2] or empty
  // KV cache: [n_layer][n_ctx][n_head_kv * head_dim]
  std::vector<float> key_cache_, value_cache_;
};

}  // namespace hearth::ref
