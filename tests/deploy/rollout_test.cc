// Rollout buckets (DESIGN §7, book 14.3) and semantic versions.
#include "deploy/rollout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "deploy/semver.h"
#include "testing/test_paths.h"

namespace hearth::deploy {
namespace {

// The book's example: SHA-256("u-1042"), first 8 bytes big-endian, mod 1000.
TEST(RolloutTest, BookExampleIsThirty) {
  EXPECT_EQ(RolloutBucket("u-1042", ""), 30u);
  RolloutPolicy p;
  p.rollout_permille = 120;  // 12.0 %: u-1042 gets the new model
  DeviceFacts d;
  d.device_id = "u-1042";
  EXPECT_TRUE(DecideRollout(p, d).selected);
}

// Independent oracle: coreutils' sha256sum, the first 16 hex digits as a big-endian
// integer, reduced mod 1000 by the test itself.
TEST(RolloutTest, MatchesSha256sum) {
  if (::system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "no sha256sum";
  for (const char* id : {"u-1042", "device-7", "kiosk/lobby", "ä-unicode"}) {
    for (const char* salt : {"", "tiny-chat-1.2.0"}) {
      const std::string input = std::string(salt).empty() ? id : std::string(salt) + ":" + id;
      testing::CommandResult r = testing::RunCommand("printf '%s' '" + input + "' | sha256sum");
      ASSERT_EQ(r.exit_code, 0);
      const unsigned long long v = std::stoull(r.output.substr(0, 16), nullptr, 16);
      EXPECT_EQ(RolloutBucket(id, salt), v % 1000) << input;
    }
  }
}

TEST(RolloutTest, SaltSeparatesRollouts) {
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string id = "dev-" + std::to_string(i);
    differ += RolloutBucket(id, "a") != RolloutBucket(id, "b");
  }
  EXPECT_GT(differ, 90);
}

// 10,000 ids: every per-mille bucket's count is Binomial(10000, 1/1000)
// (mean 10, sd ~3.16); all within mean ± 6 sd, and a chi-square over the 1000
// buckets within its 99.99 % bounds (df 999: mean 999, sd ~44.7).
TEST(RolloutTest, BucketsAreUniform) {
  std::vector<int> counts(1000, 0);
  for (int i = 0; i < 10000; ++i) ++counts[RolloutBucket("u-" + std::to_string(i), "")];
  double chi2 = 0;
  for (int c : counts) {
    EXPECT_LE(c, 10 + 6 * 3.17);
    chi2 += (c - 10.0) * (c - 10.0) / 10.0;
  }
  EXPECT_GT(chi2, 999 - 4 * 44.7);
  EXPECT_LT(chi2, 999 + 4 * 44.7);
  // And coarse deciles: each holds 1000 ± 5 sd (sd = 30).
  for (int d = 0; d < 10; ++d) {
    int n = 0;
    for (int b = d * 100; b < d * 100 + 100; ++b) n += counts[b];
    EXPECT_NEAR(n, 1000, 150) << "decile " << d;
  }
}

TEST(RolloutTest, RampIsMonotonicAndZeroSelectsNobody) {
  RolloutPolicy at120, at300, at0, at1000;
  at120.rollout_permille = 120;
  at300.rollout_permille = 300;
  at0.rollout_permille = 0;
  at1000.rollout_permille = 1000;
  int selected120 = 0;
  for (int i = 0; i < 2000; ++i) {
    DeviceFacts d;
    d.device_id = "u-" + std::to_string(i);
    const bool s120 = DecideRollout(at120, d).selected;
    selected120 += s120;
    if (s120) {
      EXPECT_TRUE(DecideRollout(at300, d).selected) << d.device_id;
    }
    EXPECT_FALSE(DecideRollout(at0, d).selected);
    EXPECT_TRUE(DecideRollout(at1000, d).selected);
  }
  EXPECT_NEAR(selected120, 240, 60);
}

TEST(RolloutTest, IneligibleDevicesNeverSelected) {
  RolloutPolicy p;
  p.rollout_permille = 1000;
  p.eligibility.min_runtime_version = "0.10.0";
  p.eligibility.min_free_ram_mib = 1024;
  p.eligibility.isa = {"avx2"};
  DeviceFacts d;
  d.device_id = "u-1042";
  d.runtime_version = "0.9.5";  // semantic: 0.9.5 < 0.10.0
  d.free_ram_mib = 4096;
  d.isa = {"avx2"};
  RolloutDecision r = DecideRollout(p, d);
  EXPECT_FALSE(r.eligible);
  EXPECT_FALSE(r.selected);
  EXPECT_NE(r.reason.find("older"), std::string::npos) << r.reason;
  d.runtime_version = "0.10.0";
  EXPECT_TRUE(DecideRollout(p, d).selected);
  d.free_ram_mib = 100;
  EXPECT_FALSE(DecideRollout(p, d).eligible);
  d.free_ram_mib = 4096;
  d.isa = {"neon"};
  r = DecideRollout(p, d);
  EXPECT_FALSE(r.eligible);
  EXPECT_NE(r.reason.find("avx2"), std::string::npos);
}

TEST(RolloutTest, PolicyParsingIsStrict) {
  auto parse = [](const char* text) { return ParseRolloutPolicy(*json::Parse(text)); };
  Result<RolloutPolicy> ok =
      parse(R"({"rollout_permille":120,"salt":"s","eligibility":{"min_runtime_version":"0.1.0",)"
            R"("min_free_ram_mib":512,"min_free_disk_mib":64,"isa":["avx2","fma"]}})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rollout_permille, 120u);
  EXPECT_EQ(ok->eligibility.isa.size(), 2u);
  // Round trip.
  Result<RolloutPolicy> again = ParseRolloutPolicy(RolloutPolicyToJson(*ok));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->eligibility.min_free_disk_mib, 64u);
  for (const char* bad :
       {R"({"rollout_permille":1001})", R"({"rollout_permille":-1})",
        R"({"rollout_permille":12.5})", R"({"rollout_percent":12})", R"({})",
        R"({"rollout_permille":5,"eligibility":{"ram":1}})",
        R"({"rollout_permille":5,"eligibility":{"min_runtime_version":"1.x"}})"}) {
    Result<RolloutPolicy> r = parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "rollout.policy") << bad;
    }
  }
}

TEST(SemVerTest, ComparesSemantically) {
  EXPECT_GT(*CompareVersions("1.10.0", "1.9.0"), 0);
  EXPECT_LT(*CompareVersions("0.9.9", "0.10.0"), 0);
  EXPECT_EQ(*CompareVersions("1.2.3", "1.2.3+build.7"), 0);
  EXPECT_LT(*CompareVersions("1.0.0-rc.1", "1.0.0"), 0);
  EXPECT_LT(*CompareVersions("1.0.0-alpha", "1.0.0-alpha.1"), 0);
  EXPECT_LT(*CompareVersions("1.0.0-alpha.1", "1.0.0-alpha.beta"), 0);
  EXPECT_LT(*CompareVersions("1.0.0-beta.2", "1.0.0-beta.11"), 0);
  for (const char* bad : {"1.2", "1.2.3.4", "01.2.3", "1.2.x", "", "1.2.3-", "v1.2.3"})
    EXPECT_FALSE(ParseSemVer(bad).ok()) << bad;
  EXPECT_EQ(*CounterFromVersion("1.2.3"), 1002003u);
  EXPECT_FALSE(CounterFromVersion("1.2000.0").ok());
  EXPECT_FALSE(CounterFromVersion("1.2.0-rc.1").ok());
}

}  // namespace
}  // namespace hearth::deploy
