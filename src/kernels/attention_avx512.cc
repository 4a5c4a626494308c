// AVX-512 attention of a group of query heads sharing one KV head (see
// attention.h), in attention_avx2.cc's order throughout, so with its bits:
//   score[p]: an 8-wide fma chain over the 8-value chunks of q * K[p], then
//     Hsum8x8's tree (avx2_util.h) and * scale; here the chains of two
//     positions share one 16-wide register (lanes 0-7 and 8-15), half the
//     fmas, and the tree sums 16 positions' chains at once;
//   softmax: AttentionSoftmaxFromAvx2's order, its whole 16-position steps
//     16 lanes wide (Exp16: Exp8 lane for lane);
//   out[i] = (fma chain over p of e[p] * V[p][i]) * (1 / sum), 16 values per
//     register: a pass over the positions covers twice the values (hd 64,
//     8 heads: 2 passes over V instead of 4).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/attention.h"
#include "kernels/avx2_util.h"
#include "kernels/avx512_util.h"

namespace hearth::kernels {
namespace {

// Sum of adjacent lane pairs within each 128-bit block, as _mm256_hadd_ps
// forms them: block k = [a0 + a1, a2 + a3, b0 + b1, b2 + b3] of a's and b's
// block k.
inline __m512 Hadd16(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// Values [i, i + 8) of K/V rows r0 and r1 in lanes 0-7 and 8-15.
inline __m512 LoadPair(const uint8_t* r0, const uint8_t* r1, int i, bool f16) {
  if (f16) {
    const __m128i h0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + i * 2));
    const __m128i h1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + i * 2));
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(h0), h1, 1));
  }
  return _mm512_insertf32x8(
      _mm512_castps256_ps512(_mm256_loadu_ps(reinterpret_cast<const float*>(r0 + i * 4))),
      _mm256_loadu_ps(reinterpret_cast<const float*>(r1 + i * 4)), 1);
}

// The first position (from the block's start) of RawScores' pair j; the
// second is 4 after it.
inline int PairFirst(int j) {
  return j < 4 ? j : j + 4;
}

// Head h's scores for the 16 positions from p0 whose K rows are in kb
// (RawScores), into a.scores and max_score[h]. (Two heads per pass over kb,
// half the kb loads, measured no faster.)
void ScoreBlock(const AttnArgs& a, const float (*kb)[2 * kAttnMaxHeadDim], int h, int p0,
                __mmask16 tail, __m512* max_score) {
  const float* q = a.q + static_cast<size_t>(h) * a.head_dim;
  __m512 acc[8];
  for (int j = 0; j < 8; ++j) acc[j] = _mm512_setzero_ps();
  for (int i = 0; i < a.head_dim; i += 8) {
    const __m512 qv = _mm512_broadcast_f32x8(_mm256_loadu_ps(q + i));
    for (int j = 0; j < 8; ++j) acc[j] = _mm512_fmadd_ps(qv, _mm512_load_ps(kb[j] + 2 * i), acc[j]);
  }
  // Block k of u0: the 4-lane sums of block k of acc[0..3]; u1: of acc[4..7].
  const __m512 u0 = Hadd16(Hadd16(acc[0], acc[1]), Hadd16(acc[2], acc[3]));
  const __m512 u1 = Hadd16(Hadd16(acc[4], acc[5]), Hadd16(acc[6], acc[7]));
  // First halves (blocks 0, 2) plus second halves (blocks 1, 3): positions
  // 0-3, 4-7 from u0 and 8-11, 12-15 from u1.
  const __m512 s16 = _mm512_mul_ps(
      _mm512_add_ps(_mm512_shuffle_f32x4(u0, u1, 0x88), _mm512_shuffle_f32x4(u0, u1, 0xDD)),
      _mm512_set1_ps(a.scale));
  _mm512_mask_storeu_ps(a.scores + static_cast<size_t>(h) * a.n_pos + p0, tail, s16);
  max_score[h] = _mm512_mask_max_ps(max_score[h], tail, max_score[h], s16);
}

