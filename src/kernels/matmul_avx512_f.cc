// AVX-512 kernels for F32, F16 and BF16 weights (conversions exact) against
// F32 activations.
//
// Order: chunk k of 16 consecutive elements is fma'd into accumulator
// (k mod 2); a final partial chunk is loaded masked (zeros beyond n_in).
// Result = _mm512_reduce_add_ps(acc0 + acc1) (a fixed tree).
//
// Batches (n_in % 16 == 0) run the same operations over packed, F32-converted
// operands (conversions are exact): 128+ tokens with the tokens in the lanes
// (RunLanes, lanes_gemm_avx512.h), 6-127 as a blocked GEMM with the elements
// in the lanes (RunTiles); a last partial token group is padded with zero tokens
// (computed, never stored). Rows outside whole tiles use the next path down
// (RunTiles, then Rows<T, 1>); decode reads rows in lock step (DriveRows).
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/lanes_gemm_avx512.h"
#include "kernels/weight_prefetch.h"

namespace hearth::kernels {
namespace {

struct LoadF32 {
  static constexpr int kBytes = 4;
  static __m512 Load(const uint8_t* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct LoadF16 {
  static constexpr int kBytes = 2;
  static __m512 Load(const uint8_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct LoadBF16 {
  static constexpr int kBytes = 2;
  static __m512 Load(const uint8_t* p, __mmask16 m) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
};

template <class W>
struct KernelF {
  template <int T>
  static inline void Chunk(const uint8_t* w, const uint8_t* const* x, int64_t j, __mmask16 m,
                           __m512 (*acc)[2], int k) {
    const __m512 wv = W::Load(w + j * W::kBytes, m);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(x[t]) + j);
      acc[t][k] = _mm512_fmadd_ps(wv, xv, acc[t][k]);
    }
  }

  // R rows (one per row stream) in lock step against T tokens; out[r * T + t].
  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    const int64_t ahead = PrefetchAhead();
    __m512 acc[R][T][2];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t][0] = acc[r][t][1] = _mm512_setzero_ps();
    }
    const __mmask16 all = 0xFFFF;
    int64_t j = 0;
    for (; j + 32 <= n_in; j += 32) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        // Into L1, PrefetchAhead() bytes ahead (rows are contiguous: runs on into
        // the next row).
        const char* p = reinterpret_cast<const char*>(w_rows[r] + j * W::kBytes);
        PrefetchWeights<32 * W::kBytes>(p, ahead);
        Chunk<T>(w_rows[r], x, j, all, acc[r], 0);
        Chunk<T>(w_rows[r], x, j + 16, all, acc[r], 1);
      }
    }
    for (int r = 0; r < R; ++r) {
      int64_t i = j;
      if (i + 16 <= n_in) {
        Chunk<T>(w_rows[r], x, i, all, acc[r], 0);
        i += 16;
      }
      if (i < n_in) {
        const auto m = static_cast<__mmask16>((1u << (n_in - i)) - 1);
        Chunk<T>(w_rows[r], x, i, m, acc[r], static_cast<int>((i / 16) & 1));
      }
      for (int t = 0; t < T; ++t) {
        out[r * T + t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][t][0], acc[r][t][1]));
      }
    }
  }
};

// Batches: a small GEMM with the same per-lane operations as Row. Chunk c
// (16 elements) of row r and token t is fma'd into lane accumulator
// acc[c % 2][r][t], in increasing c, and out = reduce(acc[0] + acc[1]).
//
// Blocking (per thread):
//   for each block of up to 144 tokens (~1 MiB, L2): pack X (once per call)
//     for each block of kMc rows (its row tiles' outputs spilled per group):
//       for each K block of kKc chunks, for each parity, for each tile of kR
//       rows: pack that W slice, converted to F32 (16 KiB, stays in L1);
//         for each group of kT tokens (X slice streamed from L2): 24
//         accumulators (register tile kR x kT) run over the slice's chunks,
//         loaded from and stored to the group's spill area between K blocks.
// (Measurements behind this order: docs/engine.md, "F16/F32/BF16 batches".)
// Packed X: per group of kT tokens, per K block b, the even chunks, then the
// odd ones; each chunk as kT x 16 floats.
constexpr int kR = 4, kT = 6;
constexpr int64_t kKc = 128;  // chunks per K block (2048 elements; 24 KiB of X per parity)
constexpr int64_t kMc = 16;   // rows per W block (one prefetch unit)

