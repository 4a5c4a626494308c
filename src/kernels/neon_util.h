// Internal helpers for the AArch64 NEON translation units (matmul_neon*.cc,
// attention_neon.cc). Everything has internal linkage, so the baseline (armv8-a)
// and the dotprod (armv8.2-a+dotprod) translation units each keep their own
// copy and never share a definition compiled with other flags.
//
// Integer dot products: Dot16 returns acc + four int32 partial sums of 16
// int8 x int8 products. With __ARM_FEATURE_DOTPROD (the dotprod translation
// units) it is one sdot; otherwise smull/smlal2 (pairs of products in int16:
// |w| <= 128, |a| <= 127, so |sum of 2| <= 32512 fits) and sadalp. The lane
// split of the partials differs between the two, but every kernel reduces them
// to exact integer totals (ReduceAdd, vpaddq) before any float operation, so
// kNeon and kNeonDot give bit-identical results.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace hearth::kernels {
namespace {

// Loads from byte pointers: no alignment is required anywhere.
inline float32x4_t LoadF32x4(const uint8_t* p) {
  return vreinterpretq_f32_u8(vld1q_u8(p));
}
inline int32x4_t LoadS32x4(const uint8_t* p) {
  return vreinterpretq_s32_u8(vld1q_u8(p));
}
inline int16x8_t LoadS16x8(const uint8_t* p) {
  return vreinterpretq_s16_u8(vld1q_u8(p));
}
inline int8x16_t LoadS8x16(const void* p) {
  return vld1q_s8(static_cast<const int8_t*>(p));
}
inline uint8x16_t LoadU8x16(const uint8_t* p) {
  return vld1q_u8(p);
}

// IEEE half at p (any alignment) -> float, exact (fcvt).
inline float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// Fixed-tree horizontal sum: (v0 + v2) + (v1 + v3).
inline float HsumF32(float32x4_t v) {
  const float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
  return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}

// Sum of the four lanes; exact for every kernel's integer ranges.
inline int32_t ReduceAdd(int32x4_t v) {
  return vaddvq_s32(v);
}

inline int32x4_t Dot16(int32x4_t acc, int8x16_t w, int8x16_t a) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, w, a);
#else
  const int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(a)), w, a);
  return vpadalq_s16(acc, p);
#endif
}

// 32 products: w0 . a[0..15] + w1 . a[16..31], as four int32 partials.
inline int32x4_t Dot32(int8x16_t w0, int8x16_t w1, const int8_t* a) {
  return Dot16(Dot16(vdupq_n_s32(0), w0, LoadS8x16(a)), w1, LoadS8x16(a + 16));
}

// Bits 8*k .. 8*k+15 of `bits` (k = 0 or 2) as 16 bytes: `value` where the
// bit is set, 0 elsewhere (byte i <- bit 8*k + i).
inline uint8x16_t BitsToBytes16(uint32_t bits, int k, uint8_t value) {
  const uint8x8_t b0 = vdup_n_u8(static_cast<uint8_t>(bits >> (8 * k)));
  const uint8x8_t b1 = vdup_n_u8(static_cast<uint8_t>(bits >> (8 * k + 8)));
  const uint8x8_t sel = vcreate_u8(0x8040201008040201ull);
  const uint8x16_t set = vtstq_u8(vcombine_u8(b0, b1), vcombine_u8(sel, sel));
  return vandq_u8(set, vdupq_n_u8(value));
}

}  // namespace
}  // namespace hearth::kernels
