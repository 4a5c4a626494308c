// Internal: the 6-bit scales and mins of four Q4_K super-blocks decoded with
// AVX-512 vector operations, the mins' term of four super-blocks, and the
// activation sums that term uses. Internal
// linkage; included by the AVX-512 VNNI files only (compiled with its flags).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/act_layout.h"

namespace hearth::kernels {
namespace {

// v: 128-bit lane j holds super-block j's 12 scale bytes from byte kOff (the
// other bytes are ignored). Returns lane j = its eight scales (bytes 0..7) and
// eight mins (bytes 8..15): the bit operations of ScalesMinsK4 (k_scales.h),
// on 16 bytes at a time.
template <int kOff>
inline __m512i ScalesMinsK4Lanes(__m512i v) {
  static_assert(kOff >= 0 && kOff <= 4);
  constexpr char o = kOff;
  const __m512i t1 =
      _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(_mm_setr_epi8(
                                 o, o + 1, o + 2, o + 3, o + 8, o + 9, o + 10, o + 11, o + 4, o + 5,
                                 o + 6, o + 7, o + 8, o + 9, o + 10, o + 11)));
  const __m512i t2 = _mm512_shuffle_epi8(
      v, _mm512_broadcast_i32x4(_mm_setr_epi8(-1, -1, -1, -1, o, o + 1, o + 2, o + 3, -1, -1, -1,
                                              -1, o + 4, o + 5, o + 6, o + 7)));
  const __m512i lo =
      _mm512_and_si512(t1, _mm512_broadcast_i32x4(_mm_setr_epi32(0x3f3f3f3f, 0, 0x3f3f3f3f, 0)));
  const __m512i hi4 =
      _mm512_and_si512(_mm512_srlv_epi32(t1, _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4))),
                       _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x0f0f0f0f, 0, 0x0f0f0f0f)));
  const __m512i top2 =
      _mm512_and_si512(_mm512_srli_epi32(t2, 2),
                       _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
  return _mm512_or_si512(lo, _mm512_or_si512(hi4, top2));
}

// Four 16-byte loads into the 128-bit lanes of one vector.
inline __m512i Load4x16(const uint8_t* p0, const uint8_t* p1, const uint8_t* p2,
                        const uint8_t* p3) {
  __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0)));
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2)), 2);
  return _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p3)), 3);
}

// The 32 mins of four super-blocks (bytes 8..15 of each lane of ScalesMinsK4Lanes'
// result) as int16.
inline __m512i Mins16(__m512i sm) {
  return _mm512_cvtepu8_epi16(_mm512_castsi512_si256(
      _mm512_permutexvar_epi64(_mm512_setr_epi64(1, 3, 5, 7, 0, 0, 0, 0), sm)));
}

// M_b of four super-blocks at once: mins16 = their 32 mins as int16 (8 per
// super-block), bs32 = the activation sums of the same 32 sub-blocks (int16).
// Lane j of the result is M of super-block j (exact int32).
inline __m128i MinSums4(__m512i mins16, const int16_t* bs32) {
  __m512i m = _mm512_madd_epi16(mins16, _mm512_loadu_si512(bs32));  // 4 lanes per super-block
  m = _mm512_add_epi32(m, _mm512_shuffle_epi32(m, _MM_PERM_CDAB));
  m = _mm512_add_epi32(m, _mm512_shuffle_epi32(m, _MM_PERM_BADC));
  return _mm512_castsi512_si128(_mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), m));
}

// The activations' sums per 32 values (int16, exact: at most 32 x 127), n_in / 32
// of them, into out (any alignment): what the Q4_K kernels' mins term multiplies.
inline void StoreSums32(const Act256View& xv, int64_t n_in, uint8_t* out) {
  for (int64_t s = 0; s < n_in / 32; ++s) {
    const int16_t v = static_cast<int16_t>(xv.BSum(2 * s) + xv.BSum(2 * s + 1));
    std::memcpy(out + 2 * s, &v, 2);
  }
}

}  // namespace
}  // namespace hearth::kernels
