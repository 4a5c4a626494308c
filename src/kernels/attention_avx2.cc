// AVX2 + FMA + F16C attention of a group of query heads sharing one KV head
// (see attention.h). head_dim % 8 == 0.
//
// Order per head (the same whatever n_q is, so grouping never changes bits):
//   score[p] = hsum(fma chain over the 8-wide chunks of q * K[p]) * scale,
//     hsum = the hadd tree of Hsum8x8 (pairs, then pairs of pairs, then the
//     two 128-bit halves);
//   softmax: max over p, then e[p] = Exp8(score[p] - max) (a polynomial, relative
//     error below 3e-7), summed in 8 lanes (p mod 8) and hsum8;
//   out[i] = (fma chain over p of e[p] * V[p][i]) * (1 / sum).
// Each K and V row is converted from F16 once for all heads of the group.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/avx2_util.h"

namespace hearth::kernels {
namespace {

inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Scores of every head of the group, then each head's softmax weights
// (unnormalized) in scores[h][p]; returns 1 / sum per head in inv[h].
// Positions go 8 at a time: their K rows are converted once into kb, and
// each head runs 8 independent fma chains (one per position).
void Scores(const AttnArgs& a, float* inv) {
  const int hd = a.head_dim;
  alignas(32) float kb[8][kAttnMaxHeadDim];
  __m256 max_score[kAttnMaxGroup];
  for (int h = 0; h < a.n_q; ++h) max_score[h] = _mm256_set1_ps(-INFINITY);
  const __m256 scale = _mm256_set1_ps(a.scale);
  for (int p0 = 0; p0 < a.n_pos; p0 += 8) {
    const int np = std::min(8, a.n_pos - p0);
    PrefetchKvAhead(a.k, a.row_bytes, kAttnPrefetchBytes, p0, 8, a.n_pos);
    for (int j = 0; j < 8; ++j) {
      const uint8_t* krow = a.k + static_cast<size_t>(p0 + (j < np ? j : 0)) * a.row_bytes;
      for (int i = 0; i < hd; i += 8)
        _mm256_store_ps(kb[j] + i, LoadKv8(krow, a.head_offset + i, a.f16));
    }
    alignas(32) int32_t m[8];
    for (int j = 0; j < 8; ++j) m[j] = j < np ? -1 : 0;
    const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
    for (int h = 0; h < a.n_q; ++h) {
      const float* q = a.q + static_cast<size_t>(h) * hd;
      __m256 acc[8];
      for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
      for (int i = 0; i < hd; i += 8) {
        const __m256 qv = _mm256_loadu_ps(q + i);
        for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(qv, _mm256_load_ps(kb[j] + i), acc[j]);
      }
      const __m256 s8 = _mm256_mul_ps(Hsum8x8(acc), scale);
      float* scores = a.scores + static_cast<size_t>(h) * a.n_pos + p0;
      if (np == 8) {
        _mm256_storeu_ps(scores, s8);
        max_score[h] = _mm256_max_ps(max_score[h], s8);
      } else {
        _mm256_maskstore_ps(scores, mask, s8);
        max_score[h] = _mm256_blendv_ps(max_score[h], _mm256_max_ps(max_score[h], s8),
                                        _mm256_castsi256_ps(mask));
      }
    }
  }
  const float zero[8] = {};
  for (int h = 0; h < a.n_q; ++h) {
    inv[h] = AttentionSoftmaxFromAvx2(a.scores + static_cast<size_t>(h) * a.n_pos, a.n_pos, 0,
                                      Max8(max_score[h]), zero);
  }
}

}  // namespace

float AttentionSoftmaxFromAvx2(float* scores, int n_pos, int p, float max, const float* sum8) {
  const __m256 mx = _mm256_set1_ps(max);
  __m256 sum = _mm256_loadu_ps(sum8);
  for (; p + 8 <= n_pos; p += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(scores + p), mx));
    _mm256_storeu_ps(scores + p, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (p < n_pos) {  // the last n_pos % 8 positions; other lanes add 0
    alignas(32) int32_t m[8];
    for (int i = 0; i < 8; ++i) m[i] = p + i < n_pos ? -1 : 0;
    const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
    const __m256 e = _mm256_and_ps(Exp8(_mm256_sub_ps(_mm256_maskload_ps(scores + p, mask), mx)),
                                   _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(scores + p, mask, e);
    sum = _mm256_add_ps(sum, e);
  }
  return 1.0f / Hsum(sum);
}

namespace {

// out of heads [h0, h0 + HN) for chunks [i0, i0 + 8 * CH) of head_dim: every
// V chunk loaded once per position for the HN heads; HN * CH accumulators.
template <int HN, int CH>
void WeightedSum(const AttnArgs& a, const float* inv, int h0, int i0) {
  __m256 acc[HN][CH];
  for (int h = 0; h < HN; ++h)
    for (int c = 0; c < CH; ++c) acc[h][c] = _mm256_setzero_ps();
  const float* w = a.scores + static_cast<size_t>(h0) * a.n_pos;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* vrow = a.v + static_cast<size_t>(p) * a.row_bytes;
    PrefetchKvAhead(a.v, a.row_bytes, kAttnPrefetchBytes, p, 1, a.n_pos);
    __m256 v[CH];
    for (int c = 0; c < CH; ++c) v[c] = LoadKv8(vrow, a.head_offset + i0 + 8 * c, a.f16);
    for (int h = 0; h < HN; ++h) {
      const __m256 wp = _mm256_set1_ps(w[static_cast<size_t>(h) * a.n_pos + p]);
      for (int c = 0; c < CH; ++c) acc[h][c] = _mm256_fmadd_ps(wp, v[c], acc[h][c]);
    }
  }
  for (int h = 0; h < HN; ++h) {
    float* out = a.out + static_cast<size_t>(h0 + h) * a.head_dim + i0;
    const __m256 s = _mm256_set1_ps(inv[h0 + h]);
    for (int c = 0; c < CH; ++c) _mm256_storeu_ps(out + 8 * c, _mm256_mul_ps(acc[h][c], s));
  }
}

// Heads [h0, h0 + HN): chunks in runs of CH = 16 / HN (at most the head's
// chunk count), the rest one at a time.
template <int HN>
void WeightedSumHeads(const AttnArgs& a, const float* inv, int h0) {
  constexpr int kCh = 16 / HN;
  int i = 0;
  for (; i + 8 * kCh <= a.head_dim; i += 8 * kCh) WeightedSum<HN, kCh>(a, inv, h0, i);
  for (; i < a.head_dim; i += 8) WeightedSum<HN, 1>(a, inv, h0, i);
}

}  // namespace

void AttendHeadAvx2(const AttnArgs& a) {
  if (a.head_dim > kAttnMaxHeadDim ||
      a.n_q > kAttnMaxGroup) {  // beyond the scratch sizes: one head at a time
    for (int h = 0; h < a.n_q; ++h) {
      AttnArgs one = a;
      one.n_q = 1;
      one.q = a.q + static_cast<size_t>(h) * a.head_dim;
      one.out = a.out + static_cast<size_t>(h) * a.head_dim;
      one.scores = a.scores + static_cast<size_t>(h) * a.n_pos;
      AttendHeadRef(one);
    }
    return;
  }
  float inv[kAttnMaxGroup];
  Scores(a, inv);
  int h = 0;
  for (; h + 8 <= a.n_q; h += 8) WeightedSumHeads<8>(a, inv, h);
  if (h + 4 <= a.n_q) WeightedSumHeads<4>(a, inv, h), h += 4;
  if (h + 2 <= a.n_q) WeightedSumHeads<2>(a, inv, h), h += 2;
  if (h < a.n_q) WeightedSumHeads<1>(a, inv, h);
}

}  // namespace hearth::kernels
