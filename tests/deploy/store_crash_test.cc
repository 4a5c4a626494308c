// Crash safety: kill -9 at every disk-changing step of install / activate /
// rollback (the store's crash points, found by tracing each operation), then
// check that the store always has a complete, loadable active bundle, that
// `hearth recover` repairs everything, and that the operation then succeeds.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "base/mapped_file.h"
#include "deploy/smoke.h"
#include "deploy/store.h"
#include "deploy/verify.h"
#include "deploy_fixture.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;
using testing::BundleSpec;
using testing::FreshDir;
using testing::Hearth;

struct Bundles {
  std::string v1, v2, v3, bad;
};

const Bundles& GetBundles() {
  static const Bundles b = [] {
    Bundles out;
    BundleSpec spec;
    spec.tar = true;
    spec.version = "1.0.0";
    out.v1 = testing::MakeBundle(spec);
    spec.version = "2.0.0";
    out.v2 = testing::MakeBundle(spec);
    spec.version = "3.0.0";
    out.v3 = testing::MakeBundle(spec);
    spec.version = "2.5.0";
    spec.model = testing::NanModel();
    out.bad = testing::MakeBundle(spec);
    return out;
  }();
  return b;
}

// A store holding `installs` (each installed and, unless prefixed "-", activated).
std::string MakeRoot(const std::vector<std::string>& installs) {
  const std::string root = FreshDir() + "/root";
  Result<Store> store = Store::OpenForWrite(root, true);
  EXPECT_TRUE(store.ok());
  fs::copy_file(testing::ReleasePub(), root + "/trusted-keys/rel.pub");
  TrustedKeys trust = testing::ReleaseTrust();
  for (std::string b : installs) {
    InstallOptions io;
    io.trusted = &trust;
    io.activate = b[0] != '-';
    if (b[0] == '-') b = b.substr(1);
    io.smoke = [](const std::string& d, const Manifest& m) { return RunSmokeTest(d, m); };
    Result<std::string> id = store->Install(b, io);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
  }
  return root;
}

std::string CopyRoot(const std::string& tmpl) {
  const std::string root = FreshDir() + "/root";
  EXPECT_EQ(::hearth::testing::RunCommand("cp -a '" + tmpl + "' '" + root + "'").exit_code, 0);
  return root;
}

// The bundle is complete: every listed file present with its size and hash,
// and its model parses with facts matching the manifest.
::testing::AssertionResult Complete(const std::string& root, const std::string& id) {
  Result<std::unique_ptr<BundleReader>> b = BundleReader::Open(root + "/bundles/" + id);
  if (!b.ok()) return ::testing::AssertionFailure() << id << ": " << b.status().ToString();
  VerifyOptions o;
  o.check_signature = false;
  VerifyReport r = VerifyBundle(**b, o);
  if (!r.ok()) return ::testing::AssertionFailure() << id << ": " << r.Summary();
  return ::testing::AssertionSuccess();
}

std::vector<std::string> Trace(const std::string& tmpl, const std::string& op) {
  const std::string root = CopyRoot(tmpl);
  const std::string trace = FreshDir() + "/trace";
  ::hearth::testing::CommandResult r =
      Hearth(op + " --root " + root + " -q", "HEARTH_CRASH_TRACE=" + trace);
  Result<std::string> text = ReadFileToString(trace);
  EXPECT_TRUE(text.ok()) << op << " passed no crash point: " << r.output;
  std::vector<std::string> points;
  std::istringstream in(text.ok() ? *text : std::string());
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) points.push_back(line);
  return points;
}

constexpr int kNoRetry = -2;

struct Scenario {
  std::string name;
  std::vector<std::string> setup;        // bundles installed first
  std::string op;                        // hearth command line (without --root)
  std::set<std::string> allowed_active;  // what may be active right after a crash
  std::string final_active;              // after recovery and a retry
  int retry_exit = 0;
};

