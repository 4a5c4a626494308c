// AVX-512 activation quantization: bit-identical to the scalar reference in
// ref/dot_ref.cc (same amax, the same float product x * (127 / amax) rounded
// to nearest-even, the same clamp), 16 values per instruction.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/act_layout.h"
#include "kernels/kernel_table.h"

namespace hearth::kernels {
namespace {

// n % 16 == 0. Returns d, writes q[n]; *sums (optional) gets the int32 sum of
// every 32 codes (n % 32 == 0) and *sums16 of every 16.
float QuantizeBlock(const float* x, int n, int8_t* q) {
  // max(|x|, m) keeps m when |x| is NaN, as std::max(m, |x|) does.
  __m512 m = _mm512_setzero_ps();
  for (int j = 0; j < n; j += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + j)), m);
  const float amax = _mm512_reduce_max_ps(m);
  if (!(amax > 0.0f) || !std::isfinite(amax)) {
    std::memset(q, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  const __m512 id = _mm512_set1_ps(127.0f / amax);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  for (int j = 0; j < n; j += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + j), id));
    v = _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + j), _mm512_cvtepi32_epi8(v));
  }
  return amax / 127.0f;
}

// Sum of 16 int8 codes.
inline int Sum16(const int8_t* q) {
  return _mm512_reduce_add_epi32(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
}

}  // namespace

bool QuantizeActivationsAvx512(GgmlType wtype, const float* x, int64_t n_in, int64_t begin,
                               int64_t end, void* out) {
  auto* o = static_cast<uint8_t*>(out);
  auto* q = reinterpret_cast<int8_t*>(o);
  switch (ActKindFor(wtype)) {
    case ActKind::kQ8Blocks32: {
      if (n_in % kQK != 0 || begin % kQK != 0 || end % kQK != 0) return false;
      const int64_t nb = n_in / kQK;
      for (int64_t b = begin / kQK; b < end / kQK; ++b) {
        const float d = QuantizeBlock(x + b * kQK, kQK, q + b * kQK);
        const int32_t sum = Sum16(q + b * kQK) + Sum16(q + b * kQK + 16);
        std::memcpy(o + n_in + 4 * b, &d, 4);
        std::memcpy(o + n_in + 4 * nb + 4 * b, &sum, 4);
      }
      return true;
    }
    case ActKind::kQ8Super256: {
      if (n_in % kQKK != 0 || begin % kQKK != 0 || end % kQKK != 0) return false;
      const int64_t nb = n_in / kQKK;
      for (int64_t b = begin / kQKK; b < end / kQKK; ++b) {
        const float d = QuantizeBlock(x + b * kQKK, kQKK, q + b * kQKK);
        std::memcpy(o + n_in + 4 * b, &d, 4);
      }
      for (int64_t s = begin / 16; s < end / 16; ++s) {
        const auto v = static_cast<int16_t>(Sum16(q + s * 16));
        std::memcpy(o + n_in + 4 * nb + 2 * s, &v, 2);
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace hearth::kernels