struct Chunks {
  int64_t n;  // chunks per row (n_in / 16)
  int64_t Len(int64_t b) const { return std::min(kKc, n - kKc * b); }
  int64_t Count(int64_t b, int p) const { return p == 0 ? (Len(b) + 1) / 2 : Len(b) / 2; }
  // First chunk slot (in u x 16-float units) of parity p in block b.
  int64_t Start(int64_t b, int p) const { return kKc * b + (p == 1 ? Count(b, 0) : 0); }
};

// Writes token `u` of a packed group of kT from its chunks, read by
// load(chunk index) (F32 __m512).
template <class LoadChunk>
inline void PackUnit(const Chunks& ch, int u, float* out, const LoadChunk& load) {
  for (int64_t b = 0; b * kKc < ch.n; ++b) {
    for (int p = 0; p < 2; ++p) {
      float* dst = out + (ch.Start(b, p) * kT + u) * 16;
      const int64_t count = ch.Count(b, p);
      for (int64_t s = 0; s < count; ++s) {
        _mm512_store_ps(dst, load(kKc * b + 2 * s + p));
        dst += kT * 16;
      }
    }
  }
}

// One W slice: rows [row0, row0 + kR), the chunks of parity p in K block b,
// converted to F32 as count x kR x 16 floats (~16 KiB, L1).
template <class W>
void PackSlice(const MatmulArgs& a, int64_t row0, const Chunks& ch, int64_t b, int p, float* out) {
  const int64_t count = ch.Count(b, p);
  for (int r = 0; r < kR; ++r) {
    const uint8_t* src = a.w + (row0 + r) * a.row_bytes + (kKc * b + p) * 16 * W::kBytes;
    for (int64_t s = 0; s < count; ++s) {
      _mm512_store_ps(out + (s * kR + r) * 16, W::Load(src + s * 32 * W::kBytes, 0xFFFF));
    }
  }
}

// Tokens [t0, t0 + n_tok) in groups of kT; the last group padded with zero
// tokens (their results are never stored; each token's sums are its own).
void PackTokens(const MatmulArgs& a, int t0, int n_tok, const Chunks& ch, float* out) {
  for (int g = 0; g * kT < n_tok; ++g) {
    for (int t = 0; t < kT; ++t) {
      float* dst = out + g * kT * a.n_in;
      if (g * kT + t >= n_tok) {
        PackUnit(ch, t, dst, [](int64_t) { return _mm512_setzero_ps(); });
        continue;
      }
      const float* src = reinterpret_cast<const float*>(a.x + (t0 + g * kT + t) * a.x_stride);
      PackUnit(ch, t, dst, [&](int64_t c) { return _mm512_loadu_ps(src + c * 16); });
    }
  }
}