void RunScenario(const Scenario& s) {
  SCOPED_TRACE(s.name);
  const std::string tmpl = MakeRoot(s.setup);
  const std::vector<std::string> points = Trace(tmpl, s.op);
  ASSERT_GE(points.size(), 3u) << "the operation passed too few crash points";
  for (const std::string& point : points) {
    SCOPED_TRACE("crash at " + point);
    const std::string root = CopyRoot(tmpl);
    ::hearth::testing::CommandResult crashed =
        Hearth(s.op + " --root " + root + " -q", "HEARTH_CRASH_AT=" + point);
    EXPECT_TRUE(crashed.exit_code == 137 || crashed.exit_code == -1)
        << "expected a SIGKILL, got exit " << crashed.exit_code << ": " << crashed.output;

    // Right after the crash, before any repair: state.json is whole, and the
    // active bundle it names is complete.
    Result<StoreState> state = Store::ReadState(root);  // no state.json = empty store
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_TRUE(s.allowed_active.count(state->active)) << "active: " << state->active;
    if (!state->active.empty()) {
      EXPECT_TRUE(Complete(root, state->active));
    }
    ::hearth::testing::CommandResult status = Hearth("status --json --root " + root);
    EXPECT_EQ(status.exit_code, 0) << status.output;

    // Repair: nothing half-done remains, everything installed is complete.
    ::hearth::testing::CommandResult rec = Hearth("recover -q --root " + root);
    ASSERT_EQ(rec.exit_code, 0) << rec.output;
    state = Store::ReadState(root);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state->trial.empty());
    EXPECT_TRUE(s.allowed_active.count(state->active)) << "active: " << state->active;
    EXPECT_TRUE(fs::is_empty(root + "/staging"));
    for (const std::string& id : ListInstalled(root)) EXPECT_TRUE(Complete(root, id));
    for (const auto& e : fs::directory_iterator(root))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();

    // The store works again: the same operation now completes (a rollback is
    // relative to the current state, so it is not retried).
    if (s.retry_exit == kNoRetry) continue;
    ::hearth::testing::CommandResult retry = Hearth(s.op + " --root " + root + " -q");
    if (s.retry_exit >= 0) {
      EXPECT_EQ(retry.exit_code, s.retry_exit) << retry.output;
    }
    state = Store::ReadState(root);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->active, s.final_active) << retry.output;
    EXPECT_TRUE(Complete(root, state->active));
  }
}

const char* kV1 = "tiny-chat-1.0.0";
const char* kV2 = "tiny-chat-2.0.0";
const char* kV3 = "tiny-chat-3.0.0";

TEST(StoreCrashTest, FirstInstall) {
  RunScenario({"first install", {}, "install " + GetBundles().v1, {"", kV1}, kV1});
}

TEST(StoreCrashTest, Upgrade) {
  const Bundles& b = GetBundles();
  RunScenario({"upgrade", {b.v1}, "install " + b.v2, {kV1, kV2}, kV2});
}

TEST(StoreCrashTest, UpgradeWithCleanup) {
  const Bundles& b = GetBundles();
  RunScenario({"upgrade + gc", {b.v1, b.v2}, "install " + b.v3, {kV2, kV3}, kV3});
}

TEST(StoreCrashTest, FailingTrial) {
  const Bundles& b = GetBundles();
  // The retry is refused (quarantined, exit 6) or fails its trial again (exit 7);
  // either way the good bundle stays active.
  RunScenario({"failing trial", {b.v1}, "install " + b.bad, {kV1, "tiny-chat-2.5.0"}, kV1, -1});
}

TEST(StoreCrashTest, Activate) {
  const Bundles& b = GetBundles();
  RunScenario({"activate", {b.v1, "-" + b.v2}, std::string("activate ") + kV2, {kV1, kV2}, kV2});
}

TEST(StoreCrashTest, Rollback) {
  const Bundles& b = GetBundles();
  RunScenario({"rollback", {b.v1, b.v2}, "rollback", {kV1, kV2}, kV1, kNoRetry});
}

TEST(StoreCrashTest, RollbackAndQuarantine) {
  const Bundles& b = GetBundles();
  RunScenario(
      {"rollback --quarantine", {b.v1, b.v2}, "rollback --quarantine", {kV1, kV2}, kV1, kNoRetry});
}

}  // namespace
}  // namespace hearth::deploy
