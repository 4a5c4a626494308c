// The key/value cache of one sequence, preallocated for n_ctx positions:
// K and V each [n_layer][n_ctx][n_head_kv * head_dim], row-major, F32 or F16.
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
  int64_t row_elems() const { return row_elems_; }  // n_head_kv * head_dim
  size_t bytes() const { return k_.size() + v_.size(); }
  size_t row_bytes() const { return row_bytes_; }  // one position of one layer

  // Row of layer `l` at position `pos`: row_elems() values of type().
  uint8_t* k(int l, int pos) { return k_.data() + Offset(l, pos); }
  uint8_t* v(int l, int pos) { return v_.data() + Offset(l, pos); }
  const uint8_t* k(int l, int pos) const { return k_.data() + Offset(l, pos); }
  const uint8_t* v(int l, int pos) const { return v_.data() + Offset(l, pos); }

 private:
  size_t Offset(int l, int pos) const {
    return (static_cast<size_t>(l) * n_ctx_ + pos) * row_bytes_;
  }
  KvType type_ = KvType::kF16;
  int n_ctx_ = 0;
  int64_t row_elems_ = 0;
  size_t row_bytes_ = 0;
  std::vector<uint8_t> k_, v_;
};

}  // namespace hearth
