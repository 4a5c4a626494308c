// Internal: NEON kernels for the k-quants Q4_K, Q5_K, Q6_K against Q8
// super-blocks of 256, included by matmul_neon_k.cc (armv8-a) and
// matmul_neondot_k.cc (armv8.2-a+dotprod); they differ only in Dot16.
//
// Reduction order of each output (fixed by n_in only): per super-block and
// token everything up to the two scales is exact integer math,
//   Q4_K/Q5_K: sumi = sum_s sc_s * dot(q_s, a_s)   (8 sub-blocks of 32, q >= 0)
//              summ = sum_s m_s * (bsum_2s + bsum_2s+1)
//   Q6_K:      sumi = sum_s sc_s * dot(q_s - 32, a_s)   (16 sub-blocks of 16)
// (vmlaq by the scale into int32 lanes, then one exact lane sum), then one
// scalar float accumulator per token, super-blocks in index order:
//   Q4_K/Q5_K: acc = fma(d * d_a, float(sumi), acc); acc = fma(-dmin * d_a, float(summ), acc)
//   Q6_K:      acc = fma(d * d_a, float(sumi), acc)
// Result = acc. (A super-block sum can exceed 2^24; float(sumi) then rounds
// once, identically for every batch shape.)
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/k_scales.h"
#include "kernels/kernel_table.h"
#include "kernels/neon_util.h"

namespace hearth::kernels {
namespace {

// Q4_K (kFive = false) and Q5_K (kFive = true).
template <bool kFive>
struct KernelK4 {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;

  template <int T>
  static void Row(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, float* out) {
    const int64_t nb = n_in / kQKK;
    Act256View xv[T];
    float acc[T];
    for (int t = 0; t < T; ++t) {
      xv[t] = Act256View(x[t], n_in);
      acc[t] = 0.0f;
    }
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* p = w_row + b * sizeof(Block);
      __builtin_prefetch(p + 2 * sizeof(Block));
      uint64_t sc8, m8;
      ScalesMinsK4(p + offsetof(Block, scales), &sc8, &m8);
      uint8_t sc[8];
      std::memcpy(sc, &sc8, 8);
      const float d = F16At(p + offsetof(Block, d));
      const float dmin = F16At(p + offsetof(Block, dmin));
      int32x4_t sumi[T];
      for (int t = 0; t < T; ++t) sumi[t] = vdupq_n_s32(0);
      uint8x16_t qh0, qh1;
      if constexpr (kFive) {
        qh0 = LoadU8x16(p + offsetof(Block, qh));
        qh1 = LoadU8x16(p + offsetof(Block, qh) + 16);
      }
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        // Sub-block 2c: low nibbles of qs[32c .. 32c+31]; 2c+1: high nibbles.
        const uint8x16_t r0 = LoadU8x16(p + offsetof(Block, qs) + 32 * c);
        const uint8x16_t r1 = LoadU8x16(p + offsetof(Block, qs) + 32 * c + 16);
        uint8x16_t lo0 = vandq_u8(r0, low4), lo1 = vandq_u8(r1, low4);
        uint8x16_t hi0 = vshrq_n_u8(r0, 4), hi1 = vshrq_n_u8(r1, 4);
        if constexpr (kFive) {
          // 5th bit: bit 2c of qh[l] (sub-block 2c), bit 2c+1 (sub-block 2c+1).
          const uint8x16_t bit4 = vdupq_n_u8(0x10);
          const uint8x16_t ml = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)));
          const uint8x16_t mh = vdupq_n_u8(static_cast<uint8_t>(2u << (2 * c)));
          lo0 = vorrq_u8(lo0, vandq_u8(vtstq_u8(qh0, ml), bit4));
          lo1 = vorrq_u8(lo1, vandq_u8(vtstq_u8(qh1, ml), bit4));
          hi0 = vorrq_u8(hi0, vandq_u8(vtstq_u8(qh0, mh), bit4));
          hi1 = vorrq_u8(hi1, vandq_u8(vtstq_u8(qh1, mh), bit4));
        }
        const int32_t sc_lo = sc[2 * c], sc_hi = sc[2 * c + 1];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const int8_t* a = xv[t].q + b * kQKK + 64 * c;
          const int32x4_t dlo = Dot32(vreinterpretq_s8_u8(lo0), vreinterpretq_s8_u8(lo1), a);
          const int32x4_t dhi = Dot32(vreinterpretq_s8_u8(hi0), vreinterpretq_s8_u8(hi1), a + 32);
          sumi[t] = vmlaq_n_s32(sumi[t], dlo, sc_lo);
          sumi[t] = vmlaq_n_s32(sumi[t], dhi, sc_hi);
        }
      }
      // Mins: m_s times the activation sum of sub-block s (two int16 sums of 16).
      const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vcreate_u8(m8)));
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const uint8_t* bs = xv[t].bsum + 2 * 16 * b;
        const int16x8_t s32 = vpaddq_s16(LoadS16x8(bs), LoadS16x8(bs + 16));
        const int32x4_t mm =
            vmlal_high_s16(vmull_s16(vget_low_s16(s32), vget_low_s16(mins)), s32, mins);
        const float da = xv[t].Scale(b);
        acc[t] = std::fma(d * da, static_cast<float>(ReduceAdd(sumi[t])), acc[t]);
        acc[t] = std::fma(-dmin * da, static_cast<float>(ReduceAdd(mm)), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) out[t] = acc[t];
  }
};

