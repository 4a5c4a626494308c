#include "sampling/sampling_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace hearth::sampling {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

using Mutator = std::function<void(SamplingParams&)>;

void ExpectRejected(const Mutator& mutate, const std::string& name, int32_t n_vocab = 0) {
  SamplingParams p;
  mutate(p);
  Status s = ValidateSamplingParams(p, n_vocab);
  ASSERT_FALSE(s.ok()) << name;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.reason(), "invalid_parameter");
  EXPECT_EQ(s.message().rfind(name, 0), 0u)
      << "message should start with " << name << ": " << s.message();
}

void ExpectAccepted(const Mutator& mutate, int32_t n_vocab = 0) {
  SamplingParams p;
  mutate(p);
  Status s = ValidateSamplingParams(p, n_vocab);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(SamplingParamsTest, DefaultsAreValid) {
  ExpectAccepted([](SamplingParams&) {});
}

TEST(SamplingParamsTest, BoundariesAreAccepted) {
  ExpectAccepted([](SamplingParams& p) { p.temperature = 0.0f; });
  ExpectAccepted([](SamplingParams& p) { p.temperature = 2.0f; });
  ExpectAccepted([](SamplingParams& p) { p.top_k = 0; });
  ExpectAccepted([](SamplingParams& p) { p.top_k = 1 << 30; });
  ExpectAccepted([](SamplingParams& p) { p.top_p = 1.0f; });
  ExpectAccepted([](SamplingParams& p) { p.top_p = 1e-6f; });
  ExpectAccepted([](SamplingParams& p) { p.min_p = 0.0f; });
  ExpectAccepted([](SamplingParams& p) { p.min_p = 1.0f; });
  ExpectAccepted([](SamplingParams& p) { p.repetition_penalty = 2.0f; });
  ExpectAccepted([](SamplingParams& p) { p.repetition_penalty = 0.01f; });
  ExpectAccepted([](SamplingParams& p) { p.frequency_penalty = -2.0f; });
  ExpectAccepted([](SamplingParams& p) { p.presence_penalty = 2.0f; });
  ExpectAccepted([](SamplingParams& p) { p.penalty_last_n = -1; });
  ExpectAccepted([](SamplingParams& p) { p.penalty_last_n = 0; });
  ExpectAccepted(
      [](SamplingParams& p) {
        p.logit_bias = {{3, -kInf}, {4, 100.0f}, {5, -100.0f}};
      },
      10);
}

TEST(SamplingParamsTest, OutOfRangeIsRejectedNamingTheParameter) {
  ExpectRejected([](SamplingParams& p) { p.temperature = -0.1f; }, "temperature");
  ExpectRejected([](SamplingParams& p) { p.temperature = 2.01f; }, "temperature");
  ExpectRejected([](SamplingParams& p) { p.top_k = -1; }, "top_k");
  ExpectRejected([](SamplingParams& p) { p.top_p = 0.0f; }, "top_p");
  ExpectRejected([](SamplingParams& p) { p.top_p = 1.01f; }, "top_p");
  ExpectRejected([](SamplingParams& p) { p.min_p = -0.01f; }, "min_p");
  ExpectRejected([](SamplingParams& p) { p.min_p = 1.01f; }, "min_p");
  ExpectRejected([](SamplingParams& p) { p.repetition_penalty = 0.0f; }, "repetition_penalty");
  ExpectRejected([](SamplingParams& p) { p.repetition_penalty = 2.5f; }, "repetition_penalty");
  ExpectRejected([](SamplingParams& p) { p.frequency_penalty = 2.5f; }, "frequency_penalty");
  ExpectRejected([](SamplingParams& p) { p.presence_penalty = -2.5f; }, "presence_penalty");
  ExpectRejected([](SamplingParams& p) { p.penalty_last_n = -2; }, "penalty_last_n");
  ExpectRejected([](SamplingParams& p) { p.logit_bias = {{1, 100.5f}}; }, "logit_bias");
  ExpectRejected([](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }, "logit_bias");
  ExpectRejected([](SamplingParams& p) { p.logit_bias = {{10, 1.0f}}; }, "logit_bias", 10);
}

TEST(SamplingParamsTest, NanAndInfinityAreRejected) {
  for (float bad : {kNan, kInf, -kInf}) {
    ExpectRejected([bad](SamplingParams& p) { p.temperature = bad; }, "temperature");
    ExpectRejected([bad](SamplingParams& p) { p.top_p = bad; }, "top_p");
    ExpectRejected([bad](SamplingParams& p) { p.min_p = bad; }, "min_p");
    ExpectRejected([bad](SamplingParams& p) { p.repetition_penalty = bad; }, "repetition_penalty");
    ExpectRejected([bad](SamplingParams& p) { p.frequency_penalty = bad; }, "frequency_penalty");
    ExpectRejected([bad](SamplingParams& p) { p.presence_penalty = bad; }, "presence_penalty");
  }
  ExpectRejected([](SamplingParams& p) { p.logit_bias = {{1, kNan}}; }, "logit_bias[1]");
  ExpectRejected([](SamplingParams& p) { p.logit_bias = {{1, kInf}}; }, "logit_bias[1]");
}

TEST(SamplingParamsTest, NonFiniteMessageSaysSo) {
  SamplingParams p;
  p.top_p = kNan;
  Status s = ValidateSamplingParams(p);
  EXPECT_NE(s.message().find("finite"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hearth::sampling
