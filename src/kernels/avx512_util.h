// Internal helpers for the AVX-512 (BW/VNNI) translation units only. Everything
// here has internal linkage, so translation units built with other flags never
// share these definitions (no ODR mixing).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/exp_poly.h"

namespace hearth::kernels {
namespace {

// The F16 value at p (any alignment).
inline float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Exp8 (avx2_util.h) on 16 lanes: the same operations lane for lane, so the
// same bits.
inline __m512 Exp16(__m512 x) {
  using namespace exp_poly;
  x = _mm512_max_ps(x, _mm512_set1_ps(kFloor));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kTaylor[0]);
  for (int k = 1; k < kTerms; ++k) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kTaylor[k]));
  const __m512i e =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kZeroBelow), _CMP_LT_OQ);
  return _mm512_maskz_mul_ps(static_cast<__mmask16>(~tiny), p, _mm512_castsi512_ps(e));
}

// 64 weight bytes at p (any alignment) as two 32-byte loads. A 64-byte load
// that crosses a cache line halves a kernel's streaming rate from memory on
// AMD Zen 5 (Q4_0 matvec, one core: 25 vs 28 GB/s, two: 24 vs 54); two
// halves cost one lane insert.
inline __m512i LoadWeights64(const uint8_t* p) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), 1);
}

// Four vectors of int32 partials -> one: lane 4c + j = the sum of lanes
// 4c .. 4c + 3 of v[j] (exact; a fixed unpack tree).
inline __m512i ReduceGroup(const __m512i v[4]) {
  const __m512i t0 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i t1 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
}

// Lane j = the sum of all 16 lanes of v[j] (exact).
inline __m128i Reduce4(const __m512i v[4]) {
  const __m512i u = ReduceGroup(v);
  const __m256i y = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
}

}  // namespace
}  // namespace hearth::kernels
