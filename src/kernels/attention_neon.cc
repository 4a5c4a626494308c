// NEON attention of one head (see attention.h). head_dim % 8 == 0.
//
// Order (fixed by head_dim and n_pos, the same lane structure as the AVX2
// variant: 8 elements per step held as two 4-lane halves):
//   score[p] = Hsum8(sum over i-steps of fma(q, K[p])) * scale, where
//     Hsum8(lo, hi) = ((lo0 + hi0) + (lo2 + hi2)) + ((lo1 + hi1) + (lo3 + hi3));
//   softmax in position order; out[i..i+7] = (sum over p of fma(w'[p], V[p])) * (1 / sum),
//   with w'[p] = exp(score[p] - max).
#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/neon_util.h"

namespace hearth::kernels {
namespace {

// Elements i .. i+3 of a row of F32 or F16 values.
inline float32x4_t Load4(const uint8_t* row, int i, bool f16) {
  if (f16) return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(row + static_cast<size_t>(i) * 2)));
  return LoadF32x4(row + static_cast<size_t>(i) * 4);
}

}  // namespace

void AttendHeadNeon(const AttnArgs& a) {
  const int hd = a.head_dim;
  float max_score = -INFINITY;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* krow = a.k + static_cast<size_t>(p) * a.row_bytes;
    float32x4_t lo = vdupq_n_f32(0.0f), hi = lo;
    for (int i = 0; i < hd; i += 8) {
      lo = vfmaq_f32(lo, vld1q_f32(a.q + i), Load4(krow, a.head_offset + i, a.f16));
      hi = vfmaq_f32(hi, vld1q_f32(a.q + i + 4), Load4(krow, a.head_offset + i + 4, a.f16));
    }
    a.scores[p] = HsumF32(vaddq_f32(lo, hi)) * a.scale;
    max_score = std::max(max_score, a.scores[p]);
  }
  float sum = 0.0f;
  for (int p = 0; p < a.n_pos; ++p) sum += a.scores[p] = std::exp(a.scores[p] - max_score);
  const float32x4_t inv = vdupq_n_f32(1.0f / sum);
  // out accumulates in registers 8 lanes at a time over all positions.
  for (int i = 0; i < hd; i += 8) {
    float32x4_t lo = vdupq_n_f32(0.0f), hi = lo;
    for (int p = 0; p < a.n_pos; ++p) {
      const uint8_t* vrow = a.v + static_cast<size_t>(p) * a.row_bytes;
      const float32x4_t w = vdupq_n_f32(a.scores[p]);
      lo = vfmaq_f32(lo, w, Load4(vrow, a.head_offset + i, a.f16));
      hi = vfmaq_f32(hi, w, Load4(vrow, a.head_offset + i + 4, a.f16));
    }
    vst1q_f32(a.out + i, vmulq_f32(lo, inv));
    vst1q_f32(a.out + i + 4, vmulq_f32(hi, inv));
  }
}

}  // namespace hearth::kernels
