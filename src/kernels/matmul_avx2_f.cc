// AVX2 kernels for F32, F16 (F16C conversion, exact) and BF16 (shift, exact)
// weights against F32 activations.
//
// Order: chunk k of 8 consecutive elements (k = j / 8) is fma'd into
// accumulator (k mod 2); a final partial chunk is zero-padded. Result =
// fixed-tree hsum(acc0 + acc1).
#include "kernels/avx2_util.h"
#include "kernels/kernel_table.h"
#include "kernels/weight_prefetch.h"

namespace hearth::kernels {
namespace {

struct LoadF32 {
  static constexpr int kBytes = 4;
  static __m256 Load8(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
};
struct LoadF16 {
  static constexpr int kBytes = 2;
  static __m256 Load8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct LoadBF16 {
  static constexpr int kBytes = 2;
  static __m256 Load8(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
};

template <class W>
struct KernelF {
  template <int T>
  static inline void Chunk(const uint8_t* w, const uint8_t* const* x, int64_t j, __m256 (*acc)[2],
                           int k) {
    const __m256 wv = W::Load8(w + j * W::kBytes);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(reinterpret_cast<const float*>(x[t]) + j);
      acc[t][k] = _mm256_fmadd_ps(wv, xv, acc[t][k]);
    }
  }

  // The last n_in % 16 elements of one row for T tokens into acc[T].
  template <int T>
  static void Tail(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, int64_t j,
                   __m256 (*acc)[2]) {
    if (j + 8 <= n_in) {
      Chunk<T>(w_row, x, j, acc, 0);
      j += 8;
    }
    if (j < n_in) {
      // Partial chunk: zero-padded copies of the weights and activations.
      const int k = static_cast<int>((j / 8) & 1);
      const int r = static_cast<int>(n_in - j);
      alignas(32) uint8_t wb[32] = {};
      alignas(32) float xb[4][8] = {};
      std::memcpy(wb, w_row + j * W::kBytes, static_cast<size_t>(r) * W::kBytes);
      const uint8_t* xp[4];
      for (int t = 0; t < T; ++t) {
        std::memcpy(xb[t], reinterpret_cast<const float*>(x[t]) + j, static_cast<size_t>(r) * 4);
        xp[t] = reinterpret_cast<const uint8_t*>(xb[t]);
      }
      Chunk<T>(wb, xp, 0, acc, k);
    }
  }

  // R rows (one per row stream) in lock step against T tokens; out[r * T + t].
  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    const int64_t ahead = PrefetchAhead();
    __m256 acc[R][T][2];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t][0] = acc[r][t][1] = _mm256_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 16 <= n_in; j += 16) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        PrefetchWeights<16 * W::kBytes>(w_rows[r] + j * W::kBytes, ahead);
        Chunk<T>(w_rows[r], x, j, acc[r], 0);
        Chunk<T>(w_rows[r], x, j + 8, acc[r], 1);
      }
    }
    for (int r = 0; r < R; ++r) {
      Tail<T>(w_rows[r], x, n_in, j, acc[r]);
      for (int t = 0; t < T; ++t) {
        out[r * T + t] = HsumPs(_mm256_add_ps(acc[r][t][0], acc[r][t][1]));
      }
    }
  }
};

template <class W>
void Run(const MatmulArgs& a) {
  DriveRows<KernelF<W>, 1, kDecodeRowsX86>(a);
}

}  // namespace

MatmulFn Avx2FKernel(GgmlType wtype) {
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
