// `hearth serve` as a user starts it: --config, the banner, keys made with
// `hearth serve keygen`, refusal off loopback, SIGTERM drains.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "base/mapped_file.h"
#include "server_fixture.h"
#include "testing/test_paths.h"

namespace hearth::server::testing {
namespace {

using ::hearth::testing::HearthBinary;
using ::hearth::testing::RunCommand;

TEST(ServerCliTest, ConfigFileKeygenAndGracefulStop) {
  const std::string dir = ::hearth::testing::TempDir();
  // A key made by the CLI: the secret is printed once, only its hash stored.
  ::hearth::testing::CommandResult k = RunCommand(HearthBinary() + " serve keygen --keys " + dir +
                                                  "/keys.json --id k_app --role user");
  ASSERT_EQ(k.exit_code, 0) << k.output;
  const std::string secret = k.output.substr(0, k.output.find('\n'));
  ASSERT_EQ(secret.rfind("hk_", 0), 0u) << k.output;
  struct stat st;
  ASSERT_EQ(::stat((dir + "/keys.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFileToString(dir + "/keys.json")->find(secret), std::string::npos);

  ASSERT_TRUE(WriteFileAtomic(dir + "/hearth.toml",
                              "# test server\n"
                              "model = \"" +
                                  FastModel() +
                                  "\"\n"
                                  "port = 0\n"
                                  "port_file = \"" +
                                  dir +
                                  "/port\"\n"
                                  "parallel = 2\n"
                                  "api_keys = \"" +
                                  dir +
                                  "/keys.json\"\n"
                                  "max_body_bytes = 65_536\n"
                                  "load = \"memory-plain\"\n")
                  .ok());
  const std::string log = dir + "/serve.log";
  ASSERT_EQ(RunCommand(HearthBinary() + " serve --config " + dir +
                       "/hearth.toml --parallel 3 --prefetch 4096 > " + log + " 2>&1 & echo $! > " +
                       dir + "/pid")
                .exit_code,
            0);
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (Result<std::string> p = ReadFileToString(dir + "/port"); p.ok())
      port = std::atoi(p->c_str());
  }
  ASSERT_GT(port, 0) << *ReadFileToString(log);
  for (int i = 0; i < 500 && Request(port, "GET", "/ready").status != 200; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  HttpResult r = Request(port, "POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})",
                         {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Request(port, "POST", "/v1/completions", R"({"prompt":"x"})").status, 401);
  // The banner shows the effective configuration: the command line wins over the file.
  const std::string banner = *ReadFileToString(log);
  EXPECT_NE(banner.find("\"parallel\": 3"), std::string::npos) << banner;
  EXPECT_NE(banner.find("\"max_body_bytes\": 65536"), std::string::npos) << banner;
  EXPECT_NE(banner.find("\"load\": \"memory-plain\""), std::string::npos) << banner;
  EXPECT_NE(banner.find("\"prefetch_bytes\": 4096"), std::string::npos) << banner;
  EXPECT_NE(banner.find("secrets not shown"), std::string::npos);
  EXPECT_EQ(banner.find(secret), std::string::npos);
  // SIGTERM: drains and exits 0.
  const std::string pid = *ReadFileToString(dir + "/pid");
  EXPECT_EQ(RunCommand("kill -TERM " + pid).exit_code, 0);
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // Exited (a zombie until its adoptive parent reaps it counts as exited).
    const std::string state = RunCommand("ps -o stat= -p " + pid).output;
    gone = state.find_first_not_of(" \n") == std::string::npos || state.rfind('Z', 0) == 0;
  }
  EXPECT_TRUE(gone);
  EXPECT_NE(ReadFileToString(log)->find("draining"), std::string::npos);
}

TEST(ServerCliTest, RefusesBadSetups) {
  ::hearth::testing::CommandResult r =
      RunCommand(HearthBinary() + " serve -m " + FastModel() + " --host 0.0.0.0 --port 0", true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("without API keys"), std::string::npos) << r.output;
  r = RunCommand(HearthBinary() + " serve -m " + FastModel() + " --parallel 0", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = RunCommand(HearthBinary() + " serve -m " + FastModel() + " --prefetch 10", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--prefetch expects auto or a number of bytes"), std::string::npos)
      << r.output;
  r = RunCommand(HearthBinary() + " serve -m " + FastModel() + " --load disk", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("memory-plain"), std::string::npos) << r.output;
  r = RunCommand(HearthBinary() + " serve", true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("-m MODEL.gguf"), std::string::npos) << r.output;
  const std::string dir = ::hearth::testing::TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.toml", "port = = 1\n").ok());
  r = RunCommand(HearthBinary() + " serve --config " + dir + "/bad.toml", true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("bad.toml:1:"), std::string::npos) << r.output;
  r = RunCommand(HearthBinary() + " serve --help", true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--parallel"), std::string::npos);
}

}  // namespace
}  // namespace hearth::server::testing
