// Each stage against hand-computed expectations.
#include "sampling/stages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sampling/rng.h"

namespace hearth::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Probabilities are computed in double from float logits; 1e-6 covers the
// float rounding of log(p).
constexpr double kProbTolerance = 1e-6;

Candidates Make(const std::vector<float>& logits) {
  Candidates c;
  FillCandidates(logits, c);
  return c;
}

// Logits whose softmax is exactly `probs` (up to float rounding).
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::vector<int32_t> Ids(const Candidates& c) {
  std::vector<int32_t> ids;
  for (const Candidate& x : c.items) ids.push_back(x.id);
  return ids;
}

std::vector<float> LogitsById(const Candidates& c) {
  std::vector<float> l;
  for (const Candidate& x : c.items) l.push_back(x.logit);
  return l;
}

TEST(StagesTest, FillIsIdOrder) {
  Candidates c = Make({0.5f, -1.0f, 2.0f});
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_FALSE(c.sorted);
}

TEST(StagesTest, LogitBiasAddsAndBans) {
  Candidates c = Make({1.0f, 2.0f, 3.0f, 4.0f});
  const std::vector<LogitBias> bias = {{0, 2.5f}, {2, -kInf}, {3, -1.0f}, {0, 0.5f}};
  ApplyLogitBias(bias, c);
  EXPECT_EQ(LogitsById(c), (std::vector<float>{4.0f, 2.0f, -kInf, 3.0f}));
  DropImpossible(c);
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{0, 1, 3}));
}

TEST(StagesTest, PenaltiesExactValues) {
  Candidates c = Make({2.0f, -1.0f, 0.5f, 3.0f, 0.0f});
  const std::vector<int32_t> window = {0, 1, 0, 3, 4};
  std::vector<int32_t> counts(5, 0);
  ApplyPenalties(/*repetition=*/2.0f, /*frequency=*/0.5f, /*presence=*/0.25f, window, counts, c);
  // id 0: count 2: 2/2 - (2*0.5 + 0.25) = -0.25
  // id 1: count 1: -1*2 - (0.5 + 0.25) = -2.75
  // id 2: absent: unchanged
  // id 3: count 1: 3/2 - 0.75 = 0.75
  // id 4: count 1: 0*2 - 0.75 = -0.75
  EXPECT_EQ(LogitsById(c), (std::vector<float>{-0.25f, -2.75f, 0.5f, 0.75f, -0.75f}));
  EXPECT_EQ(counts, std::vector<int32_t>(5, 0)) << "scratch must be left zeroed";
}

TEST(StagesTest, RepetitionPenaltyAloneDividesPositiveMultipliesNegative) {
  Candidates c = Make({3.0f, -3.0f, 1.0f});
  std::vector<int32_t> counts(3, 0);
  ApplyPenalties(1.5f, 0.0f, 0.0f, std::vector<int32_t>{0, 1, 1, 1}, counts, c);
  EXPECT_EQ(LogitsById(c), (std::vector<float>{2.0f, -4.5f, 1.0f}));
}

TEST(StagesTest, NegativeOpenAiPenaltiesEncourage) {
  Candidates c = Make({0.0f, 0.0f});
  std::vector<int32_t> counts(2, 0);
  ApplyPenalties(1.0f, -1.0f, -0.5f, std::vector<int32_t>{1, 1, 1}, counts, c);
  EXPECT_EQ(LogitsById(c), (std::vector<float>{0.0f, 3.5f}));
}

TEST(StagesTest, TopKKeepsBestTieBrokenById) {
  for (bool presorted : {false, true}) {
    Candidates c = Make({1.0f, 3.0f, 2.0f, 3.0f, 0.0f});
    if (presorted) {
      std::sort(c.items.begin(), c.items.end(), Before);
      c.sorted = true;
    }
    Candidates k3 = c;
    TopK(3, k3);
    EXPECT_EQ(Ids(k3), (std::vector<int32_t>{1, 3, 2}));
    EXPECT_TRUE(k3.sorted);
    Candidates k1 = c;
    TopK(1, k1);
    EXPECT_EQ(Ids(k1), (std::vector<int32_t>{1}));
  }
  Candidates off = Make({1.0f, 3.0f});
  TopK(0, off);
  EXPECT_EQ(Ids(off), (std::vector<int32_t>{0, 1}));
  TopK(5, off);
  EXPECT_EQ(Ids(off), (std::vector<int32_t>{0, 1}));
}

TEST(StagesTest, TopPKeepsSmallestSetReachingP) {
  // p = [0.5, 0.2, 0.2, 0.1]; ids 1 and 2 tie, id 1 comes first.
  const std::vector<float> logits = LogitsOf({0.5, 0.2, 0.2, 0.1});
  struct Case {
    float p;
    std::vector<int32_t> want;
  };
  for (const Case& k : std::vector<Case>{{0.3f, {0}},
                                         {0.6f, {0, 1}},
                                         {0.75f, {0, 1, 2}},
                                         {0.95f, {0, 1, 2, 3}},
                                         {1.0f, {0, 1, 2, 3}}}) {
    Candidates c = Make(logits);
    TopP(k.p, c);
    std::vector<int32_t> got = Ids(c);
    if (k.p == 1.0f) {
      EXPECT_FALSE(c.sorted) << "p = 1 is a no-op";
    }
    EXPECT_EQ(got, k.want) << "p = " << k.p;
  }
}

