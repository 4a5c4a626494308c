// NEON kernels for F32, F16 (fcvtl, exact) and BF16 (shift, exact) weights
// against F32 activations. Used by both kNeon and kNeonDot (no integer dots).
//
// Reduction order of each output (fixed by n_in only): chunk k of 4
// consecutive elements (k = j / 4) is fma'd into accumulator (k mod 4); a final
// partial chunk is zero-padded. Result = HsumF32((acc0 + acc1) + (acc2 + acc3)),
// HsumF32(v) = (v0 + v2) + (v1 + v3).
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/neon_util.h"

namespace hearth::kernels {
namespace {

struct LoadF32 {
  static constexpr int kBytes = 4;
  static float32x4_t Load4(const uint8_t* p) { return LoadF32x4(p); }
};
struct LoadF16 {
  static constexpr int kBytes = 2;
  static float32x4_t Load4(const uint8_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p)));
  }
};
struct LoadBF16 {
  static constexpr int kBytes = 2;
  static float32x4_t Load4(const uint8_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(p)), 16));
  }
};

template <class W>
struct KernelF {
  // Chunk at element j (weights at w + j * kBytes, activations at x[t] + 4 j)
  // into accumulator k of every token.
  template <int T>
  static inline void Chunk(const uint8_t* w, const uint8_t* const* x, int64_t j,
                           float32x4_t (*acc)[4], int k) {
    const float32x4_t wv = W::Load4(w + j * W::kBytes);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t][k] = vfmaq_f32(acc[t][k], wv, LoadF32x4(x[t] + 4 * j));
  }

  template <int T>
  static void Row(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, float* out) {
    float32x4_t acc[T][4];
    for (int t = 0; t < T; ++t) {
      for (int k = 0; k < 4; ++k) acc[t][k] = vdupq_n_f32(0.0f);
    }
    int64_t j = 0;
    for (; j + 16 <= n_in; j += 16) {
      __builtin_prefetch(w_row + j * W::kBytes + 512);
      Chunk<T>(w_row, x, j, acc, 0);
      Chunk<T>(w_row, x, j + 4, acc, 1);
      Chunk<T>(w_row, x, j + 8, acc, 2);
      Chunk<T>(w_row, x, j + 12, acc, 3);
    }
    for (; j + 4 <= n_in; j += 4) Chunk<T>(w_row, x, j, acc, static_cast<int>((j / 4) & 3));
    if (j < n_in) {
      // Partial chunk: zero-padded copies of the weights and activations.
      const int k = static_cast<int>((j / 4) & 3);
      const size_t r = static_cast<size_t>(n_in - j);
      uint8_t wb[16] = {};
      uint8_t xb[4][16] = {};
      std::memcpy(wb, w_row + j * W::kBytes, r * W::kBytes);
      const uint8_t* xp[4];
      for (int t = 0; t < T; ++t) {
        std::memcpy(xb[t], x[t] + 4 * j, r * 4);
        xp[t] = xb[t];
      }
      Chunk<T>(wb, xp, 0, acc, k);
    }
    for (int t = 0; t < T; ++t) {
      out[t] = HsumF32(vaddq_f32(vaddq_f32(acc[t][0], acc[t][1]), vaddq_f32(acc[t][2], acc[t][3])));
    }
  }
};

template <class W>
void Run(const MatmulArgs& a) {
  DriveRows<KernelF<W>, 1>(a);
}

}  // namespace

MatmulFn NeonFKernel(GgmlType wtype) {
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
