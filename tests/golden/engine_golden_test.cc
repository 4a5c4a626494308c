// The optimized engine against every golden case (F32 KV cache, as the golden
// README requires): the prompt evaluated as one batch with logits for every
// position, then each greedy token fed one at a time; and determinism: the same
// bits with 1 or 2 threads and with the prompt fed token by token.
#include <gtest/gtest.h>

#include <cstring>

#include "model/session.h"
#include "testing/golden.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

std::unique_ptr<Session> NewSession(const std::shared_ptr<const Model>& m, int threads,
                                    int n_batch = 256) {
  SessionOptions o;
  o.n_ctx = 512;
  o.kv_type = KvType::kF32;
  o.n_threads = threads;
  o.n_batch = n_batch;
  auto s = Session::Create(m, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Logits of every stored golden row: prompt as one batch, then teacher-forced decode steps.
std::vector<float> GoldenRows(Session& s, const testing::GoldenCase& c) {
  std::vector<float> all, step;
  EXPECT_TRUE(s.Eval(c.prompt_ids, true, &all).ok());
  const std::vector<int32_t> seq = c.Sequence();
  for (size_t i = c.prompt_ids.size(); i < seq.size(); ++i) {
    EXPECT_TRUE(s.Eval(std::span<const int32_t>(&seq[i], 1), false, &step).ok());
    all.insert(all.end(), step.begin(), step.end());
  }
  return all;
}

class EngineGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineGoldenTest, LogitsAndGreedy) {
  HEARTH_REQUIRE_SHARED();
  auto c = testing::LoadGoldenCase(GetParam());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto m = Model::Load(c->model_path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const testing::Tolerance tol = testing::ToleranceFor(c->weight_type);
  auto s = NewSession(*m, 2);
  ASSERT_NE(s, nullptr);
  std::vector<float> logits = GoldenRows(*s, *c);
  testing::LogitsReport lr = testing::CompareLogits(*c, logits, tol);
  EXPECT_TRUE(lr.ok) << c->name << " (" << kernels::IsaName(s->isa()) << "): " << lr.Summary();
  RecordProperty("logits", lr.Summary());

  // Free-running greedy decoding.
  s->Reset();
  std::vector<float> last;
  ASSERT_TRUE(s->Eval(c->prompt_ids, false, &last).ok());
  std::vector<int32_t> greedy;
  for (size_t i = 0; i < c->greedy_ids.size(); ++i) {
    const int32_t best =
        static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    greedy.push_back(best);
    if (i + 1 < c->greedy_ids.size()) {
      ASSERT_TRUE(s->Eval(std::span<const int32_t>(&best, 1), false, &last).ok());
    }
  }
  testing::GreedyReport gr = testing::CompareGreedy(*c, greedy, tol);
  EXPECT_TRUE(gr.ok) << c->name << ": " << gr.Summary();
}

INSTANTIATE_TEST_SUITE_P(Golden, EngineGoldenTest, ::testing::ValuesIn(testing::GoldenCaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(EngineGoldenTest);

// Bitwise determinism on a model of every weight type family.
TEST(EngineDeterminismTest, ThreadsAndBatchingDoNotChangeBits) {
  HEARTH_REQUIRE_SHARED();
  for (const char* name : {"synth-llama-d256-q4_0.punct", "synth-llama-d256-q4_k_m.punct",
                           "synth-llama-d256-f16.punct", "synth-qwen2-d256-q8_0.punct"}) {
    SCOPED_TRACE(name);
    auto c = testing::LoadGoldenCase(name);
    ASSERT_TRUE(c.ok());
    auto m = Model::Load(c->model_path);
    ASSERT_TRUE(m.ok());
    auto one = NewSession(*m, 1);
    auto two = NewSession(*m, 2);
    auto small_batches = NewSession(*m, 2, /*n_batch=*/3);
    std::vector<float> a = GoldenRows(*one, *c);
    std::vector<float> b = GoldenRows(*two, *c);
    std::vector<float> d = GoldenRows(*small_batches, *c);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "1 vs 2 threads";
    EXPECT_EQ(0, std::memcmp(a.data(), d.data(), a.size() * 4)) << "batch 256 vs batch 3";
    // Token by token.
    auto seq_session = NewSession(*m, 2);
    std::vector<float> seq, step;
    for (int32_t id : c->Sequence()) {
      ASSERT_TRUE(seq_session->Eval(std::span<const int32_t>(&id, 1), false, &step).ok());
      seq.insert(seq.end(), step.begin(), step.end());
    }
    EXPECT_EQ(0, std::memcmp(a.data(), seq.data(), a.size() * 4)) << "batched vs one at a time";
  }
}

TEST(EngineTest, RejectsBadInput) {
  HEARTH_REQUIRE_SHARED();
  auto m = Model::Load(testing::SharedDir() + "/models/aidreams260K/aidreams260K-f32.gguf");
  ASSERT_TRUE(m.ok());
  auto s = NewSession(*m, 1);
  std::vector<float> logits;
  std::vector<int32_t> bad = {1, 512};
  Status st = s->Eval(bad, false, &logits);
  EXPECT_EQ(st.reason(), "invalid_token");
  std::vector<int32_t> many(600, 5);
  EXPECT_EQ(s->Eval(many, false, &logits).reason(), "prompt_too_long");
  EXPECT_EQ(s->pos(), 0) << "a rejected batch must not advance the sequence";
  auto missing = Model::Load("/nonexistent.gguf");
  ASSERT_FALSE(missing.ok());
  auto vocab_only = Model::Load(testing::SharedDir() + "/testdata/vocab/ggml-vocab-gpt-2.gguf");
  ASSERT_FALSE(vocab_only.ok());
  EXPECT_NE(vocab_only.status().message().find("gpt2"), std::string::npos)
      << vocab_only.status().message();
}

}  // namespace
}  // namespace hearth
