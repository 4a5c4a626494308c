// AVX2 kernels for the k-quants Q4_K, Q5_K, Q6_K against Q8 super-blocks of 256.
//
// Per super-block and token, everything up to the two scales is exact integer
// math: sumi = sum_s sc_s * sum(q * a) (maddubs, then madd with the sub-block
// scale), the min/offset part from the activation's int16 sums per 16 (madd).
// Then one float accumulator per token (super-blocks are large enough that the
// FMA latency chain is not the bottleneck):
//   Q4_K/Q5_K: acc = fma(d*da, sumi, acc); acc = fma(-dmin*da, sum_s m_s*bsum_s, acc)
//   Q6_K:      acc = fma(d*da, sumi - 32 * sum_s sc_s*bsum_s, acc)
// Result = fixed-tree hsum(acc).
#include <cstddef>
#include <type_traits>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/avx2_util.h"
#include "kernels/k_scales.h"
#include "kernels/kernel_table.h"
#include "kernels/weight_prefetch.h"

namespace hearth::kernels {
namespace {

inline __m256i LoadBsums(const Act256View& xv, int64_t b) {
  return LoadU(xv.bsum + 2 * 16 * b);
}

// Rows<T, R> of a kernel that computes one super-block (kBlockBytes) at a
// time for T tokens into one float accumulator each (K::Super<T>, prefetching
// `ahead` bytes ahead): R rows (one per row stream) in lock step; out[r * T + t].
template <class K, size_t kBlockBytes, int T, int R>
void SuperBlockRows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                    float* out) {
  const int64_t nb = n_in / kQKK;
  Act256View xv[T];
  for (int t = 0; t < T; ++t) xv[t] = Act256View(x[t], n_in);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const int64_t ahead = PrefetchAhead();
  for (int64_t b = 0; b < nb; ++b) {
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      K::template Super<T>(w_rows[r] + b * kBlockBytes, b, xv, ahead, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) out[r * T + t] = HsumPs(acc[r][t]);
  }
}

// Q4_K (kFive = false) and Q5_K (kFive = true).
template <bool kFive>
struct KernelK4 {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;

  // Super-block b (at p) for T tokens into acc[T].
  template <int T>
  static inline void Super(const uint8_t* p, int64_t b, const Act256View* xv, int64_t ahead,
                           __m256* acc) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    PrefetchWeights<sizeof(Block)>(p, ahead);
    uint64_t sc8, m8;
    ScalesMinsK4(p + offsetof(Block, scales), &sc8, &m8);
    // Scale of sub-block s in every int16 lane: vpshufb of the 8 scales.
    const __m256i sc16 = _mm256_broadcastsi128_si256(
        _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc8))));
    const float d = F16Scale(p + offsetof(Block, d));
    const float dmin = F16Scale(p + offsetof(Block, dmin));
    __m256i sumi[T];
    for (int t = 0; t < T; ++t) sumi[t] = _mm256_setzero_si256();
    __m256i qh;
    if constexpr (kFive) qh = LoadU(p + offsetof(Block, qh));
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = LoadU(p + offsetof(Block, qs) + 32 * c);
      __m256i lo = _mm256_and_si256(raw, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      if constexpr (kFive) {
        const __m256i h = _mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c));
        const __m256i bit4 = _mm256_set1_epi8(0x10);
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(h, 4), bit4));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(h, 3), bit4));
      }
      const __m256i sc_lo = _mm256_shuffle_epi8(
          sc16, _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * c))));
      const __m256i sc_hi = _mm256_shuffle_epi8(
          sc16, _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * c + 1))));
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const int8_t* a = xv[t].q + b * kQKK + 64 * c;
        const __m256i plo = _mm256_maddubs_epi16(lo, LoadU(a));
        const __m256i phi = _mm256_maddubs_epi16(hi, LoadU(a + 32));
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(plo, sc_lo));
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(phi, sc_hi));
      }
    }
    // Each min covers two 16-sums: lanes m0 m0 m1 m1 ... m7 m7.
    const __m128i mm = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(m8)));
    const __m256i mins = _mm256_set_m128i(_mm_unpackhi_epi16(mm, mm), _mm_unpacklo_epi16(mm, mm));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const float da = xv[t].Scale(b);
      const __m256i mv = _mm256_madd_epi16(LoadBsums(xv[t], b), mins);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * da), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(-dmin * da), _mm256_cvtepi32_ps(mv), acc[t]);
    }
  }

  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    SuperBlockRows<KernelK4, sizeof(Block), T, R>(w_rows, x, n_in, out);
  }
};

struct KernelQ6K {
  // Super-block b (at p) for T tokens into acc[T].
  template <int T>
  static inline void Super(const uint8_t* p, int64_t b, const Act256View* xv, int64_t ahead,
                           __m256* acc) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    PrefetchWeights<sizeof(BlockQ6_K)>(p, ahead);
    const int8_t* scales = reinterpret_cast<const int8_t*>(p + offsetof(BlockQ6_K, scales));
    const float d = F16Scale(p + offsetof(BlockQ6_K, d));
    __m256i sumi[T];
    for (int t = 0; t < T; ++t) sumi[t] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
      const uint8_t* ql = p + offsetof(BlockQ6_K, ql) + 64 * n;
      const __m256i qh = LoadU(p + offsetof(BlockQ6_K, qh) + 32 * n);
      const __m256i ql0 = LoadU(ql), ql1 = LoadU(ql + 32);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                             _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                             _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                             _mm256_and_si256(qh, _mm256_set1_epi8(0x30)));
      q[3] = _mm256_or_si256(
          _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
          _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(static_cast<char>(0xC0))), 2));
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const int s = 8 * n + 2 * k;  // sub-blocks s (bytes 0..15) and s+1 (16..31)
        const __m256i scv =
            _mm256_set_m128i(_mm_set1_epi16(scales[s + 1]), _mm_set1_epi16(scales[s]));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const __m256i a = LoadU(xv[t].q + b * kQKK + 128 * n + 32 * k);
          sumi[t] =
              _mm256_add_epi32(sumi[t], _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], a), scv));
        }
      }
    }
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales)));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m256i corr = _mm256_madd_epi16(LoadBsums(xv[t], b), sc16);
      const __m256i tot = _mm256_sub_epi32(sumi[t], _mm256_slli_epi32(corr, 5));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * xv[t].Scale(b)), _mm256_cvtepi32_ps(tot), acc[t]);
    }
  }

  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    SuperBlockRows<KernelQ6K, sizeof(BlockQ6_K), T, R>(w_rows, x, n_in, out);
  }
};

template <class K>
void Run(const MatmulArgs& a) {
  DriveRows<K>(a);
}

}  // namespace

MatmulFn Avx2KKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_K:
      return &Run<KernelK4<false>>;
    case GgmlType::kQ5_K:
      return &Run<KernelK4<true>>;
    case GgmlType::kQ6_K:
      return &Run<KernelQ6K>;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
