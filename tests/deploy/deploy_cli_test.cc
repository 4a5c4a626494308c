// The deploy commands as a user runs them: exit codes, output, help.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/json.h"
#include "base/mapped_file.h"
#include "deploy/store.h"
#include "deploy_fixture.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;
using testing::FreshDir;
using testing::Hearth;

TEST(DeployCliTest, KeygenPackSignVerifyExitCodes) {
  const std::string dir = FreshDir();
  ::hearth::testing::CommandResult r = Hearth("keygen -o " + dir + "/k");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  struct stat st;
  ASSERT_EQ(::stat((dir + "/k.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Hearth("keygen -o " + dir + "/k").exit_code, 1);  // never overwrites

  const std::string bundle = dir + "/b.tar";
  r = Hearth("pack " + testing::TinyModel() + " --name demo --version 0.3.1 -q -o " + bundle);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("unsigned"), std::string::npos);
  // Unsigned: exit 3 (signature), with or without trusted keys.
  r = Hearth("verify -q " + bundle + " --trusted-keys " + dir + "/k.pub");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("missing: manifest.sig"), std::string::npos) << r.output;
  ASSERT_EQ(Hearth("sign " + bundle + " --key " + dir + "/k.key").exit_code, 0);
  r = Hearth("verify -q " + bundle + " --trusted-keys " + dir + "/k.pub");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Integrity check passed"), std::string::npos);
  // No trust anchor at all: fails closed.
  EXPECT_EQ(Hearth("verify -q " + bundle).exit_code, 3);
  // Another key: untrusted.
  ASSERT_EQ(Hearth("keygen -o " + dir + "/other").exit_code, 0);
  EXPECT_EQ(Hearth("verify -q " + bundle + " --trusted-keys " + dir + "/other.pub").exit_code, 3);
  // JSON report.
  r = Hearth("verify --json " + bundle + " --trusted-keys " + dir + "/k.pub");
  Result<json::Value> v = json::Parse(r.output);
  ASSERT_TRUE(v.ok()) << r.output;
  EXPECT_TRUE(v->Find("ok")->as_bool());
  EXPECT_EQ(v->Find("bundle_id")->as_string(), "demo-0.3.1");
  // Integrity (exit 1): a flipped weight byte in a directory bundle.
  const std::string d = dir + "/bd";
  ASSERT_EQ(Hearth("pack " + testing::TinyModel() + " --name demo --version 0.3.1 -q -o " + d +
                   " --sign-key " + dir + "/k.key")
                .exit_code,
            0);
  std::string bytes = *ReadFileToString(d + "/model/tiny.gguf");
  bytes[100000] ^= 4;
  ASSERT_TRUE(WriteFileAtomic(d + "/model/tiny.gguf", bytes).ok());
  r = Hearth("verify -q " + d + " --trusted-keys " + dir + "/k.pub");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("hash mismatch: model/tiny.gguf"), std::string::npos) << r.output;
  // Incompatible (exit 4): needs a newer runtime.
  ASSERT_EQ(Hearth("pack " + testing::TinyModel() + " --name demo --version 0.4.0 -q -o " + dir +
                   "/new.tar --min-runtime 42.0.0 --sign-key " + dir + "/k.key")
                .exit_code,
            0);
  EXPECT_EQ(Hearth("verify -q " + dir + "/new.tar --trusted-keys " + dir + "/k.pub").exit_code, 4);
  // Malformed (exit 5): not a tar at all.
  ASSERT_TRUE(WriteFileAtomic(dir + "/junk.tar", std::string(3000, 'x')).ok());
  EXPECT_EQ(Hearth("verify -q " + dir + "/junk.tar --trusted-keys " + dir + "/k.pub").exit_code, 5);
  // Usage (exit 2).
  EXPECT_EQ(Hearth("verify").exit_code, 2);
  EXPECT_EQ(Hearth("pack " + testing::TinyModel()).exit_code, 2);
}

