// The device store: install, trial with the real smoke test, commit, rollback,
// anti-downgrade, quarantine, garbage collection, read-only bundles.
#include "deploy/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/mapped_file.h"
#include "deploy/smoke.h"
#include "deploy_fixture.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;
using testing::BundleSpec;
using testing::MakeBundle;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::FreshDir() + "/store";
    trust_ = testing::ReleaseTrust();
  }
  Result<std::string> Install(const std::string& bundle, bool activate = true) {
    Result<Store> store = Store::OpenForWrite(root_, true);
    if (!store.ok()) return store.status();
    InstallOptions io;
    io.trusted = &trust_;
    io.activate = activate;
    io.smoke = [](const std::string& dir, const Manifest& m) { return RunSmokeTest(dir, m); };
    return store->Install(bundle, io);
  }
  StoreState State() { return *Store::ReadState(root_); }
  std::string Bundle(const std::string& version, bool nan = false) {
    BundleSpec spec;
    spec.version = version;
    spec.tar = true;
    if (nan) spec.model = testing::NanModel();
    return MakeBundle(spec);
  }

  std::string root_;
  TrustedKeys trust_;
};

TEST_F(StoreTest, InstallUpgradeRollbackPersist) {
  Result<std::string> v1 = Install(Bundle("1.0.0"));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, "tiny-chat-1.0.0");
  EXPECT_EQ(State().active, "tiny-chat-1.0.0");
  EXPECT_EQ(State().highest_counter, 1000000u);

  // Installed bundles are read-only.
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/bundles/tiny-chat-1.0.0/model/tiny.gguf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  ASSERT_EQ(::stat((root_ + "/bundles/tiny-chat-1.0.0").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);

  ASSERT_TRUE(Install(Bundle("1.1.0")).ok());
  StoreState s = State();  // read back from disk: what a restarted process sees
  EXPECT_EQ(s.active, "tiny-chat-1.1.0");
  EXPECT_EQ(s.previous, "tiny-chat-1.0.0");
  EXPECT_TRUE(s.trial.empty());
  EXPECT_EQ(s.highest_counter, 1001000u);

  {
    Result<Store> store = Store::OpenForWrite(root_, false);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store->Rollback("", false, "").ok());
  }
  s = State();
  EXPECT_EQ(s.active, "tiny-chat-1.0.0");
  EXPECT_EQ(s.previous, "tiny-chat-1.1.0");
  EXPECT_EQ(s.highest_counter, 1001000u);  // a rollback does not lower the bar

  // Installing the same bundle again changes nothing.
  ASSERT_TRUE(Install(Bundle("1.0.0")).ok());
  EXPECT_EQ(State().active, "tiny-chat-1.0.0");
  // The event log recorded every step.
  std::string events = *ReadFileToString(root_ + "/events.jsonl");
  for (const char* e : {"installed", "trial_started", "committed", "rolled_back"})
    EXPECT_NE(events.find(e), std::string::npos) << e;
}

TEST_F(StoreTest, DowngradeRefusedExceptExplicitRollback) {
  ASSERT_TRUE(Install(Bundle("1.0.0")).ok());
  ASSERT_TRUE(Install(Bundle("2.0.0")).ok());
  Result<std::string> old = Install(Bundle("1.5.0"));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().reason(), "store.downgrade");
  EXPECT_FALSE(fs::exists(root_ + "/bundles/tiny-chat-1.5.0"));
  EXPECT_EQ(State().active, "tiny-chat-2.0.0");
  // Activating the retained older bundle is a downgrade too; rollback is the way.
  Result<Store> store = Store::OpenForWrite(root_, false);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store->Activate("tiny-chat-1.0.0", {}).reason(), "store.downgrade");
  ASSERT_TRUE(store->Rollback("tiny-chat-1.0.0", false, "").ok());
  EXPECT_EQ(State().active, "tiny-chat-1.0.0");
}

