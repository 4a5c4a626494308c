// The fp32 reference forward pass against every golden case: logits of every
// stored row (teacher forcing) within the README's tolerances for the file's
// weight type, and 32 greedy steps equal up to the first low-margin step.
#include <gtest/gtest.h>

#include "format/gguf.h"
#include "ref_forward.h"
#include "testing/golden.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

class RefGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RefGoldenTest, LogitsAndGreedy) {
  HEARTH_REQUIRE_SHARED();
  auto c = testing::LoadGoldenCase(GetParam());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto f = GgufFile::Open(c->model_path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto m = ref::RefModel::Load(*f, 512);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const testing::Tolerance tol = testing::ToleranceFor(c->weight_type);

  // Teacher forcing over the stored rows.
  std::vector<float> logits;
  for (int32_t id : c->Sequence()) {
    auto row = m->Forward(id);
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    logits.insert(logits.end(), row->begin(), row->end());
  }
  testing::LogitsReport lr = testing::CompareLogits(*c, logits, tol);
  EXPECT_TRUE(lr.ok) << c->name << ": " << lr.Summary();

  // Free-running greedy decoding.
  m->Reset();
  std::vector<float> last;
  for (int32_t id : c->prompt_ids) last = *m->Forward(id);
  std::vector<int32_t> greedy;
  for (size_t i = 0; i < c->greedy_ids.size(); ++i) {
    int32_t best = static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    greedy.push_back(best);
    if (i + 1 < c->greedy_ids.size()) last = *m->Forward(best);
  }
  testing::GreedyReport gr = testing::CompareGreedy(*c, greedy, tol);
  EXPECT_TRUE(gr.ok) << c->name << ": " << gr.Summary();
  RecordProperty("logits", lr.Summary());
}

INSTANTIATE_TEST_SUITE_P(Golden, RefGoldenTest, ::testing::ValuesIn(testing::GoldenCaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RefGoldenTest);

}  // namespace
}  // namespace hearth