TEST(DeployCliTest, InstallStatusRollback) {
  const std::string root = FreshDir() + "/root";
  testing::BundleSpec spec;
  spec.tar = true;
  const std::string v1 = testing::MakeBundle(spec);
  spec.version = "1.1.0";
  const std::string v2 = testing::MakeBundle(spec);
  const std::string trust = " --trusted-keys " + testing::ReleasePub();
  ::hearth::testing::CommandResult r = Hearth("install -q " + v1 + " --root " + root + trust);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Hearth("install -q " + v2 + " --root " + root + trust);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Hearth("status --json --root " + root);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Result<json::Value> s = json::Parse(r.output);
  ASSERT_TRUE(s.ok()) << r.output;
  EXPECT_EQ(s->Find("schema")->as_string(), "hearth.status/v1");
  EXPECT_EQ(s->Find("active")->Find("bundle_id")->as_string(), "tiny-chat-1.1.0");
  EXPECT_TRUE(s->Find("active")->Find("loadable")->as_bool());
  EXPECT_EQ(s->Find("previous")->Find("bundle_id")->as_string(), "tiny-chat-1.0.0");
  EXPECT_TRUE(s->Find("trial")->is_null());
  // Downgrade: exit 6; rollback: one action.
  r = Hearth("install -q " + v1 + " --root " + root + trust);
  EXPECT_EQ(r.exit_code, 6) << "activating the retained older bundle is a downgrade: " << r.output;
  EXPECT_EQ(Store::ReadState(root)->active, "tiny-chat-1.1.0");
  r = Hearth("rollback -q --root " + root);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("active: tiny-chat-1.0.0"), std::string::npos);
  r = Hearth("status --root " + root);
  EXPECT_NE(r.output.find("active:   tiny-chat-1.0.0"), std::string::npos) << r.output;
  // A deleted weight file makes the active bundle unloadable: status says so, exit 1.
  ::chmod((root + "/bundles/tiny-chat-1.0.0/model").c_str(), 0755);
  fs::remove(root + "/bundles/tiny-chat-1.0.0/model/tiny.gguf");
  r = Hearth("status --root " + root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("NOT LOADABLE"), std::string::npos) << r.output;
  // Smoke failure: exit 7.
  spec.version = "2.0.0";
  spec.model = testing::NanModel();
  r = Hearth("install -q " + testing::MakeBundle(spec) + " --root " + root + trust);
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_NE(r.output.find("quarantined"), std::string::npos) << r.output;
}

TEST(DeployCliTest, DowngradeRefusedWithExitSix) {
  const std::string root = FreshDir() + "/root";
  testing::BundleSpec spec;
  spec.tar = true;
  spec.version = "2.0.0";
  const std::string trust = " --trusted-keys " + testing::ReleasePub();
  ASSERT_EQ(Hearth("install -q " + testing::MakeBundle(spec) + " --root " + root + trust).exit_code,
            0);
  spec.version = "1.9.0";
  ::hearth::testing::CommandResult r =
      Hearth("install -q " + testing::MakeBundle(spec) + " --root " + root + trust);
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("downgrade refused"), std::string::npos) << r.output;
}

TEST(DeployCliTest, TwiceInterruptedTrialIsQuarantined) {
  const std::string root = FreshDir() + "/root";
  testing::BundleSpec spec;
  spec.tar = true;
  const std::string v1 = testing::MakeBundle(spec);
  spec.version = "1.1.0";
  const std::string v2 = testing::MakeBundle(spec);
  const std::string trust = " --trusted-keys " + testing::ReleasePub();
  ASSERT_EQ(Hearth("install -q " + v1 + " --root " + root + trust).exit_code, 0);
  for (int i = 0; i < 2; ++i) {
    ::hearth::testing::CommandResult r =
        Hearth("install -q " + v2 + " --root " + root + trust, "HEARTH_CRASH_AT=activate.smoke");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(Hearth("recover -q --root " + root).exit_code, 0);
    EXPECT_EQ(Store::ReadState(root)->active, "tiny-chat-1.0.0");
  }
  std::vector<QuarantineRecord> q = Store::ListQuarantine(root);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].bundle_id, "tiny-chat-1.1.0");
  EXPECT_NE(q[0].reason.find("interrupted 2 times"), std::string::npos) << q[0].reason;
}

TEST(DeployCliTest, RolloutBucketAndHelp) {
  ::hearth::testing::CommandResult r = Hearth("rollout bucket --device-id u-1042");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "30\n");
  r = Hearth("rollout bucket --device-id u-1042 --json");
  EXPECT_EQ(r.output, "{\"device_id\":\"u-1042\",\"salt\":\"\",\"bucket\":30}\n");
  const std::string policy = FreshDir() + "/rollout.json";
  ASSERT_TRUE(WriteFileAtomic(policy, R"({"rollout_permille": 120})").ok());
  r = Hearth("rollout check --policy " + policy + " --device-id u-1042");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"selected\":true"), std::string::npos) << r.output;
  ASSERT_TRUE(WriteFileAtomic(policy, R"({"rollout_permille": 30})").ok());
  EXPECT_EQ(Hearth("rollout check --policy " + policy + " --device-id u-1042").exit_code, 1);
  EXPECT_EQ(Hearth("rollout").exit_code, 2);
  for (const char* cmd : {"pack", "keygen", "sign", "verify", "install", "activate", "rollback",
                          "status", "recover", "update", "publish"}) {
    r = Hearth(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd << ": " << r.output;
  }
}

}  // namespace
}  // namespace hearth::deploy
