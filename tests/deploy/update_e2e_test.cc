// The update agent end to end: `hearth publish` writes a signed channel and the
// bundle into an origin directory, a real HTTP server on loopback serves it,
// and `hearth update --once` (a separate process) installs from it.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/json.h"
#include "base/mapped_file.h"
#include "deploy/keys.h"
#include "deploy/rollout.h"
#include "deploy/store.h"
#include "deploy_fixture.h"
#include "testing/static_httpd.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;
using testing::BundleSpec;
using testing::FreshDir;
using testing::Hearth;

class UpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = FreshDir() + "/origin";
    root_ = FreshDir() + "/device";
    fs::create_directories(root_ + "/trusted-keys");
    fs::create_directories(origin_);
    fs::copy_file(testing::ReleasePub(), root_ + "/trusted-keys/rel.pub");
    Result<std::unique_ptr<::hearth::testing::StaticHttpServer>> s =
        ::hearth::testing::StaticHttpServer::Start({origin_ + "/", true});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  std::string Bundle(const std::string& version, bool nan = false) {
    BundleSpec spec;
    spec.version = version;
    spec.tar = true;
    if (nan) spec.model = testing::NanModel();
    return testing::MakeBundle(spec);
  }

  void Publish(const std::string& tar, const std::string& extra = "") {
    fs::create_directories(origin_);
    ::hearth::testing::CommandResult r =
        Hearth("publish " + tar + " --origin-dir " + origin_ + " --key " +
               testing::ReleaseKeyDir() + "/rel.key " + extra);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  // Runs one poll; returns the JSON report (the last line of output).
  json::Value Update(const std::string& device, const std::string& extra = "",
                     int* exit_code = nullptr) {
    ::hearth::testing::CommandResult r =
        Hearth("update --once -q --origin " + server_->url() + " --root " + root_ +
               " --device-id " + device + " " + extra);
    if (exit_code) *exit_code = r.exit_code;
    std::string line = r.output;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
    Result<json::Value> v = json::Parse(line);
    EXPECT_TRUE(v.ok()) << r.output;
    return v.ok() ? *v : json::Value::Object{};
  }

  static std::string Str(const json::Value& v, const char* key) {
    const json::Value* f = v.Find(key);
    return f && f->is_string() ? f->as_string() : "";
  }

  std::string Active() { return Store::ReadState(root_)->active; }

  std::string origin_, root_;
  std::unique_ptr<::hearth::testing::StaticHttpServer> server_;
};

TEST_F(UpdateTest, InstallsThenReportsUpToDate) {
  Publish(Bundle("1.0.0"));
  int rc = -1;
  json::Value r = Update("u-1042", "", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Str(r, "result"), "installed") << json::Serialize(r);
  EXPECT_EQ(Str(r, "active"), "tiny-chat-1.0.0");
  EXPECT_EQ(r.Find("bucket")->as_int(), 30);  // the book's device
  EXPECT_EQ(Active(), "tiny-chat-1.0.0");
  EXPECT_FALSE(fs::exists(root_ + "/downloads/" + Str(r, "bundle_id") + ".tar"));
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "up_to_date");
  // A newer release replaces it; the old one is kept as previous.
  Publish(Bundle("1.1.0"));
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "installed");
  EXPECT_EQ(Store::ReadState(root_)->previous, "tiny-chat-1.0.0");
}

TEST_F(UpdateTest, InterruptedDownloadResumes) {
  const std::string tar = Bundle("2.0.0");
  Publish(tar);
  const uint64_t size = fs::file_size(tar);
  ASSERT_GT(size, 2u << 20);
  server_->CutNextResponse("/bundles/tiny-chat-2.0.0.tar", 1 << 20);
  int rc = 0;
  json::Value r = Update("u-1042", "--attempts 1", &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(Str(r, "result"), "failed") << json::Serialize(r);
  EXPECT_EQ(Str(r, "reason"), "fetch.network");
  EXPECT_TRUE(Active().empty());
  r = Update("u-1042", "--attempts 1", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Str(r, "result"), "installed") << json::Serialize(r);
  EXPECT_EQ(r.Find("resumed_from")->as_int(), 1 << 20);
  EXPECT_EQ(static_cast<uint64_t>(r.Find("downloaded_bytes")->as_int()), size - (1 << 20));
  bool ranged = false;
  for (const auto& q : server_->requests())
    if (q.path == "/bundles/tiny-chat-2.0.0.tar" && q.range_header == "bytes=1048576-")
      ranged = true;
  EXPECT_TRUE(ranged) << "the second download must ask for the rest only";
  EXPECT_EQ(Active(), "tiny-chat-2.0.0");
}

TEST_F(UpdateTest, BadChannelSignatureInstallsNothing) {
  Publish(Bundle("1.0.0"));
  // Edit the signed channel file (raise the rollout) without re-signing.
  const std::string channel = origin_ + "/channels/stable.json";
  std::string text = *ReadFileToString(channel);
  text.replace(text.find("\"sequence\": 1"), 13, "\"sequence\": 9");
  ASSERT_TRUE(WriteFileAtomic(channel, text).ok());
  json::Value r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "failed");
  EXPECT_EQ(Str(r, "reason"), "sig.bad");
  EXPECT_TRUE(Active().empty());
  EXPECT_TRUE(ListInstalled(root_).empty());
  // Signed, but by a key the device does not trust.
  SecretKey other = *GenerateKey();
  ASSERT_TRUE(WriteFileAtomic(channel + ".sig", *AddSignature(other, text, "")).ok());
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "reason"), "sig.untrusted");
  // No signature at all.
  fs::remove(channel + ".sig");
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "failed");
  EXPECT_EQ(Str(r, "reason"), "fetch.not_found");
  EXPECT_TRUE(ListInstalled(root_).empty());
}

