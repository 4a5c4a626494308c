// The chain: greedy, determinism, errors, and sampling frequencies checked
// against softmax probabilities with chi-square bounds (fixed seeds, so the
// tests are deterministic; the bounds say how unlikely a failure would be for
// a correct sampler with an arbitrary seed).
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace hearth::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int kDraws = 100000;

// Upper 0.1% points of the chi-square distribution by degrees of freedom.
double ChiSquareCritical001(int df) {
  static constexpr double kTable[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458};
  HEARTH_CHECK(df >= 1 && df <= 6);
  return kTable[df];
}

std::vector<double> Softmax(const std::vector<float>& logits, double t = 1.0) {
  double max = -1e300;
  for (float l : logits) max = std::max(max, static_cast<double>(l));
  std::vector<double> p;
  double sum = 0;
  for (float l : logits) sum += std::exp((l - max) / t);
  for (float l : logits) p.push_back(std::exp((l - max) / t) / sum);
  return p;
}

Sampler MakeSampler(const SamplingParams& params, int32_t n_vocab) {
  auto s = Sampler::Create(params, n_vocab);
  HEARTH_CHECK(s.ok(), "%s", s.status().ToString().c_str());
  return std::move(s).value();
}

// Counts of each id over kDraws draws.
std::vector<int> Histogram(const SamplingParams& params, const std::vector<float>& logits,
                           uint64_t seed) {
  Sampler s = MakeSampler(params, static_cast<int32_t>(logits.size()));
  Rng rng(seed);
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < kDraws; ++i) {
    auto id = s.Sample(logits, {}, rng);
    HEARTH_CHECK(id.ok());
    ++counts[static_cast<size_t>(*id)];
  }
  return counts;
}

// Pearson chi-square of counts against expected probabilities; ids with
// expected probability 0 must have count 0 and add no degree of freedom.
double ChiSquare(const std::vector<int>& counts, const std::vector<double>& probs, int* df) {
  double chi2 = 0;
  *df = -1;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (probs[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "id " << i << " has probability 0";
      continue;
    }
    const double expected = probs[i] * kDraws;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++*df;
  }
  return chi2;
}

void ExpectMatches(const std::vector<int>& counts, const std::vector<double>& probs) {
  int df = 0;
  const double chi2 = ChiSquare(counts, probs, &df);
  EXPECT_LT(chi2, ChiSquareCritical001(df)) << "df " << df;
}

TEST(SamplerTest, FrequenciesMatchSoftmax) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, -2.0f};
  SamplingParams params;
  ExpectMatches(Histogram(params, logits, 1), Softmax(logits));
}

TEST(SamplerTest, TemperatureFlattensTheDistribution) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f};
  int previous_top = kDraws + 1;
  for (float t : {0.25f, 0.5f, 1.0f, 1.5f, 2.0f}) {
    SamplingParams params;
    params.temperature = t;
    const std::vector<int> counts = Histogram(params, logits, 99);
    ExpectMatches(counts, Softmax(logits, t));
    EXPECT_LT(counts[0], previous_top) << "top token should get rarer at temperature " << t;
    previous_top = counts[0];
  }
}

TEST(SamplerTest, TruncationRenormalizesOverSurvivors) {
  const std::vector<float> logits = {0.0f, 2.0f, 1.5f, -1.0f, 1.0f, -3.0f};
  auto restricted = [&](std::vector<int> keep) {
    std::vector<float> l(logits.size(), -kInf);
    for (int id : keep) l[static_cast<size_t>(id)] = logits[static_cast<size_t>(id)];
    return Softmax(l);
  };
  SamplingParams top_k;
  top_k.top_k = 3;
  ExpectMatches(Histogram(top_k, logits, 3), restricted({1, 2, 4}));

  // softmax: 0.0625 0.4616 0.2800 0.0230 0.1698 0.0031 -> {1, 2} holds 0.7416.
  SamplingParams top_p;
  top_p.top_p = 0.7f;
  ExpectMatches(Histogram(top_p, logits, 4), restricted({1, 2}));

  // p >= 0.3 * p_max <=> logit >= 2 + ln 0.3 = 0.796.
  SamplingParams min_p;
  min_p.min_p = 0.3f;
  ExpectMatches(Histogram(min_p, logits, 5), restricted({1, 2, 4}));

  SamplingParams banned;
  banned.logit_bias = {{1, -kInf}, {2, -kInf}};
  ExpectMatches(Histogram(banned, logits, 6), restricted({0, 3, 4, 5}));
}

TEST(SamplerTest, GreedyIsArgmaxAndDrawsNoRandomNumber) {
  SamplingParams params;
  params.temperature = 0.0f;
  Sampler s = MakeSampler(params, 4);
  Rng rng(77);
  const Rng untouched = rng;
  auto id = s.Sample(std::vector<float>{0.5f, 3.0f, 3.0f, -1.0f}, {}, rng);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1);
  Rng copy = untouched;
  EXPECT_EQ(rng.NextU64(), copy.NextU64()) << "greedy must not advance the Rng";
}