// Every head's scores into scores[h][p] and their maximum into max[h], as
// attention_avx2.cc computes them. Positions go 16 at a time, their K rows
// converted once into kb as pairs: kb[j][16c .. 16c + 7] = chunk c of
// position PairFirst(j), kb[j][16c + 8 .. 16c + 15] = chunk c of PairFirst(j)
// + 4 (the block's first position again past n_pos). Each head's 8 chains
// are then summed by Hsum8x8's tree (pairs, pairs of pairs, the two 4-lane
// halves) for all 16 positions at once, which this pairing leaves in
// position order.
void RawScores(const AttnArgs& a, float* max) {
  const int hd = a.head_dim;
  alignas(64) float kb[8][2 * kAttnMaxHeadDim];
  __m512 max_score[kAttnMaxGroup];
  for (int h = 0; h < a.n_q; ++h) max_score[h] = _mm512_set1_ps(-INFINITY);
  for (int p0 = 0; p0 < a.n_pos; p0 += 16) {
    const int np = std::min(16, a.n_pos - p0);
    PrefetchKvAhead(a.k, a.row_bytes, kAttnPrefetchBytes, p0, 16, a.n_pos);
    for (int j = 0; j < 8; ++j) {
      const int f = PairFirst(j);
      const uint8_t* r0 = a.k + static_cast<size_t>(p0 + (f < np ? f : 0)) * a.row_bytes;
      const uint8_t* r1 = a.k + static_cast<size_t>(p0 + (f + 4 < np ? f + 4 : 0)) * a.row_bytes;
      for (int i = 0; i < hd; i += 8)
        _mm512_store_ps(kb[j] + 2 * i, LoadPair(r0, r1, a.head_offset + i, a.f16));
    }
    const __mmask16 tail = static_cast<__mmask16>((1u << np) - 1);
    for (int h = 0; h < a.n_q; ++h) ScoreBlock(a, kb, h, p0, tail, max_score);
  }
  for (int h = 0; h < a.n_q; ++h) max[h] = _mm512_reduce_max_ps(max_score[h]);
}

// One head's softmax in attention_avx2.cc's order (AttentionSoftmaxFromAvx2)
// with its whole 16-position steps 16 lanes wide: e[p] by Exp16, the two
// 8-lane halves added into the sums in position order; the rest by the AVX2
// function. Returns 1 / sum.
float Softmax(float* scores, int n_pos, float max) {
  const __m512 mx = _mm512_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  int p = 0;
  for (; p + 16 <= n_pos; p += 16) {
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_loadu_ps(scores + p), mx));
    _mm512_storeu_ps(scores + p, e);
    sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
    sum = _mm256_add_ps(sum, _mm512_extractf32x8_ps(e, 1));
  }
  alignas(32) float sum8[8];
  _mm256_store_ps(sum8, sum);
  return AttentionSoftmaxFromAvx2(scores, n_pos, p, max, sum8);
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
    PrefetchKvAhead(a.v, a.row_bytes, kAttnPrefetchBytes, p, 1, a.n_pos);
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

// Heads [h0, h0 + HN): 16-value chunks in runs of at most 16 / HN (16
// accumulators; head_dim 64 with 8 heads: two passes of two chunks, 7% faster
// than three chunks and then one), the last one 8 wide if head_dim % 16 == 8.
template <int HN>
void WeightedSumHeads16(const AttnArgs& a, const float* inv, int h0) {
  constexpr int kCh = std::max(1, 16 / HN);
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
  for (int h = 0; h < a.n_q; ++h)
    inv[h] = Softmax(a.scores + static_cast<size_t>(h) * a.n_pos, a.n_pos, max[h]);
  int h = 0;
  for (; h + 8 <= a.n_q; h += 8) WeightedSumHeads16<8>(a, inv, h);
  if (h + 4 <= a.n_q) WeightedSumHeads16<4>(a, inv, h), h += 4;
  if (h + 2 <= a.n_q) WeightedSumHeads16<2>(a, inv, h), h += 2;
  if (h < a.n_q) WeightedSumHeads16<1>(a, inv, h);
}

}  // namespace hearth::kernels
