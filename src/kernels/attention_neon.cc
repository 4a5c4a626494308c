// NEON attention of a group of query heads sharing one KV head (see
// attention.h). head_dim % 8 == 0.
//
// Order per head (fixed by head_dim and n_pos, the same whatever n_q is, so
// grouping never changes bits; the same lane structure as the AVX2 variant:
// 8 elements per step held as two 4-lane halves):
//   score[p] = Hsum8(sum over i-steps of fma(q, K[p])) * scale, where
//     Hsum8(lo, hi) = ((lo0 + hi0) + (lo2 + hi2)) + ((lo1 + hi1) + (lo3 + hi3));
//   softmax in position order; out[i..i+3] = (fma chain over p of w'[p] * V[p][i..i+3])
//   * (1 / sum), with w'[p] = exp(score[p] - max).
// Positions go in tiles: a tile's F16 K rows (later its V rows) are converted
// once for all heads of the group (exactly, so the values are those of the
// rows), and each head's weighted sums carry over from tile to tile in `out`.
#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/neon_util.h"

namespace hearth::kernels {
namespace {

// Elements i .. i+3 of a row of F32 or F16 values.
inline float32x4_t Load4(const uint8_t* row, int i, bool f16) {
  if (f16) return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(row + static_cast<size_t>(i) * 2)));
  return LoadF32x4(row + static_cast<size_t>(i) * 4);
}

// The 64-byte lines of a K/V row (from loops that also load, so the compiler
// keeps the prefetches).
inline void PrefetchRow(const uint8_t* row, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(row + o);
}

// Floats of converted rows per tile (16 KiB): 64 positions at head_dim 64.
constexpr int kTileFloats = 4096;

// Rows [p0, p0 + np) of K or V as F32: F16 rows converted into `tile`
// (row j at tile + j * head_dim); F32 rows are read in place (nullptr).
// Prefetches the rows kAttnPrefetchBytes ahead.
const float* TileRows(const AttnArgs& a, const uint8_t* base, int p0, int np, float* tile) {
  const int ahead = static_cast<int>(kAttnPrefetchBytes / std::max<size_t>(a.row_bytes, 1));
  for (int j = 0; j < np; ++j) {
    const uint8_t* row = base + static_cast<size_t>(p0 + j) * a.row_bytes;
    if (p0 + j + ahead < a.n_pos) PrefetchRow(row + ahead * a.row_bytes, a.row_bytes);
    if (!a.f16) continue;
    for (int i = 0; i < a.head_dim; i += 4)
      vst1q_f32(tile + static_cast<size_t>(j) * a.head_dim + i,
                Load4(row, a.head_offset + i, true));
  }
  return a.f16 ? tile : nullptr;
}

// Element i of row j of a tile (TileRows' result `t`, or the F32 rows in place).
inline float32x4_t TileLoad(const AttnArgs& a, const float* t, const uint8_t* base, int p, int j,
                            int i) {
  if (t != nullptr) return vld1q_f32(t + static_cast<size_t>(j) * a.head_dim + i);
  return Load4(base + static_cast<size_t>(p) * a.row_bytes, a.head_offset + i, false);
}

// Heads [0, a.n_q), a.n_q <= kAttnMaxGroup.
void Group(const AttnArgs& a) {
  const int hd = a.head_dim;
  const int tile_pos = std::max(1, kTileFloats / hd);
  float tile[kTileFloats];
  float max_score[kAttnMaxGroup];
  std::fill(max_score, max_score + a.n_q, -INFINITY);
  for (int p0 = 0; p0 < a.n_pos; p0 += tile_pos) {
    const int np = std::min(tile_pos, a.n_pos - p0);
    const float* kt = TileRows(a, a.k, p0, np, tile);
    for (int h = 0; h < a.n_q; ++h) {
      const float* q = a.q + static_cast<size_t>(h) * hd;
      float* scores = a.scores + static_cast<size_t>(h) * a.n_pos;
      for (int j = 0; j < np; ++j) {
        float32x4_t lo = vdupq_n_f32(0.0f), hi = lo;
        for (int i = 0; i < hd; i += 8) {
          lo = vfmaq_f32(lo, vld1q_f32(q + i), TileLoad(a, kt, a.k, p0 + j, j, i));
          hi = vfmaq_f32(hi, vld1q_f32(q + i + 4), TileLoad(a, kt, a.k, p0 + j, j, i + 4));
        }
        scores[p0 + j] = HsumF32(vaddq_f32(lo, hi)) * a.scale;
        max_score[h] = std::max(max_score[h], scores[p0 + j]);
      }
    }
  }
  float inv[kAttnMaxGroup];
  for (int h = 0; h < a.n_q; ++h) {
    float* scores = a.scores + static_cast<size_t>(h) * a.n_pos;
    float sum = 0.0f;
    for (int p = 0; p < a.n_pos; ++p) sum += scores[p] = std::exp(scores[p] - max_score[h]);
    inv[h] = 1.0f / sum;
  }
  // out accumulates each head's sums, up to kRun values per pass over a tile
  // (each value's fma chain over p as with 8 values per pass).
  std::fill(a.out, a.out + static_cast<size_t>(a.n_q) * hd, 0.0f);
  constexpr int kRun = 64;
  for (int p0 = 0; p0 < a.n_pos; p0 += tile_pos) {
    const int np = std::min(tile_pos, a.n_pos - p0);
    const float* vt = TileRows(a, a.v, p0, np, tile);
    for (int h = 0; h < a.n_q; ++h) {
      const float* w = a.scores + static_cast<size_t>(h) * a.n_pos + p0;
      float* out = a.out + static_cast<size_t>(h) * hd;
      for (int i0 = 0; i0 < hd; i0 += kRun) {
        const int n = std::min(kRun, hd - i0);
        float32x4_t acc[kRun / 4];
        for (int c = 0; c < n / 4; ++c) acc[c] = vld1q_f32(out + i0 + 4 * c);
        for (int j = 0; j < np; ++j) {
          const float32x4_t wj = vdupq_n_f32(w[j]);
          for (int c = 0; c < n / 4; ++c)
            acc[c] = vfmaq_f32(acc[c], wj, TileLoad(a, vt, a.v, p0 + j, j, i0 + 4 * c));
        }
        for (int c = 0; c < n / 4; ++c) vst1q_f32(out + i0 + 4 * c, acc[c]);
      }
    }
  }
  for (int h = 0; h < a.n_q; ++h) {
    float* out = a.out + static_cast<size_t>(h) * hd;
    const float32x4_t s = vdupq_n_f32(inv[h]);
    for (int i = 0; i < hd; i += 4) vst1q_f32(out + i, vmulq_f32(vld1q_f32(out + i), s));
  }
}

}  // namespace

void AttendHeadNeon(const AttnArgs& a) {
  // Groups beyond the scratch limit in parts (each head's bits do not depend
  // on the group).
  for (int h0 = 0; h0 < a.n_q; h0 += kAttnMaxGroup) {
    AttnArgs part = a;
    part.n_q = std::min(kAttnMaxGroup, a.n_q - h0);
    part.q = a.q + static_cast<size_t>(h0) * a.head_dim;
    part.out = a.out + static_cast<size_t>(h0) * a.head_dim;
    part.scores = a.scores + static_cast<size_t>(h0) * a.n_pos;
    Group(part);
  }
}

}  // namespace hearth::kernels
