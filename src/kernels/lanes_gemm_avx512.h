// Internal to matmul_avx512_f.cc: F32/F16/BF16 batches of kLanesMinTokens or
// more tokens with the tokens in the vector lanes. Needs AVX-512F; W is one of
// that file's weight loaders (Load(p, mask) -> 16 F32 values, kBytes).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.h"

namespace hearth::kernels {
namespace {

// The matvec (matmul_avx512_f.cc) sums a (row, token) pair as 32 fma chains,
// one per residue o of k mod 32 (lane o % 16 of its accumulator o / 16):
// s_o = fma(w[k], x[k], s_o) over k = o, o + 32, ... from +0; then
// v_j = s_j + s_{16 + j} and _mm512_reduce_add_ps's tree over j. Here a
// register holds one residue's chains for 16 tokens, so the chains are
// vertical fmas against a broadcast weight and the tree is vertical adds in
// the same order: the same operations, so the same bits. A pass (one residue,
// kLr rows x kLt tokens) runs 24 accumulators over the packed steps: 2 token
// loads and 12 broadcasts per 24 fmas, both read in order (the register tile
// of RunTiles loads 10 vectors per 24 fmas, 6 of them from L2).
constexpr int kLr = 12;        // rows per tile
constexpr int kLg = 2;         // 16-token halves per token group
constexpr int kLt = 16 * kLg;  // tokens per group
// Below this the weights' packing (a transpose per 16 x 16 values) costs more
// than the passes gain: F16 pp32 x0.85, pp64 x0.90, pp128 x1.04, pp512 x1.13
// against RunTiles (2 threads, Xeon VM).
constexpr int kLanesMinTokens = 128;
// Packed token bytes per block: they stay in L2 while every row tile of the
// thread's range passes over them.
constexpr int64_t kLanesXBytes = int64_t{1} << 20;
// Row tiles per row block: a block's weights are packed once per call
// (kLanesRowTiles x kLr rows: 3 MiB of F32 at 2048 values per row, read from
// the last-level cache), the tokens once per block and token block.
constexpr int64_t kLanesRowTiles = 32;

// Steps per residue: ceil(n_in / 32). A residue past n_in in the last step
// (n_in % 32 == 16) gets a zero weight and token there: fma(0, 0, s) = s, as
// s is never -0 (it starts at +0, and x + (-x) = +0).
inline int64_t LaneSteps(int64_t n_in) {
  return (n_in + 31) / 32;
}

// Rows r[0..15] -> columns: out[c] lane i = r[i][c].
inline void Transpose16(const __m512* r, __m512* out) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + q], 128-bit lane L: column 4L + q of rows 4i .. 4i + 3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int q = 0; q < 4; ++q) {
    const __m512 v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88);
    const __m512 v2 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xDD);
    const __m512 w1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88);
    const __m512 w2 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xDD);
    out[q] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    out[8 + q] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    out[4 + q] = _mm512_shuffle_f32x4(v2, w2, 0x88);
    out[12 + q] = _mm512_shuffle_f32x4(v2, w2, 0xDD);
  }
}

// Up to 16 rows (load(i) for i < n, zeros after) transposed: column j (lane i
// = row i's value j) goes to store(j, column).
template <class Load, class Store>
inline void TransposeRows(int n, const Load& load, const Store& store) {
  __m512 r[16], c[16];
  for (int i = 0; i < 16; ++i) r[i] = i < n ? load(i) : _mm512_setzero_ps();
  Transpose16(r, c);
  for (int j = 0; j < 16; ++j) store(j, c[j]);
}

// Rows [row0, row0 + kLr) converted to F32 as wp[o][m][kLr]: weight k = 32m + o
// of each row (zeros past n_in).
template <class W>
void PackLaneRows(const MatmulArgs& a, int64_t row0, float* wp) {
  const int64_t steps = LaneSteps(a.n_in);
  for (int64_t ch = 0; ch < 2 * steps; ++ch) {  // 16 values k0 .. k0 + 15
    const int64_t k0 = 16 * ch, o0 = 16 * (ch % 2), m = ch / 2;
    TransposeRows(
        k0 < a.n_in ? kLr : 0,
        [&](int i) { return W::Load(a.w + (row0 + i) * a.row_bytes + k0 * W::kBytes, 0xFFFF); },
        [&](int j, __m512 v) {
          _mm512_mask_storeu_ps(wp + ((o0 + j) * steps + m) * kLr, (1u << kLr) - 1, v);
        });
  }
}

// Tokens [t0, t0 + n) as xp[group][o][m][kLt]: value k = 32m + o of token
// kLt * group + lane (zeros past n_in and for the tokens past n).
void PackLaneTokens(const MatmulArgs& a, int t0, int n, float* xp) {
  const int64_t steps = LaneSteps(a.n_in);
  for (int g = 0; g * kLt < n; ++g) {
    for (int h = 0; h < kLg; ++h) {
      const int first = g * kLt + 16 * h;
      const int valid = std::clamp(n - first, 0, 16);
      for (int64_t ch = 0; ch < 2 * steps; ++ch) {
        const int64_t k0 = 16 * ch, o0 = 16 * (ch % 2), m = ch / 2;
        TransposeRows(
            k0 < a.n_in ? valid : 0,
            [&](int i) {
              return _mm512_loadu_ps(
                  reinterpret_cast<const float*>(a.x + (t0 + first + i) * a.x_stride) + k0);
            },
            [&](int j, __m512 v) {
              _mm512_store_ps(xp + ((g * 32 + o0 + j) * steps + m) * kLt + 16 * h, v);
            });
      }
    }
  }
}