// TopP sorts growing prefixes; compare with a full sort on a vocabulary larger
// than its first prefix, for flat and peaked distributions.
TEST(StagesTest, TopPMatchesFullSortReference) {
  Rng rng(5);
  for (float scale : {0.1f, 1.0f, 5.0f, 20.0f}) {
    for (float p : {0.1f, 0.5f, 0.9f, 0.99f}) {
      std::vector<float> logits(3000);
      for (float& l : logits) l = scale * static_cast<float>(rng.NextDouble() * 4.0 - 2.0);
      logits[17] = logits[18];  // a tie
      Candidates ref = Make(logits);
      std::sort(ref.items.begin(), ref.items.end(), Before);
      const std::vector<double> probs = Probabilities(ref);
      double cum = 0;
      size_t keep = 0;
      while (keep < probs.size() && cum < p) cum += probs[keep++];
      ref.items.resize(keep);

      Candidates c = Make(logits);
      TopP(p, c);
      EXPECT_EQ(Ids(c), Ids(ref)) << "scale " << scale << " p " << p;
    }
  }
}

TEST(StagesTest, MinPKeepsTokensAboveFractionOfMax) {
  const std::vector<float> logits = LogitsOf({0.5, 0.2, 0.2, 0.1});
  struct Case {
    float min_p;
    std::vector<int32_t> want;
  };
  // Threshold = min_p * 0.5.
  for (const Case& k : std::vector<Case>{{0.0f, {0, 1, 2, 3}},
                                         {0.15f, {0, 1, 2, 3}},
                                         {0.3f, {0, 1, 2}},
                                         {0.5f, {0}},
                                         {1.0f, {0}}}) {
    Candidates c = Make(logits);
    MinP(k.min_p, c);
    EXPECT_EQ(Ids(c), k.want) << "min_p = " << k.min_p;
  }
  Candidates tie = Make({2.0f, 1.0f, 2.0f});
  MinP(1.0f, tie);
  EXPECT_EQ(Ids(tie), (std::vector<int32_t>{0, 2}));
}

TEST(StagesTest, TemperatureScalesLogDistances) {
  Candidates c = Make({1.0f, 2.0f, 3.0f});
  Temperature(0.5f, c);
  EXPECT_EQ(LogitsById(c), (std::vector<float>{-4.0f, -2.0f, 0.0f}));
  const std::vector<double> p = Probabilities(c);
  const double z = std::exp(2.0) + std::exp(4.0) + std::exp(6.0);
  EXPECT_NEAR(p[0], std::exp(2.0) / z, kProbTolerance);
  EXPECT_NEAR(p[2], std::exp(6.0) / z, kProbTolerance);
}

TEST(StagesTest, TinyTemperatureDoesNotOverflow) {
  Candidates c = Make({1000.0f, 999.0f, -kInf});
  Temperature(1e-30f, c);
  EXPECT_EQ(c.items[0].logit, 0.0f);
  EXPECT_LE(c.items[1].logit, -1e29f);
  EXPECT_EQ(DrawFromSoftmax(c, 0.999), 0);
}

TEST(StagesTest, ArgmaxTiesToLowestId) {
  EXPECT_EQ(Argmax(Make({1.0f, 3.0f, 3.0f})), 1);
  EXPECT_EQ(Argmax(Make({-kInf, -5.0f})), 1);
  Candidates c = Make({0.0f, 7.0f, 7.0f, 1.0f});
  std::reverse(c.items.begin(), c.items.end());
  EXPECT_EQ(Argmax(c), 1) << "order of the list must not matter";
}

TEST(StagesTest, DrawWalksCumulativeProbabilities) {
  const Candidates c = Make(LogitsOf({0.5, 0.3, 0.2}));
  EXPECT_EQ(DrawFromSoftmax(c, 0.0), 0);
  EXPECT_EQ(DrawFromSoftmax(c, 0.49), 0);
  EXPECT_EQ(DrawFromSoftmax(c, 0.51), 1);
  EXPECT_EQ(DrawFromSoftmax(c, 0.79), 1);
  EXPECT_EQ(DrawFromSoftmax(c, 0.81), 2);
  EXPECT_EQ(DrawFromSoftmax(c, 1.0 - 0x1.0p-53), 2);
}

TEST(StagesTest, DrawNeverReturnsZeroProbability) {
  const Candidates c = Make({-kInf, 0.0f, -kInf});
  for (double u : {0.0, 0.5, 1.0 - 0x1.0p-53}) EXPECT_EQ(DrawFromSoftmax(c, u), 1);
}

}  // namespace
}  // namespace hearth::sampling
