// Scalar reference conversions against independent oracles: the CPU's F16C
// instructions (when present; on AArch64 its fcvt) and exact hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "format/fp16.h"
#include "format/quant_blocks.h"
#include "format/quant_ref.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hearth {
namespace {

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t HwToHalf(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float HwFromHalf(uint16_t h) {
  return _cvtsh_ss(h);
}
bool HaveF16c() {
  return GetCpuFeatures().f16c;
}
#elif defined(__aarch64__)
// AArch64: fcvt between single and half precision is part of the base ISA
// (IEEE half, round to nearest even under the default FPCR).
uint16_t HwToHalf(float f) {
  const __fp16 h = static_cast<__fp16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float HwFromHalf(uint16_t u) {
  __fp16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}
bool HaveF16c() {
  return true;
}
#else
bool HaveF16c() {
  return false;
}
uint16_t HwToHalf(float) {
  return 0;
}
float HwFromHalf(uint16_t) {
  return 0;
}
#endif

bool SameFloat(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return FloatBits(a) == FloatBits(b);
}

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(FloatToFp16(1.0f), 0x3c00);
  EXPECT_EQ(FloatToFp16(-2.0f), 0xc000);
  EXPECT_EQ(FloatToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToFp16(65520.0f), 0x7c00);            // rounds up to infinity
  EXPECT_EQ(FloatToFp16(5.9604645e-8f), 0x0001);       // smallest subnormal
  EXPECT_EQ(FloatToFp16(2.9802322e-8f), 0x0000);       // exactly half of it: ties to even (0)
  EXPECT_EQ(FloatToFp16(1.0f + 1.0f / 2048), 0x3c00);  // tie, even mantissa stays
  EXPECT_EQ(FloatToFp16(1.0f + 3.0f / 2048), 0x3c02);  // tie, odd mantissa rounds up
  EXPECT_EQ(Fp16ToFloat(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(Fp16ToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(Fp16ToFloat(0x7e00)));
  EXPECT_EQ(FloatBits(Fp16ToFloat(0x8000)), 0x80000000u);
}

TEST(Fp16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = Fp16ToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToFp16(f), h) << "half 0x" << std::hex << h;
    if (HaveF16c()) {
      ASSERT_TRUE(SameFloat(f, HwFromHalf(static_cast<uint16_t>(h)))) << h;
    }
  }
}

TEST(Fp16Test, MatchesHardwareOnRandomFloats) {
  if (!HaveF16c()) GTEST_SKIP() << "CPU has no F16C to compare against";
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 2000000; ++i) {
    float f = BitsFloat(bits(rng));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToFp16(f), HwToHalf(f)) << "float bits 0x" << std::hex << FloatBits(f);
  }
}

TEST(Bf16Test, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBf16(BitsFloat(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(FloatToBf16(BitsFloat(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(FloatToBf16(BitsFloat(0x3f808001)), 0x3f81);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(BitsFloat(0x7f800001)))));  // signalling stays NaN
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = Bf16ToFloat(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(FloatToBf16(f), h);
    }
  }
}

TEST(Q8_0Test, QuantizeDequantizeWithinHalfAStep) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> x(32 * 64);
  for (auto& v : x) v = nd(rng);
  x[5] = 0.0f;
  std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block
  std::vector<BlockQ8_0> q(64);
  ASSERT_TRUE(QuantizeRowRef(GgmlType::kQ8_0, x.data(), 32 * 64, q.data()).ok());
  std::vector<float> y(x.size());
  ASSERT_TRUE(DequantizeRowRef(GgmlType::kQ8_0, q.data(), 32 * 64, y.data()).ok());
  for (int b = 0; b < 64; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = Fp16ToFloat(q[b].d);
    EXPECT_NEAR(d, amax / 127, amax / 127 * 1e-3 + 1e-7);
    for (int j = 0; j < 32; ++j) {
      // |x - q*d| <= d/2 up to the F16 rounding of d (127 steps of it at most).
      ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), d * 0.5f + amax * 1e-3f) << b << "," << j;
    }
  }
  EXPECT_EQ(y[5], 0.0f);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[32 + j], 0.0f);
  // The largest magnitude maps to +-127.
  int hits = 0;
  for (int j = 0; j < 32; ++j) hits += std::abs(q[0].qs[j]) == 127;
  EXPECT_GE(hits, 1);
}

