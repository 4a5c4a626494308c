// The key/value cache of one sequence, preallocated for n_ctx positions:
// K and V each [n_layer][n_head_kv][n_ctx][head_dim], F32 or F16. Head-major:
// the attention of a KV head reads its positions as one contiguous run
// (position-major rows of all heads made it read a 128-byte slice of every
// 512-byte row: 70 ns per position from memory against 33 ns from cache, at
// 2048 positions on TinyLlama's shape; head-major 32 ns either way).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "model/hparams.h"

namespace hearth {

class KvCache {
 public:
  // Allocates (and touches) the whole cache up front; no allocation per token.
  static Result<KvCache> Create(const HParams& hp, int n_ctx, KvType type);
  // K + V bytes Create would allocate.
  static uint64_t BytesFor(const HParams& hp, int n_ctx, KvType type);

  KvType type() const { return type_; }
  int n_ctx() const { return n_ctx_; }
  int64_t row_elems() const { return n_head_kv_ * head_dim_; }  // one position of one layer
  size_t bytes() const { return k_.size() + v_.size(); }
  // Bytes of one position of one KV head (head_dim values of type()); the
  // positions of a head follow each other at this stride.
  size_t head_bytes() const { return head_bytes_; }

  // KV head `h` of layer `l` at position `pos`: head_dim values of type().
  uint8_t* k(int l, int h, int pos) { return k_.data() + Offset(l, h, pos); }
  uint8_t* v(int l, int h, int pos) { return v_.data() + Offset(l, h, pos); }
  const uint8_t* k(int l, int h, int pos) const { return k_.data() + Offset(l, h, pos); }
  const uint8_t* v(int l, int h, int pos) const { return v_.data() + Offset(l, h, pos); }

 private:
  size_t Offset(int l, int h, int pos) const {
    return ((static_cast<size_t>(l) * n_head_kv_ + h) * n_ctx_ + pos) * head_bytes_;
  }
  KvType type_ = KvType::kF16;
  int n_ctx_ = 0;
  int n_head_kv_ = 0;
  int head_dim_ = 0;
  size_t head_bytes_ = 0;
  std::vector<uint8_t> k_, v_;
};

}  // namespace hearth