// One residue's chains for a tile: out[r][g] = the fmas over the steps of
// w[m][r] * x[m][g], from +0.
inline void LanePass(const float* w, const float* x, int64_t steps, float* out) {
  __m512 acc[kLr][kLg];
  for (int r = 0; r < kLr; ++r)
    for (int g = 0; g < kLg; ++g) acc[r][g] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t m = 0; m < steps; ++m) {
    __m512 xv[kLg];
    for (int g = 0; g < kLg; ++g) xv[g] = _mm512_load_ps(x + (m * kLg + g) * 16);
    for (int r = 0; r < kLr; ++r) {
      const __m512 wv = _mm512_set1_ps(w[m * kLr + r]);
      for (int g = 0; g < kLg; ++g) acc[r][g] = _mm512_fmadd_ps(wv, xv[g], acc[r][g]);
    }
  }
  for (int r = 0; r < kLr; ++r)
    for (int g = 0; g < kLg; ++g) _mm512_store_ps(out + (r * kLg + g) * 16, acc[r][g]);
}

// The 32 residues' chains part[o][r][g] of a tile and token group -> results
// (_mm512_reduce_add_ps's tree, vertically), stored for the group's first
// n_valid tokens (token t0 + 16 g + lane).
inline void LaneReduceStore(const MatmulArgs& a, const float* part, int64_t row0, int t0,
                            int n_valid) {
  constexpr int kPart = kLr * kLg * 16;  // floats per residue
  for (int g = 0; g < kLg; ++g) {
    const int valid = std::clamp(n_valid - 16 * g, 0, 16);
    if (valid == 0) continue;
    // Row r's results for the 16 tokens, transposed: token t's kLr results
    // side by side, stored as one run of its row of Y.
    TransposeRows(
        kLr,
        [&](int r) {
          const float* p = part + (r * kLg + g) * 16;
          __m512 v[16];
          for (int j = 0; j < 16; ++j)
            v[j] =
                _mm512_add_ps(_mm512_load_ps(p + j * kPart), _mm512_load_ps(p + (16 + j) * kPart));
          for (int j = 0; j < 8; ++j) v[j] = _mm512_add_ps(v[8 + j], v[j]);
          for (int j = 0; j < 4; ++j) v[j] = _mm512_add_ps(v[4 + j], v[j]);
          return _mm512_add_ps(_mm512_add_ps(v[0], v[2]), _mm512_add_ps(v[1], v[3]));
        },
        [&](int t, __m512 v) {
          if (t < valid)
            _mm512_mask_storeu_ps(a.y + (t0 + 16 * g + t) * a.y_stride + row0, (1u << kLr) - 1, v);
        });
  }
}

// Rows outside whole tiles of kLr go to `rest`.
template <class W>
void RunLanes(const MatmulArgs& a, MatmulFn rest) {
  const WholeTiles whole = RunOutsideWholeTiles(a, 1, kLr, rest);
  if (whole.n_tok == 0) return;
  const int64_t steps = LaneSteps(a.n_in);
  const int64_t group_floats = 32 * steps * kLt;
  const int64_t tile_floats = 32 * steps * kLr;
  const int cap_groups = static_cast<int>(std::max<int64_t>(1, kLanesXBytes / (group_floats * 4)));
  const int all_groups = (whole.n_tok + kLt - 1) / kLt;
  const int n_blocks = (all_groups + cap_groups - 1) / cap_groups;
  const int block_groups = (all_groups + n_blocks - 1) / n_blocks;
  constexpr int64_t block_tiles = kLanesRowTiles;
  struct alignas(64) Line {
    float v[16];
  };
  thread_local std::vector<Line> xp_buf, wp_buf, part_buf;
  xp_buf.resize(static_cast<size_t>(block_groups * group_floats / 16));
  wp_buf.resize(static_cast<size_t>((block_tiles * tile_floats + 15) / 16));
  part_buf.resize(static_cast<size_t>(32 * kLr * kLg));
  float* const xp = xp_buf.data()->v;
  float* const wp = wp_buf.data()->v;
  float* const part = part_buf.data()->v;
  const int64_t row_end = a.row_begin + whole.n_rows;
  // Row blocks of block_tiles tiles, packed once; the tokens go through each
  // in blocks whose packed values stay in L2.
  for (int64_t rb = a.row_begin; rb < row_end; rb += block_tiles * kLr) {
    const int64_t n_tiles = std::min(block_tiles, (row_end - rb) / kLr);
    for (int64_t tile = 0; tile < n_tiles; ++tile)
      PackLaneRows<W>(a, rb + tile * kLr, wp + tile * tile_floats);
    for (int tb = 0; tb < whole.n_tok; tb += block_groups * kLt) {
      const int n_tok = std::min(block_groups * kLt, whole.n_tok - tb);
      PackLaneTokens(a, tb, n_tok, xp);
      for (int64_t tile = 0; tile < n_tiles; ++tile) {
        const float* w = wp + tile * tile_floats;
        for (int g = 0; g * kLt < n_tok; ++g) {
          for (int o = 0; o < 32; ++o) {
            LanePass(w + o * steps * kLr, xp + (g * 32 + o) * steps * kLt, steps,
                     part + o * kLr * kLg * 16);
          }
          LaneReduceStore(a, part, rb + tile * kLr, tb + g * kLt, n_tok - g * kLt);
        }
      }
    }
  }
}

}  // namespace
}  // namespace hearth::kernels
