// AVX2 + FMA + F16C attention of one head (see attention.h). head_dim % 8 == 0.
#include <immintrin.h>

#include <cmath>

#include "kernels/attention.h"

namespace hearth::kernels {
namespace {

inline __m256 Load8(const uint8_t* row, int i, bool f16) {
  if (f16) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i * 2)));
  return _mm256_loadu_ps(reinterpret_cast<const float*>(row + i * 4));
}

inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

void AttendHeadAvx2(const AttnArgs& a) {
  const int hd = a.head_dim;
  float max_score = -INFINITY;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* krow = a.k + static_cast<size_t>(p) * a.row_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < hd; i += 8)
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(a.q + i), Load8(krow, a.head_offset + i, a.f16), acc);
    a.scores[p] = Hsum(acc) * a.scale;
    max_score = std::max(max_score, a.scores[p]);
  }
  float sum = 0.0f;
  for (int p = 0; p < a.n_pos; ++p) sum += a.scores[p] = std::exp(a.scores[p] - max_score);
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  // out accumulates in registers 8 lanes at a time over all positions.
  for (int i = 0; i < hd; i += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (int p = 0; p < a.n_pos; ++p) {
      const uint8_t* vrow = a.v + static_cast<size_t>(p) * a.row_bytes;
      acc =
          _mm256_fmadd_ps(_mm256_set1_ps(a.scores[p]), Load8(vrow, a.head_offset + i, a.f16), acc);
    }
    _mm256_storeu_ps(a.out + i, _mm256_mul_ps(acc, inv));
  }
}

}  // namespace hearth::kernels
