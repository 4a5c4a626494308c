// NEON attention of one head (see attention.h). head_dim % 8 == 0.
//
// Order (fixed by head_dim and n_pos, the same lane structure as the AVX2
// variant: 8 elements per step held as two 4-lane halves):
//   score[p] = Hsum8(sum over i-steps of fma(q, K[p])) * scale, where
//     Hsum8(lo, hi) = ((lo0 + hi0) + (lo2 + hi2)) + ((lo1 + hi1) + (lo3 + hi3));
//   softmax in position order; out[i..i+3] = (fma chain over p of w'[p] * V[p][i..i+3])
//   * (1 / sum), with w'[p] = exp(score[p] - max); up to 64 values per pass over V.
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

// The 64-byte lines of a K/V row (from a loop that also loads, so the
// compiler keeps the prefetches).
inline void PrefetchRow(const uint8_t* row, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(row + o);
}

}  // namespace

void AttendHeadNeon(const AttnArgs& a) {
  const int hd = a.head_dim;
  float max_score = -INFINITY;
  // K and V rows are prefetched kAttnPrefetchBytes ahead, as on x86.
  const int ahead = static_cast<int>(kAttnPrefetchBytes / std::max<size_t>(a.row_bytes, 1));
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* krow = a.k + static_cast<size_t>(p) * a.row_bytes;
    if (p + ahead < a.n_pos) PrefetchRow(krow + ahead * a.row_bytes, a.row_bytes);
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
  // out accumulates in registers, up to kRun values per pass over the
  // positions (each value's fma chain over p as with 8 values per pass).
  constexpr int kRun = 64;
  for (int i0 = 0; i0 < hd; i0 += kRun) {
    const int n = std::min(kRun, hd - i0);
    float32x4_t acc[kRun / 4];
    for (int c = 0; c < n / 4; ++c) acc[c] = vdupq_n_f32(0.0f);
    for (int p = 0; p < a.n_pos; ++p) {
      const uint8_t* vrow = a.v + static_cast<size_t>(p) * a.row_bytes;
      if (p + ahead < a.n_pos) PrefetchRow(vrow + ahead * a.row_bytes, a.row_bytes);
      const float32x4_t w = vdupq_n_f32(a.scores[p]);
      for (int c = 0; c < n / 4; ++c)
        acc[c] = vfmaq_f32(acc[c], w, Load4(vrow, a.head_offset + i0 + 4 * c, a.f16));
    }
    for (int c = 0; c < n / 4; ++c) vst1q_f32(a.out + i0 + 4 * c, vmulq_f32(acc[c], inv));
  }
}

}  // namespace hearth::kernels
