// `hearth serve --root`: the active bundle of a device store is served (its
// generation defaults and template included), and a newly activated bundle
// replaces it without dropping the requests in flight.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "deploy/bundle.h"
#include "deploy/keys.h"
#include "deploy/smoke.h"
#include "deploy/store.h"
#include "server_fixture.h"
#include "testing/test_paths.h"

namespace hearth::server::testing {
namespace {

namespace fs = std::filesystem;

std::string PackBundle(const std::string& dir, const std::string& model, const std::string& version,
                       const deploy::SecretKey& key, const std::string& defaults) {
  deploy::PackOptions o;
  o.gguf_path = model;
  o.name = "chat";
  o.version = version;
  if (!defaults.empty()) {
    o.defaults_path = dir + "/defaults-" + version + ".json";
    EXPECT_TRUE(WriteFileAtomic(o.defaults_path, defaults).ok());
  }
  o.output = dir + "/chat-" + version + ".tar";
  o.sign_key = &key;
  Result<deploy::PackResult> r = deploy::Pack(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return o.output;
}

Status Install(const std::string& root, const std::string& bundle,
               const deploy::TrustedKeys& trust) {
  HEARTH_ASSIGN_OR_RETURN(deploy::Store store, deploy::Store::OpenForWrite(root, true));
  deploy::InstallOptions io;
  io.trusted = &trust;
  io.smoke = [](const std::string& d, const deploy::Manifest& m) {
    return deploy::RunSmokeTest(d, m);
  };
  return store.Install(bundle, io).status();
}

TEST(ServerBundleTest, ServesTheActiveBundleAndFollowsActivation) {
  const std::string dir = ::hearth::testing::TempDir();
  const std::string root = dir + "/store";
  deploy::SecretKey key = *deploy::GenerateKey();
  deploy::TrustedKeys trust;
  trust.Add(key.pub);
  const std::string v1 = PackBundle(dir, SlowModel(), "1.0.0", key, R"({"max_tokens": 5})");
  const std::string v2 = PackBundle(dir, FastModel(), "2.0.0", key, "");
  ASSERT_TRUE(Install(root, v1, trust).ok());

  ServeOptions o = TestOptions("");
  o.model_path.clear();
  o.root = root;
  o.ctx = 2048;
  std::unique_ptr<Server> s = StartServer(o);
  ASSERT_NE(s, nullptr);
  const int port = s->port();
  HttpResult models = Request(port, "GET", "/v1/models");
  EXPECT_EQ(ParseJson(models.body).Find("data")->as_array()[0].Find("id")->as_string(),
            "chat-1.0.0");
  // The bundle's generation defaults apply when a request says nothing.
  HttpResult r =
      Request(port, "POST", "/v1/completions", R"({"prompt":"hello","ignore_eos":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseJson(r.body).Find("usage")->Find("completion_tokens")->as_int(), 5);
  EXPECT_EQ(r.Header("x-hearth-bundle"), "chat-1.0.0");
  EXPECT_EQ(ParseJson(r.body).Find("system_fingerprint")->as_string(), "chat-1.0.0");

  // A long request in flight on v1 ...
  StreamConn in_flight(port);
  ASSERT_TRUE(in_flight.Send("POST", "/v1/chat/completions",
                             ChatBody("long", 1500, true, R"("ignore_eos":true)")));
  ASSERT_TRUE(in_flight.ReadHead());
  std::string body = in_flight.ReadSome(5000);
  // ... while v2 is installed and activated on the device.
  ASSERT_TRUE(Install(root, v2, trust).ok());
  // The server notices the new active bundle and swaps to it.
  bool swapped = false;
  for (int i = 0; i < 200 && !swapped; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    HttpResult m = Request(port, "GET", "/v1/models");
    swapped = m.body.find("chat-2.0.0") != std::string::npos;
  }
  ASSERT_TRUE(swapped);
  Sse sse = ParseSse(body + in_flight.ReadAll(60000));
  EXPECT_TRUE(sse.done);
  EXPECT_EQ(sse.model, "chat-1.0.0");  // finished, whole, on the bundle it started with
  EXPECT_EQ(sse.finish_reason, "length");
  r = Request(port, "POST", "/v1/completions", R"({"prompt":"hello","max_tokens":3})");
  EXPECT_EQ(ParseJson(r.body).Find("model")->as_string(), "chat-2.0.0");
  EXPECT_EQ(s->state(), ServerState::kReady);
}

}  // namespace
}  // namespace hearth::server::testing
