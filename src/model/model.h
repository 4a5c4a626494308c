// An immutable, shareable model: hyper-parameters and weights bound in place
// in the memory-mapped GGUF file (never copied or dequantized wholesale).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/gguf.h"
#include "kernels/repack.h"
#include "model/hparams.h"

namespace hearth {

// A 2-D weight matrix in its GGUF block format: n_out rows of n_in values.
struct Matrix {
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;
  int64_t n_in = 0;
  int64_t n_out = 0;
  std::string name;
  kernels::WeightLayout layout = kernels::WeightLayout::kGguf;  // of the rows at `data`
};

struct LayerWeights {
  const float* attn_norm = nullptr;  // [n_embd]
  Matrix wq, wk, wv, wo;
  const float* bq = nullptr;  // [n_head * head_dim] or null (qwen2 has biases)
  const float* bk = nullptr;  // [n_head_kv * head_dim]
  const float* bv = nullptr;
  const float* ffn_norm = nullptr;  // [n_embd]
  Matrix w_gate, w_up, w_down;
};

struct ModelLoadOptions {
  bool mlock = false;  // lock the mapped weights in RAM
  // Read the weights into anonymous huge-page memory instead of mapping the
  // file (faster decode: fewer TLB misses, never evicted with the page cache);
  // the file mapping is not kept, so resident memory stays the weights' size.
  bool in_memory = false;
  // With in_memory: rearranges the products' weight matrices in place into the
  // layout the active ISA's kernels read fastest (kernels::PreferredLayout;
  // Q4_0, Q8_0, Q4_K and Q6_K on AVX-512 VNNI without AMX). Same logits, bit for bit;
  // same memory. The token embedding (read row by row) stays as it is.
  bool repack = true;
};

class Model {
 public:
  // Maps `path`, checks the architecture, every tensor's presence, type and shape.
  // Unsupported tensor types are refused here, naming the tensor.
  static Result<std::shared_ptr<const Model>> Load(const std::string& path,
                                                   const ModelLoadOptions& opts = {});

  const HParams& hparams() const { return hp_; }
  const GgufFile& file() const { return file_; }
  const Matrix& token_embd() const { return token_embd_; }  // [n_vocab] rows of n_embd
  const std::vector<LayerWeights>& layers() const { return layers_; }
  const float* output_norm() const { return output_norm_; }
  const Matrix& output() const { return output_; }             // token_embd when tied
  const float* rope_factors() const { return rope_factors_; }  // [rope_dims/2] or null
  uint64_t weight_bytes() const { return weight_bytes_; }
  // How many matrices were repacked at load (ModelLoadOptions::repack).
  int repacked_matrices() const { return repacked_matrices_; }

 private:
  Model() = default;
  Status Bind();
  Status Repack();

  GgufFile file_;
  HParams hp_;
  Matrix token_embd_;
  std::vector<LayerWeights> layers_;
  const float* output_norm_ = nullptr;
  Matrix output_;
  const float* rope_factors_ = nullptr;
  uint64_t weight_bytes_ = 0;
  int repacked_matrices_ = 0;
};

}  // namespace hearth
