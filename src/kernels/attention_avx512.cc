// AVX-512 attention of a group of query heads sharing one KV head (see
// attention.h), in attention_avx2.cc's order throughout, so with its bits:
//   score[p]: an 8-wide fma chain over the 8-value chunks of q * K[p], then
//     Hsum8x8 (avx2_util.h) and * scale; here the chains of positions p and
//     p + 1 share one 16-wide register (lanes 0-7 and 8-15), half the fmas;
//   softmax: AttentionSoftmaxAvx2 itself;
//   out[i] = (fma chain over p of e[p] * V[p][i]) * (1 / sum), 16 values per
//     register: a pass over the positions covers twice the values (hd 64,
//     8 heads: 2 passes over V instead of 4).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/attention.h"
#include "kernels/avx2_util.h"

namespace hearth::kernels {
namespace {

// Every head's scores into scores[h][p] and their maximum into max[h], as
// attention_avx2.cc computes them. Positions go 8 at a time, their K rows
// converted once into kb as pairs: kb[j][16c .. 16c + 15] = chunk c of
// positions p0 + 2j and p0 + 2j + 1 (the first position again past n_pos).
void RawScores(const AttnArgs& a, float* max) {
  const int hd = a.head_dim;
  alignas(64) float kb[4][2 * kAttnMaxHeadDim];
  __m256 max_score[kAttnMaxGroup];
  for (int h = 0; h < a.n_q; ++h) max_score[h] = _mm256_set1_ps(-INFINITY);
  const __m256 scale = _mm256_set1_ps(a.scale);
  for (int p0 = 0; p0 < a.n_pos; p0 += 8) {
    const int np = std::min(8, a.n_pos - p0);
    for (int j = 0; j < 4; ++j) {
      const uint8_t* r0 = a.k + static_cast<size_t>(p0 + (2 * j < np ? 2 * j : 0)) * a.row_bytes;
      const uint8_t* r1 =
          a.k + static_cast<size_t>(p0 + (2 * j + 1 < np ? 2 * j + 1 : 0)) * a.row_bytes;
      for (int i = 0; i < hd; i += 8) {
        const __m512 pair =
            _mm512_insertf32x8(_mm512_castps256_ps512(LoadKv8(r0, a.head_offset + i, a.f16)),
                               LoadKv8(r1, a.head_offset + i, a.f16), 1);
        _mm512_store_ps(kb[j] + 2 * i, pair);
      }
    }
    const __mmask8 tail = static_cast<__mmask8>((1u << np) - 1);
    for (int h = 0; h < a.n_q; ++h) {
      const float* q = a.q + static_cast<size_t>(h) * hd;
      __m512 acc[4];
      for (int j = 0; j < 4; ++j) acc[j] = _mm512_setzero_ps();
      for (int i = 0; i < hd; i += 8) {
        const __m512 qv = _mm512_broadcast_f32x8(_mm256_loadu_ps(q + i));
        for (int j = 0; j < 4; ++j)
          acc[j] = _mm512_fmadd_ps(qv, _mm512_load_ps(kb[j] + 2 * i), acc[j]);
      }
      __m256 acc8[8];
      for (int j = 0; j < 4; ++j) {
        acc8[2 * j] = _mm512_castps512_ps256(acc[j]);
        acc8[2 * j + 1] = _mm512_extractf32x8_ps(acc[j], 1);
      }
      const __m256 s8 = _mm256_mul_ps(Hsum8x8(acc8), scale);
      float* scores = a.scores + static_cast<size_t>(h) * a.n_pos + p0;
      _mm256_mask_storeu_ps(scores, tail, s8);
      max_score[h] = _mm256_mask_max_ps(max_score[h], tail, max_score[h], s8);
    }
  }
  for (int h = 0; h < a.n_q; ++h) max[h] = Max8(max_score[h]);
}

// Values [i, i + 16) of a K/V row, or [i, i + 8) under the mask 0x00FF (the
// other lanes are never stored).
inline __m512 Load16(const uint8_t* row, int i, bool f16, __mmask16 m) {
  if (f16) {
    return _mm512_cvtph_ps(
        _mm256_maskz_loadu_epi16(m, reinterpret_cast<const __m256i*>(row + i * 2)));
  }
  return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row + i * 4));
}

// out of heads [h0, h0 + HN) for values [i0, i0 + 16 * CH) of head_dim (the
// last chunk 8 wide when `half_last`): every V chunk loaded once per position
// for the HN heads; HN * CH accumulators.
template <int HN, int CH>
void WeightedSum16(const AttnArgs& a, const float* inv, int h0, int i0, bool half_last) {
  __m512 acc[HN][CH];
  __mmask16 m[CH];
  for (int c = 0; c < CH; ++c) m[c] = half_last && c == CH - 1 ? 0x00FF : 0xFFFF;
  for (int h = 0; h < HN; ++h)
    for (int c = 0; c < CH; ++c) acc[h][c] = _mm512_setzero_ps();
  const float* w = a.scores + static_cast<size_t>(h0) * a.n_pos;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* vrow = a.v + static_cast<size_t>(p) * a.row_bytes;
    __m512 v[CH];
    for (int c = 0; c < CH; ++c) v[c] = Load16(vrow, a.head_offset + i0 + 16 * c, a.f16, m[c]);
    for (int h = 0; h < HN; ++h) {
      const __m512 wp = _mm512_set1_ps(w[static_cast<size_t>(h) * a.n_pos + p]);
      for (int c = 0; c < CH; ++c) acc[h][c] = _mm512_fmadd_ps(wp, v[c], acc[h][c]);
    }
  }
  for (int h = 0; h < HN; ++h) {
    float* out = a.out + static_cast<size_t>(h0 + h) * a.head_dim + i0;
    const __m512 s = _mm512_set1_ps(inv[h0 + h]);
    for (int c = 0; c < CH; ++c)
      _mm512_mask_storeu_ps(out + 16 * c, m[c], _mm512_mul_ps(acc[h][c], s));
  }
}

// Heads [h0, h0 + HN): 16-value chunks in runs of at most 24 / HN, the last
// one 8 wide if head_dim % 16 == 8.
template <int HN>
void WeightedSumHeads16(const AttnArgs& a, const float* inv, int h0) {
  constexpr int kCh = std::max(1, 24 / HN);
  const int chunks = (a.head_dim + 15) / 16;
  const bool half = a.head_dim % 16 != 0;
  int c = 0;
  for (; c + kCh <= chunks; c += kCh) {
    WeightedSum16<HN, kCh>(a, inv, h0, 16 * c, half && c + kCh == chunks);
  }
  for (; c < chunks; ++c) WeightedSum16<HN, 1>(a, inv, h0, 16 * c, half && c + 1 == chunks);
}

}  // namespace

void AttendHeadAvx512(const AttnArgs& a) {
  if (a.head_dim > kAttnMaxHeadDim ||
      a.n_q > kAttnMaxGroup) {  // beyond the scratch sizes (AVX2 takes them)
    AttendHeadAvx2(a);
    return;
  }
  float max[kAttnMaxGroup], inv[kAttnMaxGroup];
  RawScores(a, max);
  AttentionSoftmaxAvx2(a, max, inv);
  int h = 0;
  for (; h + 8 <= a.n_q; h += 8) WeightedSumHeads16<8>(a, inv, h);
  if (h + 4 <= a.n_q) WeightedSumHeads16<4>(a, inv, h), h += 4;
  if (h + 2 <= a.n_q) WeightedSumHeads16<2>(a, inv, h), h += 2;
  if (h < a.n_q) WeightedSumHeads16<1>(a, inv, h);
}

}  // namespace hearth::kernels