// out[i] = _mm512_reduce_add_ps(v[i]) for 16 vectors, bit for bit: the same
// pairings and operand order as that reduction (upper + lower 256 bits,
// upper + lower 128, [0] + [2] and [1] + [3], then [0] + [1]), with four
// vectors' lanes side by side in each step.
inline void Reduce16(const __m512* v, float* out) {
  __m512 u[8], w[4], y[2];
  for (int k = 0; k < 8; ++k) {
    // lanes 0..7: v[2k] upper + lower halves; lanes 8..15: the same of v[2k + 1].
    u[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)),
                         _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)));
  }
  for (int k = 0; k < 4; ++k) {
    // 128-bit lane q: the 4-lane step of v[4k + q].
    w[k] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], _MM_SHUFFLE(3, 1, 3, 1)),
                         _mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], _MM_SHUFFLE(2, 0, 2, 0)));
  }
  for (int k = 0; k < 2; ++k) {
    // 128-bit lane q: the two sums of v[8k + q], then those of v[8k + 4 + q].
    y[k] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * k], w[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(w[2 * k], w[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // Lane 4q + i: v[4i + q]; permuted into index order.
  const __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y[0], y[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(y[0], y[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i idx = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  _mm512_storeu_ps(out, _mm512_permutexvar_ps(idx, z));
}

// acc[r][t] (in spill, 16 floats each) += sum over n chunks of w[r] * x[t].
// w: n x kR x 16 floats; x: n x kT x 16 floats.
// Also prefetches pf_bytes at pf (part of the next W block) into L2.
inline void Tile(const float* w, const float* x, int64_t n, bool first, float* spill,
                 const uint8_t* pf, int64_t pf_bytes) {
  for (int64_t o = 0; o < pf_bytes; o += 64)
    _mm_prefetch(reinterpret_cast<const char*>(pf) + o, _MM_HINT_T1);
  __m512 acc[kR][kT];
  for (int r = 0; r < kR; ++r) {
    for (int t = 0; t < kT; ++t) {
      acc[r][t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(spill + (r * kT + t) * 16);
    }
  }
  for (int64_t s = 0; s < n; ++s) {
    __m512 wv[kR];
    for (int r = 0; r < kR; ++r) wv[r] = _mm512_loadu_ps(w + (s * kR + r) * 16);
    for (int t = 0; t < kT; ++t) {
      const __m512 xv = _mm512_loadu_ps(x + (s * kT + t) * 16);
      for (int r = 0; r < kR; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < kR; ++r)
    for (int t = 0; t < kT; ++t) _mm512_storeu_ps(spill + (r * kT + t) * 16, acc[r][t]);
}

template <class W>
void RunTiles(const MatmulArgs& a) {
  if (a.n_in % 16 != 0 || a.n_tok < kT) {
    DriveRows<KernelF<W>, 1, kDecodeRowsX86>(a);
    return;
  }
  // Every token runs here (a last partial group is padded); rows past the
  // last whole tile of kR take the matvec kernel.
  const WholeTiles whole =
      RunOutsideWholeTiles(a, 1, kR, &DriveRows<KernelF<W>, 1, kDecodeRowsX86>);
  if (whole.n_tok == 0) return;
  const Chunks ch{a.n_in / 16};
  const int64_t n_kb = (ch.n + kKc - 1) / kKc;
  // Tokens per packed X block: up to ~1 MiB, which stays in L2 beside the
  // prefetched W block; the batch is split into blocks of equal size (whole
  // groups), since each block packs every W slice again.
  const int64_t cap_groups = std::clamp<int64_t>((int64_t{1024} << 10) / (a.n_in * 4) / kT, 1, 24);
  const int64_t all_groups = (whole.n_tok + kT - 1) / kT;
  const int64_t n_blocks = (all_groups + cap_groups - 1) / cap_groups;
  const int max_tok = static_cast<int>((all_groups + n_blocks - 1) / n_blocks * kT);
  constexpr int64_t kTileFloats = kR * kT * 16;
  // Cache-line aligned: every packed vector is one whole line.
  struct alignas(64) Line {
    float v[16];
  };
  thread_local std::vector<Line> xp_buf, ws_buf, spill_buf;
  constexpr int64_t kTiles = kMc / kR;  // row tiles per W block
  const int64_t max_groups = max_tok / kT;
  xp_buf.resize(static_cast<size_t>(max_tok * ch.n));
  ws_buf.resize(static_cast<size_t>(kR * ((kKc + 1) / 2)));
  spill_buf.resize(static_cast<size_t>(max_groups * kTiles * 2 * kR * kT));
  float* const xp = xp_buf.data()->v;
  float* const ws = ws_buf.data()->v;
  float* const spill = spill_buf.data()->v;
  const int64_t row_end = a.row_begin + whole.n_rows;
  for (int tb = 0; tb < whole.n_tok; tb += max_tok) {
    const int n_tok = std::min(max_tok, whole.n_tok - tb);
    PackTokens(a, tb, n_tok, ch, xp);
    const int n_groups = (n_tok + kT - 1) / kT;
    for (int64_t r0 = a.row_begin; r0 < row_end; r0 += kMc) {
      const int64_t n_rows = std::min(kMc, row_end - r0);
      const int64_t n_tiles = n_rows / kR;
      // The next W block's bytes are prefetched a slice per Tile call, so that
      // packing it does not wait on memory.
      const uint8_t* pf = a.w + (r0 + kMc) * a.row_bytes;
      const int64_t pf_total =
          std::max<int64_t>(0, std::min(row_end, r0 + 2 * kMc) - (r0 + kMc)) * a.row_bytes;
      const int64_t calls = n_groups * n_kb * n_tiles * 2;
      const int64_t pf_slice = (pf_total + 64 * calls - 1) / (64 * calls) * 64;
      int64_t pf_done = 0;
      for (int64_t b = 0; b < n_kb; ++b) {
        for (int p = 0; p < 2; ++p) {
          const int64_t s0 = ch.Start(b, p);
          for (int64_t m = 0; m < n_tiles; ++m) {
            PackSlice<W>(a, r0 + m * kR, ch, b, p, ws);
            for (int g = 0; g < n_groups; ++g) {
              Tile(ws, xp + g * kT * a.n_in + s0 * kT * 16, ch.Count(b, p), b == 0,
                   spill + ((g * kTiles + m) * 2 + p) * kTileFloats, pf + pf_done,
                   std::min(pf_slice, pf_total - pf_done));
              pf_done = std::min(pf_total, pf_done + pf_slice);
            }
          }
        }
      }
      for (int g = 0; g < n_groups; ++g) {
        const float* sg = spill + g * kTiles * 2 * kTileFloats;
        // Outputs (m, r, t) in that order: the two parities added, reduced 16 at a time.
        const int64_t n_out = n_tiles * kR * kT;
        for (int64_t o0 = 0; o0 < n_out; o0 += 16) {
          __m512 v[16];
          for (int i = 0; i < 16; ++i) {
            const int64_t o = o0 + i;
            const float* sp = sg + (o / (kR * kT)) * 2 * kTileFloats + (o % (kR * kT)) * 16;
            v[i] = o < n_out ? _mm512_add_ps(_mm512_load_ps(sp), _mm512_load_ps(sp + kTileFloats))
                             : _mm512_setzero_ps();
          }
          float res[16];
          Reduce16(v, res);
          for (int i = 0; i < 16 && o0 + i < n_out; ++i) {
            const int64_t o = o0 + i;
            const int64_t m = o / (kR * kT), r = (o / kT) % kR, t = o % kT;
            if (g * kT + t >= n_tok) continue;  // a padding token
            a.y[(tb + g * kT + t) * a.y_stride + r0 + m * kR + r] = res[i];
          }
        }
      }
    }
  }
}

template <class W>
void Run(const MatmulArgs& a) {
  if (a.n_in % 16 == 0 && a.n_tok >= kLanesMinTokens) {
    RunLanes<W>(a, &RunTiles<W>);
    return;
  }
  RunTiles<W>(a);
}

}  // namespace

MatmulFn Avx512FKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kF32:
      return &Run<LoadF32>;
    case GgmlType::kF16:
      return &Run<LoadF16>;
    case GgmlType::kBF16:
      return &Run<LoadBF16>;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
