// Internal: the per-row steps of a transformer layer that are not matrix
// products, shared by the batch path (forward.cc) and the one-token decode
// step (decode_step.cc). Each computes a value from the same operands in the
// same order wherever it runs, so both paths give the same bits.
#pragma once

#include <cstdint>

#include "model/hparams.h"
#include "model/kv_cache.h"

namespace hearth {

// out[i] = x[i] / rms(x) * w[i], i < n. The squares are summed in 16 lanes
// (lane j: i = j mod 16, in index order), the lanes combined in a fixed tree,
// then the n mod 16 last squares added in order.
void RmsNorm(const float* x, const float* w, float eps, int n, float* out);

// The rotation of position `pos`: cs[2i] = cos(theta_i), cs[2i + 1] =
// sin(theta_i) for i < rope_dims / 2, theta_i = pos * base^(-2i / rope_dims)
// (divided by factors[i] if given). Computed once per row, used by every layer.
void RopeAngles(int pos, const HParams& hp, const float* factors, float* cs);

// Rotates the first rope_dims values of each of n_heads heads (head_dim apart)
// by `cs` (from RopeAngles): pairs (2i, 2i + 1), or (i, i + rope_dims / 2)
// for NEOX.
void Rope(float* v, int n_heads, int head_dim, int rope_dims, bool neox, const float* cs);

// Writes n values into a KV cache row of type t (F16: round to nearest even).
void StoreKv(const float* src, int n, KvType t, uint8_t* row);

// x[i] += p[i], i < n.
void AddInto(float* x, const float* p, int n);

}  // namespace hearth