TEST_F(StoreTest, FailedSmokeTestRollsBackAndQuarantines) {
  ASSERT_TRUE(Install(Bundle("1.0.0")).ok());
  const std::string bad = Bundle("1.1.0", /*nan=*/true);
  Result<std::string> r = Install(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "store.smoke_failed");
  EXPECT_NE(r.status().message().find("logit"), std::string::npos) << r.status().message();
  StoreState s = State();
  EXPECT_EQ(s.active, "tiny-chat-1.0.0");
  EXPECT_TRUE(s.trial.empty());
  EXPECT_EQ(s.highest_counter, 1000000u);  // never committed
  EXPECT_FALSE(fs::exists(root_ + "/bundles/tiny-chat-1.1.0"));
  EXPECT_TRUE(fs::exists(root_ + "/quarantine/tiny-chat-1.1.0/manifest.json"));
  std::vector<QuarantineRecord> q = Store::ListQuarantine(root_);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].bundle_id, "tiny-chat-1.1.0");
  EXPECT_NE(q[0].reason.find("smoke test failed"), std::string::npos);
  // Not retried.
  Result<std::string> again = Install(bad);
  EXPECT_EQ(again.status().reason(), "store.quarantined");
  // A good successor still goes in.
  ASSERT_TRUE(Install(Bundle("1.2.0")).ok());
  EXPECT_EQ(State().active, "tiny-chat-1.2.0");
  EXPECT_EQ(State().previous, "tiny-chat-1.0.0");
}

TEST_F(StoreTest, FirstBundleFailingLeavesNothingActive) {
  Result<std::string> r = Install(Bundle("1.0.0", true));
  EXPECT_EQ(r.status().reason(), "store.smoke_failed");
  EXPECT_TRUE(State().active.empty());
  EXPECT_TRUE(ListInstalled(root_).empty());
}

TEST_F(StoreTest, KeepsActiveAndPreviousOnly) {
  ASSERT_TRUE(Install(Bundle("1.0.0")).ok());
  ASSERT_TRUE(Install(Bundle("1.1.0")).ok());
  ASSERT_TRUE(Install(Bundle("1.2.0")).ok());
  EXPECT_EQ(ListInstalled(root_), (std::vector<std::string>{"tiny-chat-1.1.0", "tiny-chat-1.2.0"}));
  EXPECT_TRUE(fs::is_empty(root_ + "/staging"));
}

TEST_F(StoreTest, InstallWithoutActivateThenActivate) {
  ASSERT_TRUE(Install(Bundle("1.0.0")).ok());
  ASSERT_TRUE(Install(Bundle("1.1.0"), /*activate=*/false).ok());
  EXPECT_EQ(State().active, "tiny-chat-1.0.0");
  Result<Store> store = Store::OpenForWrite(root_, false);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      store
          ->Activate("tiny-chat-1.1.0",
                     [](const std::string& d, const Manifest& m) { return RunSmokeTest(d, m); })
          .ok());
  EXPECT_EQ(State().active, "tiny-chat-1.1.0");
  EXPECT_EQ(State().previous, "tiny-chat-1.0.0");
}

TEST_F(StoreTest, ConflictingBundleWithSameIdRefused) {
  ASSERT_TRUE(Install(Bundle("1.0.0")).ok());
  BundleSpec spec;
  spec.with_extras = true;  // same id, different content
  Result<std::string> r = Install(MakeBundle(spec));
  EXPECT_EQ(r.status().reason(), "store.conflict");
}

TEST(StoreStateTest, ParseRejectsCorruption) {
  StoreState s;
  s.active = "a-1.0.0";
  s.previous = "a-0.9.0";
  s.highest_counter = 7;
  Result<StoreState> back = ParseStoreState(SerializeStoreState(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->active, s.active);
  EXPECT_EQ(back->previous, s.previous);
  EXPECT_EQ(back->highest_counter, 7u);
  for (const char* bad : {"", "{", R"({"schema":"x"})",
                          R"({"schema":"hearth.store/v1","active":"../etc","highest_counter":0})",
                          R"({"schema":"hearth.store/v1","highest_counter":-3})"})
    EXPECT_EQ(ParseStoreState(bad).status().reason(), "store.state_corrupt") << bad;
}

}  // namespace
}  // namespace hearth::deploy
