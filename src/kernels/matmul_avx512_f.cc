// AVX-512 kernels for F32, F16 and BF16 weights (conversions exact) against
// F32 activations.
//
// Order: chunk k of 16 consecutive elements is fma'd into accumulator
// (k mod 2); a final partial chunk is loaded masked (zeros beyond n_in).
// Result = _mm512_reduce_add_ps(acc0 + acc1) (a fixed tree).
//
// Batches (8+ tokens, n_in % 16 == 0) run the same operations as a small
// GEMM: a panel of 4 weight rows is converted to F32 once per block of
// tokens (conversions are exact) and a 4 rows x 6 tokens register tile keeps
// 24 accumulators (see Tile). Rows and tokens outside whole tiles use Row<T>.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/kernel_table.h"

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

  template <int T>
  static void Row(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, float* out) {
    __m512 acc[T][2];
    for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    const __mmask16 all = 0xFFFF;
    int64_t j = 0;
    for (; j + 32 <= n_in; j += 32) {
      // Into L2, 4 KiB ahead (rows are contiguous: runs on into the next row).
      if (W::kBytes == 4) {
        _mm_prefetch(reinterpret_cast<const char*>(w_row + j * W::kBytes) + 4096, _MM_HINT_T1);
      }
      _mm_prefetch(reinterpret_cast<const char*>(w_row + j * W::kBytes) + 4096 + 64, _MM_HINT_T1);
      Chunk<T>(w_row, x, j, all, acc, 0);
      Chunk<T>(w_row, x, j + 16, all, acc, 1);
    }
    if (j + 16 <= n_in) {
      Chunk<T>(w_row, x, j, all, acc, 0);
      j += 16;
    }
    if (j < n_in) {
      const auto m = static_cast<__mmask16>((1u << (n_in - j)) - 1);
      Chunk<T>(w_row, x, j, m, acc, static_cast<int>((j / 16) & 1));
    }
    for (int t = 0; t < T; ++t) out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]));
  }
};

// Rows w[0..kR) (F32) x tokens x[0..kT): out[t][r] in Row's order. The even
// chunks (accumulator 0) and the odd ones (accumulator 1) are two passes, so
// one pass holds kR * kT accumulators, kR weight chunks and one token chunk
// in registers: each loaded chunk feeds kT or kR fmas.
constexpr int kR = 4, kT = 6;
inline void Tile(const float* const* w, const float* const* x, int64_t n_in, float out[kT][kR]) {
  __m512 sum[2][kR][kT];
  for (int k = 0; k < 2; ++k) {
    __m512 acc[kR][kT];
    for (int r = 0; r < kR; ++r)
      for (int t = 0; t < kT; ++t) acc[r][t] = _mm512_setzero_ps();
    for (int64_t j = 16 * k; j < n_in; j += 32) {
      __m512 wv[kR];
      for (int r = 0; r < kR; ++r) wv[r] = _mm512_loadu_ps(w[r] + j);
      for (int t = 0; t < kT; ++t) {
        const __m512 xv = _mm512_loadu_ps(x[t] + j);
        for (int r = 0; r < kR; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
      }
    }
    for (int r = 0; r < kR; ++r)
      for (int t = 0; t < kT; ++t) sum[k][r][t] = acc[r][t];
  }
  for (int r = 0; r < kR; ++r)
    for (int t = 0; t < kT; ++t)
      out[t][r] = _mm512_reduce_add_ps(_mm512_add_ps(sum[0][r][t], sum[1][r][t]));
}

template <class W>
void Run(const MatmulArgs& a) {
  if (a.n_in % 16 != 0) {
    DriveRows<KernelF<W>>(a);
    return;
  }
  const WholeTiles whole = RunOutsideWholeTiles(a, kT, kR, &DriveRows<KernelF<W>>);
  if (whole.n_tok == 0) return;
  const int full_tok = whole.n_tok;
  const int64_t full_rows = whole.n_rows;
  thread_local std::vector<float> panel;
  if (panel.size() < static_cast<size_t>(kR * a.n_in)) panel.resize(kR * a.n_in);
  // Tokens in blocks whose activations (~512 KiB) stay in L2 while every
  // panel passes over them.
  const int tok_block = static_cast<int>(
      std::max<int64_t>(kT, (int64_t{512} << 10) / static_cast<int64_t>(a.x_stride) / kT * kT));
  for (int tb = 0; tb < full_tok; tb += tok_block) {
    const int tb_end = std::min(full_tok, tb + tok_block);
    for (int64_t r0 = a.row_begin; r0 < a.row_begin + full_rows; r0 += kR) {
      const float* w[kR];
      for (int r = 0; r < kR; ++r) {
        const uint8_t* src = a.w + (r0 + r) * a.row_bytes;
        float* dst = panel.data() + r * a.n_in;
        for (int64_t j = 0; j < a.n_in; j += 16)
          _mm512_storeu_ps(dst + j, W::Load(src + j * W::kBytes, 0xFFFF));
        w[r] = dst;
      }
      for (int t0 = tb; t0 < tb_end; t0 += kT) {
        const float* x[kT];
        for (int t = 0; t < kT; ++t)
          x[t] = reinterpret_cast<const float*>(a.x + (t0 + t) * a.x_stride);
        float out[kT][kR];
        Tile(w, x, a.n_in, out);
        for (int t = 0; t < kT; ++t)
          for (int r = 0; r < kR; ++r) a.y[(t0 + t) * a.y_stride + r0 + r] = out[t][r];
      }
    }
  }
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