TEST_F(UpdateTest, RolloutSelectsByBucket) {
  // u-1042 is in bucket 30: out at 30 per mille, in at 31.
  Publish(Bundle("1.0.0"), "--rollout-permille 30");
  json::Value r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "not_selected");
  EXPECT_EQ(r.Find("bucket")->as_int(), 30);
  EXPECT_FALSE(fs::exists(root_ + "/downloads") && !fs::is_empty(root_ + "/downloads"));
  Publish(Bundle("1.0.0"), "--rollout-permille 31");
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "installed");
  // Eligibility: a CPU feature no machine has.
  Publish(Bundle("1.1.0"), "--isa no-such-feature");
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "not_eligible");
  EXPECT_NE(Str(r, "message").find("no-such-feature"), std::string::npos);
}

TEST_F(UpdateTest, ReplayedOldChannelRefused) {
  Publish(Bundle("1.0.0"));
  const std::string channel = origin_ + "/channels/stable.json";
  const std::string old_text = *ReadFileToString(channel);
  const std::string old_sig = *ReadFileToString(channel + ".sig");
  Publish(Bundle("1.1.0"));  // sequence 2
  EXPECT_EQ(Str(Update("u-1042"), "result"), "installed");
  ASSERT_TRUE(WriteFileAtomic(channel, old_text).ok());
  ASSERT_TRUE(WriteFileAtomic(channel + ".sig", old_sig).ok());
  json::Value r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "failed");
  EXPECT_EQ(Str(r, "reason"), "channel.rollback");
  EXPECT_EQ(Active(), "tiny-chat-1.1.0");
}

TEST_F(UpdateTest, SwappedBundleBytesRejected) {
  const std::string tar = Bundle("1.0.0");
  Publish(tar);
  // Same size, different bytes: the signed channel's sha256 catches it.
  const std::string served = origin_ + "/bundles/tiny-chat-1.0.0.tar";
  std::string bytes = *ReadFileToString(served);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(served, bytes).ok());
  json::Value r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "failed");
  EXPECT_EQ(Str(r, "reason"), "update.hash_mismatch");
  EXPECT_TRUE(ListInstalled(root_).empty());
  EXPECT_TRUE(!fs::exists(root_ + "/downloads") || fs::is_empty(root_ + "/downloads"));
}

TEST_F(UpdateTest, FailingBundleRolledBackThenSkipped) {
  Publish(Bundle("1.0.0"));
  EXPECT_EQ(Str(Update("u-1042"), "result"), "installed");
  Publish(Bundle("1.1.0", /*nan=*/true));
  int rc = 0;
  json::Value r = Update("u-1042", "", &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(Str(r, "result"), "failed");
  EXPECT_EQ(Str(r, "reason"), "store.smoke_failed");
  EXPECT_EQ(Str(r, "active"), "tiny-chat-1.0.0");
  r = Update("u-1042");
  EXPECT_EQ(Str(r, "result"), "skipped");
  EXPECT_NE(Str(r, "message").find("quarantined"), std::string::npos);
}

TEST_F(UpdateTest, DirectoryOriginWorks) {
  Publish(Bundle("1.0.0"));
  ::hearth::testing::CommandResult r =
      Hearth("update --once -q --origin " + origin_ + " --root " + root_ + " --device-id d1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"result\":\"installed\""), std::string::npos) << r.output;
}

}  // namespace
}  // namespace hearth::deploy