TEST(SamplerTest, GreedySeesBiasAndPenalties) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.presence_penalty = 2.0f;
  params.penalty_last_n = 2;
  params.logit_bias = {{3, 1.0f}};
  Sampler s = MakeSampler(params, 4);
  Rng rng(0);
  const std::vector<float> logits = {3.0f, 2.5f, 0.0f, 1.0f};
  // Window is the last 2 tokens {2, 0}: id 0 -> 1.0; id 1 stays 2.5.
  auto a = s.Sample(logits, std::vector<int32_t>{0, 1, 2, 0}, rng);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 1);
  // Window {1, 0}: 1.0, 0.5, 0.0, 2.0 (bias) -> id 3.
  auto b = s.Sample(logits, std::vector<int32_t>{2, 1, 0}, rng);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 3);
}

TEST(SamplerTest, WholeHistoryWindow) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.frequency_penalty = 1.0f;
  params.penalty_last_n = -1;
  Sampler s = MakeSampler(params, 2);
  Rng rng(0);
  auto id = s.Sample(std::vector<float>{5.0f, 0.0f}, std::vector<int32_t>(6, 0), rng);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1);  // 5 - 6 < 0
}

// Generation-like loop over a 150k vocabulary with every stage on.
std::vector<int32_t> Generate(const SamplingParams& params, uint64_t seed, int steps) {
  constexpr int32_t kVocab = 150000;
  Sampler s = MakeSampler(params, kVocab);
  Rng logits_rng(1234);  // the "model"
  Rng rng(seed);
  std::vector<float> logits(kVocab);
  std::vector<int32_t> out;
  const Candidate* buffer = nullptr;
  for (int step = 0; step < steps; ++step) {
    for (float& l : logits) l = static_cast<float>(logits_rng.NextDouble() * 20.0 - 10.0);
    auto id = s.Sample(logits, out, rng);
    EXPECT_TRUE(id.ok());
    out.push_back(*id);
    if (step == 0) buffer = s.last_candidates().items.data();
    EXPECT_EQ(s.last_candidates().items.data(), buffer) << "the candidate buffer was reallocated";
  }
  return out;
}

TEST(SamplerTest, SameSeedSameTokens) {
  SamplingParams params;
  params.temperature = 0.8f;
  params.top_k = 40;
  params.top_p = 0.9f;
  params.min_p = 0.05f;
  params.repetition_penalty = 1.1f;
  params.frequency_penalty = 0.3f;
  params.presence_penalty = 0.2f;
  params.logit_bias = {{5, 3.0f}, {6, -kInf}};
  const std::vector<int32_t> a = Generate(params, 42, 16);
  EXPECT_EQ(a, Generate(params, 42, 16));
  EXPECT_NE(a, Generate(params, 43, 16));

  SamplingParams nucleus;  // top_p without top_k: the growing-prefix path
  nucleus.top_p = 0.5f;
  EXPECT_EQ(Generate(nucleus, 7, 4), Generate(nucleus, 7, 4));
}

TEST(SamplerTest, RejectsBadLogitsAndHistory) {
  Sampler s = MakeSampler(SamplingParams{}, 3);
  Rng rng(0);
  auto nan = s.Sample(std::vector<float>{0.0f, std::nanf(""), 1.0f}, {}, rng);
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.status().reason(), "sampling.non_finite_logit");
  auto inf = s.Sample(std::vector<float>{0.0f, kInf, 1.0f}, {}, rng);
  ASSERT_FALSE(inf.ok());
  EXPECT_EQ(inf.status().reason(), "sampling.non_finite_logit");
  auto hist = s.Sample(std::vector<float>{0.0f, 0.0f, 1.0f}, std::vector<int32_t>{3}, rng);
  ASSERT_FALSE(hist.ok());
  EXPECT_EQ(hist.status().reason(), "sampling.bad_history_token");
  auto masked = s.Sample(std::vector<float>{-kInf, -kInf, -kInf}, {}, rng);
  ASSERT_FALSE(masked.ok());
  EXPECT_EQ(masked.status().reason(), "sampling.no_candidates");
  // A failed call leaves the sampler usable (penalty scratch stays zeroed).
  auto ok = s.Sample(std::vector<float>{0.0f, 0.0f, 9.0f}, std::vector<int32_t>{1}, rng);
  ASSERT_TRUE(ok.ok());
}

TEST(SamplerTest, CreateValidates) {
  SamplingParams params;
  params.logit_bias = {{10, 1.0f}};
  auto s = Sampler::Create(params, 10);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "invalid_parameter");
  EXPECT_FALSE(Sampler::Create(SamplingParams{}, 0).ok());
}

}  // namespace
}  // namespace hearth::sampling
