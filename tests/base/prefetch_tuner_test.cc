#include "base/prefetch_tuner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

namespace hearth {
namespace {

// A machine on which distance d makes a step take base * factor(d) seconds,
// base growing with the position (a longer context), times up to +-noise.
struct FakeMachine {
  std::map<int64_t, double> factor;
  double noise = 0.0;
  std::mt19937 rng{7};
  int pos = 0;
  double Step(int64_t d) {
    std::uniform_real_distribution<double> u(-noise, noise);
    const double base = 0.010 * (1.0 + 0.002 * pos++);
    return base * factor.at(d) * (1.0 + u(rng));
  }
};

// Runs `steps` steps of the tuner on the machine.
void Drive(PrefetchTuner* t, FakeMachine* m, int steps) {
  for (int i = 0; i < steps; ++i) t->Report(m->Step(t->Next()));
}

TEST(PrefetchTunerTest, PicksTheFastestDistanceDespiteNoiseAndDrift) {
  PrefetchTuner t;
  EXPECT_EQ(t.chosen(), 2048);
  EXPECT_TRUE(t.exploring());
  FakeMachine m;
  m.factor = {{2048, 1.00}, {4096, 0.96}, {6144, 0.91}, {1024, 0.94}};
  m.noise = 0.02;
  Drive(&t, &m, 16);  // 4 rounds x 4 candidates
  EXPECT_FALSE(t.exploring());
  EXPECT_EQ(t.explorations(), 1);
  EXPECT_EQ(t.chosen(), 6144);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(t.Next(), 6144);
    t.Report(m.Step(t.Next()));
  }
}

TEST(PrefetchTunerTest, KeepsTheIncumbentWhenNoCandidateIsClearlyFaster) {
  PrefetchTuner t;
  FakeMachine m;
  // 1 KiB is 1% faster: less than min_gain (2%), so 2 KiB stays.
  m.factor = {{2048, 1.00}, {4096, 1.005}, {6144, 1.00}, {1024, 0.99}};
  Drive(&t, &m, 16);
  EXPECT_EQ(t.explorations(), 1);
  EXPECT_EQ(t.chosen(), 2048);
}

TEST(PrefetchTunerTest, ExploresAgainAndFollowsAChangedMachine) {
  PrefetchTuner::Options o;
  o.exploit_steps = 50;
  PrefetchTuner t(o);
  FakeMachine m;
  m.factor = {{2048, 1.00}, {4096, 0.95}, {6144, 0.97}, {1024, 0.99}};
  Drive(&t, &m, 16);
  EXPECT_EQ(t.chosen(), 4096);
  Drive(&t, &m, 49);
  EXPECT_FALSE(t.exploring());
  // The memory became contended: now 2 KiB is best.
  m.factor = {{2048, 0.90}, {4096, 1.00}, {6144, 1.02}, {1024, 1.05}};
  Drive(&t, &m, 1);
  EXPECT_TRUE(t.exploring());
  Drive(&t, &m, 16);
  EXPECT_FALSE(t.exploring());
  EXPECT_EQ(t.explorations(), 2);
  EXPECT_EQ(t.chosen(), 2048);
}

TEST(PrefetchTunerTest, EachExplorationRoundRunsEveryCandidateOnce) {
  PrefetchTuner t;
  for (int r = 0; r < 4; ++r) {
    std::set<int64_t> seen;
    for (int k = 0; k < 4; ++k) {
      seen.insert(t.Next());
      t.Report(0.01);
    }
    EXPECT_EQ(seen.size(), 4u) << "round " << r;
  }
  EXPECT_FALSE(t.exploring());
}

TEST(PrefetchTunerTest, IgnoresTimesThatAreNotPositiveAndFinite) {
  PrefetchTuner t;
  const int64_t first = t.Next();
  t.Report(0.0);
  t.Report(-1.0);
  t.Report(std::numeric_limits<double>::quiet_NaN());
  t.Report(std::numeric_limits<double>::infinity());
  EXPECT_EQ(t.Next(), first);  // the same step is asked for again
  t.Report(0.01);
  EXPECT_NE(t.Next(), first);
}

TEST(PrefetchTunerTest, OneCandidateNeverExplores) {
  PrefetchTuner::Options o;
  o.candidates = {3072};
  PrefetchTuner t(o);
  EXPECT_FALSE(t.exploring());
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(t.Next(), 3072);
    t.Report(0.01);
  }
  EXPECT_EQ(t.explorations(), 0);
}

TEST(PrefetchTunerTest, InvalidOptionsFallBackToTheDefaults) {
  PrefetchTuner::Options o;
  o.candidates.clear();
  o.rounds = 0;
  o.exploit_steps = -3;
  PrefetchTuner t(o);
  EXPECT_EQ(t.chosen(), 2048);
  FakeMachine m;
  m.factor = {{2048, 1.00}, {4096, 0.90}, {6144, 1.0}, {1024, 1.0}};
  Drive(&t, &m, 16);
  EXPECT_EQ(t.chosen(), 4096);
}

}  // namespace
}  // namespace hearth
