// AVX2 + FMA SwiGLU (see activation.h): with e = e^-|x| (Exp8),
// silu(x) = x * 1 / (1 + e) for x >= 0 and x * e / (1 + e) for x < 0, so the
// exponential never overflows. The last n % 8 values go through a masked load
// and store.
#include <immintrin.h>

#include "kernels/activation.h"
#include "kernels/avx2_util.h"

namespace hearth::kernels {
namespace {

inline __m256 SwiGlu8(__m256 x, __m256 u) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 e = Exp8(_mm256_or_ps(x, sign));                     // e^-|x|
  const __m256 num = _mm256_blendv_ps(_mm256_set1_ps(1.0f), e, x);  // x < 0 (sign bit): e
  const __m256 sig = _mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  return _mm256_mul_ps(_mm256_mul_ps(x, sig), u);
}

}  // namespace

void SwiGluAvx2(float* g, const float* u, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(g + i, SwiGlu8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
  }
  if (i < n) {
    alignas(32) int32_t m[8];
    for (int j = 0; j < 8; ++j) m[j] = i + j < n ? -1 : 0;
    const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
    const __m256 r = SwiGlu8(_mm256_maskload_ps(g + i, mask), _mm256_maskload_ps(u + i, mask));
    _mm256_maskstore_ps(g + i, mask, r);
  }
}

}  // namespace hearth::kernels
