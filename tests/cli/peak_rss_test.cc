// Issue acceptance: peak RSS while decoding at ctx 2048 stays within
// weights + KV cache + 64 MiB, with the weights mapped, read into memory, and
// read into memory and repacked in place for the CPU (no second copy of the
// weights is ever kept in any of the three).
#include <gtest/gtest.h>

#include "base/json.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

TEST(PeakRssTest, DecodingStaysWithinWeightsPlusKvPlus64MiB) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow memory and quarantine inflate RSS";
#endif
  const std::string dir = testing::TempDir();
  const std::string model = dir + "/m.gguf";
  // ~100 MiB of Q8_0 weights: large enough that a second copy could not hide in the slack.
  testing::CommandResult s = testing::RunCommand(
      testing::HearthBinary() +
          " synth --preset tiny --dims n_embd=1024,n_ff=2816,n_layer=10,n_vocab=8000,n_ctx=2048"
          " --type q8_0 -q -o " +
          model,
      true);
  ASSERT_EQ(s.exit_code, 0) << s.output;
  for (const char* load : {"mmap", "memory", "memory-plain"}) {
    testing::CommandResult r = testing::RunCommand(
        testing::HearthBinary() + " run -m " + model + " -p hello -n 64 --ctx 2048 --temp 0 " +
        "--ignore-eos --stats json --load " + load + " 2>&1 >/dev/null | tail -n 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    Result<json::Value> stats = json::Parse(r.output);
    ASSERT_TRUE(stats.ok()) << r.output;
    const double rss = stats->Find("peak_rss_bytes")->as_double();
    const double kv = stats->Find("kv_bytes")->as_double();
    testing::CommandResult info =
        testing::RunCommand(testing::HearthBinary() + " inspect --json " + model);
    Result<json::Value> inspect = json::Parse(info.output);
    ASSERT_TRUE(inspect.ok());
    const json::Value* totals = inspect->Find("memory_plan");
    ASSERT_NE(totals, nullptr) << info.output.substr(0, 400);
    const double weights = totals->Find("weights_bytes")->as_double();
    EXPECT_GT(weights, 90.0 * (1 << 20));
    EXPECT_LE(rss, weights + kv + 64.0 * (1 << 20))
        << load << ": peak RSS " << rss / (1 << 20) << " MiB, weights " << weights / (1 << 20)
        << " MiB, KV " << kv / (1 << 20) << " MiB";
    EXPECT_GE(rss, weights * 0.9) << "the weights should have been resident";
  }
}

}  // namespace
}  // namespace hearth
