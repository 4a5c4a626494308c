// AVX-512 kernels for F32, F16 and BF16 weights (conversions exact) against
// F32 activations.
//
// Order: chunk k of 16 consecutive elements is fma'd into accumulator
// (k mod 2); a final partial chunk is loaded masked (zeros beyond n_in).
// Result = _mm512_reduce_add_ps(acc0 + acc1) (a fixed tree).
#include <immintrin.h>

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

template <class W>
void Run(const MatmulArgs& a) {
  DriveRows<KernelF<W>>(a);
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
