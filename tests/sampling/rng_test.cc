#include "sampling/rng.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace hearth::sampling {
namespace {

// First outputs of xoshiro256** seeded through SplitMix64, from an
// independent Python implementation of the published reference code.
TEST(RngTest, MatchesReferenceStream) {
  Rng zero(0);
  EXPECT_EQ(zero.NextU64(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(zero.NextU64(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(zero.NextU64(), 0x1a5f849d4933e6e0ULL);
  EXPECT_EQ(zero.NextU64(), 0x6aa594f1262d2d2cULL);
  Rng r42(42);
  EXPECT_EQ(r42.NextU64(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(r42.NextU64(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(r42.NextU64(), 0xae17533239e499a1ULL);
  EXPECT_EQ(r42.NextU64(), 0xecb8ad4703b360a1ULL);
}

TEST(RngTest, SeedRestartsTheStream) {
  Rng a(7);
  const uint64_t first = a.NextU64();
  a.NextU64();
  a.Seed(7);
  EXPECT_EQ(a.NextU64(), first);
  Rng b(8);
  EXPECT_NE(b.NextU64(), first);
}

TEST(RngTest, NextDoubleIsInUnitIntervalWithMeanOneHalf) {
  Rng r(123);
  constexpr int kDraws = 100000;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = r.NextDouble();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Standard error of the mean of U(0,1) is sqrt(1/12 / n) ~ 0.0009; 5 sigma.
  EXPECT_NEAR(sum / kDraws, 0.5, 0.0046);
}

}  // namespace
}  // namespace hearth::sampling