struct KernelQ6K {
  template <int T>
  static void Row(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, float* out) {
    const int64_t nb = n_in / kQKK;
    Act256View xv[T];
    float acc[T];
    for (int t = 0; t < T; ++t) {
      xv[t] = Act256View(x[t], n_in);
      acc[t] = 0.0f;
    }
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    const uint8x16_t m2 = vdupq_n_u8(0x03);
    const int8x16_t k32 = vdupq_n_s8(32);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* p = w_row + b * sizeof(BlockQ6_K);
      __builtin_prefetch(p + 2 * sizeof(BlockQ6_K));
      const int8_t* scales = reinterpret_cast<const int8_t*>(p + offsetof(BlockQ6_K, scales));
      const float d = F16At(p + offsetof(BlockQ6_K, d));
      int32x4_t sumi[T];
      for (int t = 0; t < T; ++t) sumi[t] = vdupq_n_s32(0);
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        const uint8_t* ql = p + offsetof(BlockQ6_K, ql) + 64 * n;
        const uint8_t* qhp = p + offsetof(BlockQ6_K, qh) + 32 * n;
        // q[4 * k + h]: 16 codes of sub-block 8n + 2k + h (elements 128n + 32k + 16h ...).
        int8x16_t q[8];
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          const uint8x16_t l0 = LoadU8x16(ql + 16 * h), l1 = LoadU8x16(ql + 32 + 16 * h);
          const uint8x16_t qh = LoadU8x16(qhp + 16 * h);
          const uint8x16_t v[4] = {
              vorrq_u8(vandq_u8(l0, low4), vshlq_n_u8(vandq_u8(qh, m2), 4)),
              vorrq_u8(vandq_u8(l1, low4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 2), m2), 4)),
              vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 4), m2), 4)),
              vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(qh, 6), 4)),
          };
          for (int k = 0; k < 4; ++k) q[2 * k + h] = vsubq_s8(vreinterpretq_s8_u8(v[k]), k32);
        }
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
          const int32_t scale = scales[8 * n + s];
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const int8_t* a = xv[t].q + b * kQKK + 128 * n + 16 * s;
            sumi[t] = vmlaq_n_s32(sumi[t], Dot16(vdupq_n_s32(0), q[s], LoadS8x16(a)), scale);
          }
        }
      }
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        acc[t] = std::fma(d * xv[t].Scale(b), static_cast<float>(ReduceAdd(sumi[t])), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) out[t] = acc[t];
  }
};

template <class K>
void RunK(const MatmulArgs& a) {
  DriveRows<K>(a);
}

MatmulFn NeonKTable(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_K:
      return &RunK<KernelK4<false>>;
    case GgmlType::kQ5_K:
      return &RunK<KernelK4<true>>;
    case GgmlType::kQ6_K:
      return &RunK<KernelQ6K>;
    default:
      return nullptr;
  }
}

}  // namespace
}  // namespace hearth::kernels