TEST(QuantRefTest, RejectsPartialBlocksAndUnknownTypes) {
  float x[33] = {};
  uint8_t out[64];
  EXPECT_FALSE(QuantizeRowRef(GgmlType::kQ8_0, x, 33, out).ok());
  EXPECT_EQ(QuantizeRowRef(GgmlType::kQ2_K, x, 0, out).code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(CanQuantize(GgmlType::kBF16));
  EXPECT_FALSE(CanQuantize(GgmlType::kQ2_K));
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

// Every engine type: quantize -> dequantize stays within a per-format bound of
// the block's range, is exact on zero blocks, and dequantizes known bit patterns.
TEST(QuantRefTest, EveryTypeRoundTripsWithinItsResolution) {
  struct Bound {
    GgmlType type;
    double rel;  // max error / (block max |x|)
  };
  const Bound bounds[] = {
      {GgmlType::kF16, 1e-3},  {GgmlType::kBF16, 8e-3}, {GgmlType::kQ8_0, 0.01},
      {GgmlType::kQ4_0, 0.13}, {GgmlType::kQ4_1, 0.14}, {GgmlType::kQ5_0, 0.065},
      {GgmlType::kQ5_1, 0.07}, {GgmlType::kQ4_K, 0.15}, {GgmlType::kQ5_K, 0.08},
      {GgmlType::kQ6_K, 0.05},
  };
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int n = 256 * 8;
  std::vector<float> x(n);
  for (auto& v : x) v = nd(rng);
  for (int i = 0; i < 256; ++i) x[i] = 0.0f;  // one all-zero super-block
  for (const Bound& b : bounds) {
    const auto& info = GetGgmlTypeInfo(b.type);
    SCOPED_TRACE(std::string(info.name));
    std::vector<uint8_t> q(n / info.block_size * info.type_size);
    ASSERT_TRUE(QuantizeRowRef(b.type, x.data(), n, q.data()).ok());
    std::vector<float> y(n);
    ASSERT_TRUE(DequantizeRowRef(b.type, q.data(), n, y.data()).ok());
    for (int i = 0; i < 256; ++i) ASSERT_EQ(y[i], 0.0f) << i;
    double worst = 0;
    for (int blk = 1; blk < n / 256; ++blk) {
      float amax = 0;
      for (int i = 0; i < 256; ++i) amax = std::max(amax, std::fabs(x[blk * 256 + i]));
      for (int i = 0; i < 256; ++i) {
        worst = std::max(worst, std::fabs(x[blk * 256 + i] - y[blk * 256 + i]) / double(amax));
      }
    }
    EXPECT_LE(worst, b.rel);
    EXPECT_GT(worst, 0.0);
  }
}

TEST(QuantRefTest, KnownBitPatterns) {
  // Q4_0 block: d = 0.5 (F16 0x3800), nibbles 0..15 -> (q - 8) * 0.5.
  BlockQ4_0 b4{};
  b4.d = 0x3800;
  for (int j = 0; j < 16; ++j) b4.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  ASSERT_TRUE(DequantizeRowRef(GgmlType::kQ4_0, &b4, 32, y).ok());
  EXPECT_EQ(y[0], -4.0f);
  EXPECT_EQ(y[15], 3.5f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[31], -4.0f);
  // Q5_0: the 5th bit of element j is bit j of qh.
  BlockQ5_0 b5{};
  b5.d = 0x3c00;    // 1.0
  b5.qh[0] = 0x01;  // element 0 gets +16
  b5.qh[2] = 0x01;  // element 16 gets +16
  ASSERT_TRUE(DequantizeRowRef(GgmlType::kQ5_0, &b5, 32, y).ok());
  EXPECT_EQ(y[0], 0.0f);    // (0 | 16) - 16
  EXPECT_EQ(y[1], -16.0f);  // 0 - 16
  EXPECT_EQ(y[16], 0.0f);
  // Q6_K: d = 1, scale 2 for sub-block 0, q = 33 (ql 1, qh 2) -> 2 * (33 - 32) = 2.
  BlockQ6_K b6{};
  b6.d = 0x3c00;
  b6.scales[0] = 2;
  b6.ql[0] = 0x01;
  b6.qh[0] = 0x02;  // bits 0-1 of qh[0] are the high bits of element 0: 2 -> +32
  std::vector<float> y6(256);
  ASSERT_TRUE(DequantizeRowRef(GgmlType::kQ6_K, &b6, 256, y6.data()).ok());
  EXPECT_EQ(y6[0], 2.0f * (1 + 32 - 32));
  EXPECT_EQ(y6[1], 2.0f * -32);
}

}  // namespace
}  // namespace hearth
