// Internal: the row loop the two AVX-512 VNNI Q6_K kernels share (GGUF layout,
// matmul_vnni_k.cc, and kLanes16, matmul_vnni_k_lanes.cc). Both layouts keep a
// super-block's 210 bytes with the scales and F16 d at the GGUF offsets; they
// differ only in how a super-block's exact sum S_b is formed. Internal
// linkage; included by the AVX-512 VNNI files only (compiled with its flags).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/avx512_util.h"
#include "kernels/k_accumulate.h"

namespace hearth::kernels {
namespace {

// R weight rows in lock step against T tokens (xv[t]: token t's Act256View);
// out[r * T + t]. block(p, b, s) puts, for the super-block at p (super-block
// b of its row), 16 int32 lanes per token into s[0 .. T) that sum to S_b.
// The float steps are k_accumulate.h's: four super-blocks at a time, the
// super-blocks of the R rows alternating, the last nb % 4 one at a time.
template <int T, int R, class BlockFn>
void Q6KRows(const uint8_t* const* w_rows, const Act256View* xv, int64_t n_in, float* out,
             BlockFn block) {
  constexpr int64_t kB = sizeof(BlockQ6_K);
  const int64_t nb = n_in / kQKK;
  __m128 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm_setzero_ps();
  }
  const int64_t nb4 = nb / 4 * 4;
  for (int64_t b = 0; b < nb4; b += 4) {
    __m512i s[R][4][T];
    for (int j = 0; j < 4; ++j) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) block(w_rows[r] + (b + j) * kB, b + j, s[r][j]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      // Dword j: the last two scales | F16 d << 16 of super-block b + j.
      const uint8_t* p0 = w_rows[r] + b * kB + offsetof(BlockQ6_K, d) - 2;
      __m128i dm = _mm_loadu_si32(p0);
      for (int j = 1; j < 4; ++j) {
        dm = _mm_mask_broadcastd_epi32(dm, static_cast<__mmask8>(1u << j),
                                       _mm_loadu_si32(p0 + j * kB));
      }
      const __m128i dh = _mm_srli_epi32(dm, 16);
      const __m128 dq = _mm_cvtph_ps(_mm_packus_epi32(dh, dh));  // d of b .. b + 3
      for (int t = 0; t < T; ++t) {
        const __m512i si[4] = {s[r][0][t], s[r][1][t], s[r][2][t], s[r][3][t]};
        const __m128 da = _mm_loadu_ps(reinterpret_cast<const float*>(xv[t].d) + b);
        acc[r][t] = _mm_fmadd_ps(_mm_mul_ps(dq, da), _mm_cvtepi32_ps(Reduce4(si)), acc[r][t]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    KAccumulator kacc[T];
    for (int t = 0; t < T; ++t) _mm_storeu_ps(kacc[t].l, acc[r][t]);
    for (int64_t b = nb4; b < nb; ++b) {
      const uint8_t* p = w_rows[r] + b * kB;
      __m512i s[T];
      block(p, b, s);
      const float d = F16At(p + offsetof(BlockQ6_K, d));
      for (int t = 0; t < T; ++t) kacc[t].Add(b, d, xv[t].Scale(b), _mm512_reduce_add_epi32(s[t]));
    }
    for (int t = 0; t < T; ++t) out[r * T + t] = kacc[t].Result();
  }
}

}  // namespace
}  // namespace hearth::kernels
