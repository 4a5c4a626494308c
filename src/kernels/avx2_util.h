// Internal helpers for the AVX2 translation units only (needs -mavx2 -mfma
// -mf16c). Everything here has internal linkage, so translation units built
// with other flags never share these definitions (no ODR mixing).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/exp_poly.h"

namespace hearth::kernels {
namespace {

inline float F16Scale(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Fixed-tree horizontal sum: (upper half + lower half), then pairs, then lanes.
inline float HsumPs(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles first, then high nibbles.
inline __m256i UnpackNibbles(const uint8_t* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(x, 4), x);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, byte j = 0xFF if bit j is set, else 0.
inline __m256i BitsToBytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                          0x0202020202020202, 0x0303030303030303);
  const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

// Sum of unsigned(u) * signed(s) over 32 bytes as 8 int32 lanes (pairs must not
// saturate int16: |u * s| sums of two <= 32767). Built with AVX-VNNI, one
// vpdpbusd: the same lanes, without the intermediate int16 pairs.
inline __m256i DotUS(__m256i u, __m256i s) {
#if defined(__AVXVNNI__)
  return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

inline __m256i LoadU(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// exp(x) for x <= 0 (0 below -87.3): x = n ln2 + r, |r| <= ln2 / 2, e^r by a
// degree-6 Taylor polynomial (truncation error below 1.2e-7 there), times 2^n.
inline __m256 Exp8(__m256 x) {
  using namespace exp_poly;
  x = _mm256_max_ps(x, _mm256_set1_ps(kFloor));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kTaylor[0]);
  for (int k = 1; k < kTerms; ++k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kTaylor[k]));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  // n >= -126 here, so 2^n is a normal float; below that the result flushes to 0.
  const __m256 pow2 = _mm256_castsi256_ps(e);
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(kZeroBelow), _CMP_LT_OQ);
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, pow2));
}

// Prefetches rows [p, p + n) of a K or V head (rows `row_bytes` apart from
// `base`) `ahead` bytes ahead (kAttnPrefetchBytes), never past row `n_pos`.
inline void PrefetchKvAhead(const uint8_t* base, size_t row_bytes, size_t ahead, int p, int n,
                            int n_pos) {
  const size_t end = static_cast<size_t>(n_pos) * row_bytes;
  const size_t lo = static_cast<size_t>(p) * row_bytes + ahead;
  const size_t hi = std::min(lo + static_cast<size_t>(n) * row_bytes, end);
  for (size_t o = lo; o < hi; o += 64)
    _mm_prefetch(reinterpret_cast<const char*>(base) + o, _MM_HINT_T0);
}

// Values [i, i + 8) of a K/V row of F16 (f16) or F32 values.
inline __m256 LoadKv8(const uint8_t* row, int i, bool f16) {
  if (f16) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i * 2)));
  return _mm256_loadu_ps(reinterpret_cast<const float*>(row + i * 4));
}

// The largest of the 8 lanes, taken in lane order.
inline float Max8(__m256 v) {
  alignas(32) float l[8];
  _mm256_store_ps(l, v);
  float m = l[0];
  for (int j = 1; j < 8; ++j) m = std::max(m, l[j]);
  return m;
}

// Lane j of the result = the sum of the 8 lanes of v[j].
inline __m256 Hsum8x8(const __m256 v[8]) {
  const __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

}  // namespace
}  // namespace hearth::kernels
