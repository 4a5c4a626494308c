// Attention of one query head over a sequence's cached keys and values:
//   scores[p] = (q · K[p]) * scale,  p = 0 .. n_pos-1
//   w = softmax(scores)   (max-subtracted, in position order)
//   out = Σ_p w[p] · V[p]
// K/V rows are `row_bytes` apart (one row per position, all KV heads); the
// head's elements start `head_offset` elements into each row, F32 or F16.
// AttendHeadRef is the specification (plain loops, index order); the AVX2 /
// F16C and NEON variants vectorize the dot products and the weighted sum. Each variant
// is deterministic (its order depends only on head_dim and n_pos).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/matmul.h"

namespace hearth::kernels {

struct AttnArgs {
  const float* q = nullptr;    // [head_dim]
  const uint8_t* k = nullptr;  // row of position 0 (K)
  const uint8_t* v = nullptr;  // row of position 0 (V)
  size_t row_bytes = 0;
  int head_offset = 0;  // elements
  int head_dim = 0;
  int n_pos = 0;    // attends to positions 0 .. n_pos-1
  bool f16 = true;  // element type of K and V
  float scale = 1.0f;
  float* scores = nullptr;  // scratch, [n_q][n_pos]
  float* out = nullptr;     // [n_q][head_dim]
  // Query heads that share this KV head (a GQA group): head h reads q + h *
  // head_dim and writes out + h * head_dim. Each head's result is the same
  // bits as when it is computed alone (n_q = 1).
  int n_q = 1;
};

// AttendHeadRef handles n_q == 1 only; AttendHead any n_q.
void AttendHeadRef(const AttnArgs& a);
// Dispatches to the best variant `isa` allows.
void AttendHead(const AttnArgs& a, Isa isa);

// Internal: the AVX2+FMA+F16C variant (attention_avx2.cc) and the AArch64
// NEON variant (attention_neon.cc); both need head_dim % 8 == 0 and take any
// n_q, converting each F16 K/V row once for the whole group (the NEON one
// also needs head_dim <= kAttnMaxHeadDim). On a target without the ISA they
// are stand-ins that run AttendHeadRef (never reached: AttendHead dispatches
// by the CPU's ISA).
void AttendHeadAvx2(const AttnArgs& a);
void AttendHeadNeon(const AttnArgs& a);
// The variants' scratch limits: larger heads or groups go one head at a time
// through the reference (x86) or in parts of kAttnMaxGroup heads (NEON).
constexpr int kAttnMaxHeadDim = 512;
constexpr int kAttnMaxGroup = 64;  // query heads per KV head
// The variants prefetch the K and V rows they read this many bytes ahead
// (a head's rows are contiguous in the head-major cache): after a step's
// products have streamed the weights through the caches, K and V come from
// memory, where the hardware prefetchers alone left a third of the
// attention's time waiting (docs/engine.md, "Attention reads ahead").
constexpr size_t kAttnPrefetchBytes = 8192;
// The AVX-512 variant (attention_avx512.cc): AVX2's order throughout, with
// two positions' 8-wide score chains in one 16-wide register and the weighted
// sum 16 values wide (each value the same fma chain over the positions), so
// the same bits in half the fma instructions. Needs head_dim % 8 == 0.
void AttendHeadAvx512(const AttnArgs& a);
// attention_avx2.cc's softmax of one head's scores[0, n_pos) with maximum
// `max`, from position p on (p % 8 == 0; the AVX-512 variant computes the
// positions before p 16 at a time in the same lanes): the unnormalized weights
// exp(score - max) in place of scores[p, n_pos), each added into lane
// (position mod 8) of the running sums sum8[8]; returns 1 / the sum of the 8
// lanes.
float AttentionSoftmaxFromAvx2(float* scores, int n_pos, int p, float max, const float* sum8);

}  // namespace hearth::kernels
