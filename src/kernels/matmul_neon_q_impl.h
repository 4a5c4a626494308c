// Internal: NEON kernels for the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, included by matmul_neon_q.cc (armv8-a) and matmul_neondot_q.cc
// (armv8.2-a+dotprod); the two differ only in Dot16 (neon_util.h).
//
// Reduction order of each output (fixed by n_in only):
//   Blocks are taken in groups of 4 (the last group may hold 1..3). Per block
//   the weight codes are decoded to signed int8 with the offset already
//   subtracted (Q4_0: q - 8, Q5_0: q - 16; Q4_1/Q5_1 codes as they are) and the
//   block's integer dot with the activations is summed exactly (Dot32, then a
//   vpaddq tree giving lane k = block 4g + k). Then per group, lane-wise:
//     acc = fma(d_w * d_a, float(isum), acc)          (every type)
//     acc = fma(m_w * d_a, float(asum), acc)          (Q4_1, Q5_1: the min term)
//   with lanes past the last block of a partial group zero (adds +0).
//   Result = HsumF32(acc): (lane0 + lane2) + (lane1 + lane3).
// Block integer sums are below 2^24 in magnitude, so float(isum) is exact.
#pragma once

#include <cstddef>
#include <cstring>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/kernel_table.h"
#include "kernels/neon_util.h"

namespace hearth::kernels {
namespace {

// Each decoder writes a block's 32 codes as signed bytes (lo = elements 0..15,
// hi = 16..31) with the offset removed, and says whether the type has a min.
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static constexpr bool kMin = false;
  static void Codes(const uint8_t* b, int8x16_t* lo, int8x16_t* hi) {
    const uint8x16_t q = LoadU8x16(b + offsetof(Block, qs));
    const int8x16_t eight = vdupq_n_s8(8);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), eight);
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
  }
};
struct DecQ4_1 {
  using Block = BlockQ4_1;
  static constexpr bool kMin = true;
  static void Codes(const uint8_t* b, int8x16_t* lo, int8x16_t* hi) {
    const uint8x16_t q = LoadU8x16(b + offsetof(Block, qs));
    *lo = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F)));
    *hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
  }
};
// Q5_0 (kOffset = true: q - 16) and Q5_1 (kOffset = false, with a min).
template <class B, bool kOffset>
struct DecQ5 {
  using Block = B;
  static constexpr bool kMin = !kOffset;
  static void Codes(const uint8_t* b, int8x16_t* lo, int8x16_t* hi) {
    const uint8x16_t q = LoadU8x16(b + offsetof(Block, qs));
    uint32_t qh;
    std::memcpy(&qh, b + offsetof(Block, qh), 4);
    uint8x16_t l = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0F)), BitsToBytes16(qh, 0, 0x10));
    uint8x16_t h = vorrq_u8(vshrq_n_u8(q, 4), BitsToBytes16(qh, 2, 0x10));
    if constexpr (kOffset) {
      l = vsubq_u8(l, vdupq_n_u8(16));
      h = vsubq_u8(h, vdupq_n_u8(16));
    }
    *lo = vreinterpretq_s8_u8(l);
    *hi = vreinterpretq_s8_u8(h);
  }
};
struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr bool kMin = false;
  static void Codes(const uint8_t* b, int8x16_t* lo, int8x16_t* hi) {
    *lo = LoadS8x16(b + offsetof(Block, qs));
    *hi = LoadS8x16(b + offsetof(Block, qs) + 16);
  }
};

// Lanes 0..N-1 from 4-byte values at p, the rest zero.
template <int N>
inline uint8x16_t LoadLanes(const uint8_t* p) {
  if constexpr (N == 4) {
    return LoadU8x16(p);
  } else {
    uint8_t b[16] = {};
    std::memcpy(b, p, 4 * N);
    return LoadU8x16(b);
  }
}

template <class Dec>
struct KernelQ32 {
  using Block = typename Dec::Block;

  // The F16 field at p of blocks 0..N-1 as floats (exact), lanes past N zero.
  template <int N>
  static inline float32x4_t HalfLanes(const uint8_t* p) {
    uint64_t bits = 0;
    for (int k = 0; k < N; ++k) {
      uint16_t h;
      std::memcpy(&h, p + k * sizeof(Block), 2);
      bits |= static_cast<uint64_t>(h) << (16 * k);
    }
    return vcvt_f32_f16(vreinterpret_f16_u16(vcreate_u16(bits)));
  }

  // Blocks b .. b+N-1 (N = 1..4) for T tokens into acc[t].
  template <int T, int N>
  static inline void Group(const uint8_t* p, int64_t b, const Act32View* xv, float32x4_t* acc) {
    int8x16_t w[4][2];
    for (int k = 0; k < N; ++k) Dec::Codes(p + k * sizeof(Block), &w[k][0], &w[k][1]);
    const float32x4_t dwv = HalfLanes<N>(p + offsetof(Block, d));
    float32x4_t mwv = vdupq_n_f32(0.0f);
    if constexpr (Dec::kMin) mwv = HalfLanes<N>(p + offsetof(Block, m));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      int32x4_t s[4];
      for (int k = 0; k < 4; ++k) {
        s[k] = k < N ? Dot32(w[k][0], w[k][1], xv[t].q + (b + k) * kQK) : vdupq_n_s32(0);
      }
      const int32x4_t isum = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
      const float32x4_t da = vreinterpretq_f32_u8(LoadLanes<N>(xv[t].d + 4 * b));
      acc[t] = vfmaq_f32(acc[t], vmulq_f32(dwv, da), vcvtq_f32_s32(isum));
      if constexpr (Dec::kMin) {
        const int32x4_t asum = vreinterpretq_s32_u8(LoadLanes<N>(xv[t].sum + 4 * b));
        acc[t] = vfmaq_f32(acc[t], vmulq_f32(mwv, da), vcvtq_f32_s32(asum));
      }
    }
  }

  template <int T>
  static void Row(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, float* out) {
    constexpr int64_t kBytes = sizeof(Block);
    const int64_t nb = n_in / kQK;
    Act32View xv[T];
    float32x4_t acc[T];
    for (int t = 0; t < T; ++t) {
      xv[t] = Act32View(x[t], n_in);
      acc[t] = vdupq_n_f32(0.0f);
    }
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
      const uint8_t* p = w_row + b * kBytes;
      __builtin_prefetch(p + 8 * kBytes);
      Group<T, 4>(p, b, xv, acc);
    }
    const uint8_t* p = w_row + b * kBytes;
    switch (nb - b) {
      case 3:
        Group<T, 3>(p, b, xv, acc);
        break;
      case 2:
        Group<T, 2>(p, b, xv, acc);
        break;
      case 1:
        Group<T, 1>(p, b, xv, acc);
        break;
      default:
        break;
    }
    for (int t = 0; t < T; ++t) out[t] = HsumF32(acc[t]);
  }
};

template <class Dec>
void RunQ32(const MatmulArgs& a) {
  DriveRows<KernelQ32<Dec>>(a);
}

MatmulFn NeonQTable(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &RunQ32<DecQ4_0>;
    case GgmlType::kQ4_1:
      return &RunQ32<DecQ4_1>;
    case GgmlType::kQ5_0:
      return &RunQ32<DecQ5<BlockQ5_0, true>>;
    case GgmlType::kQ5_1:
      return &RunQ32<DecQ5<BlockQ5_1, false>>;
    case GgmlType::kQ8_0:
      return &RunQ32<DecQ8_0>;
    default:
      return nullptr;
  }
}

}  // namespace
}  // namespace hearth::kernels
