// FetchToFile / FetchToString against a real in-process HTTP server (and file://).
// Every test checks real bytes on disk and what the server actually received.
#include "deploy/http_fetch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "testing/static_httpd.h"
#include "testing/test_paths.h"

namespace hearth::deploy {
namespace {

using testing::StaticHttpServer;

constexpr uint64_t kMiB = 1024 * 1024;

class HttpFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    root_ = dir_ + "/www";
    std::filesystem::create_directories(root_ + "/sub");
    part_ = dir_ + "/download.part";
  }

  // Writes `size` pseudo-random bytes to <root>/<name> and returns them.
  std::string MakeSource(const std::string& name, size_t size, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(rng() & 0xff);
    EXPECT_TRUE(WriteFileAtomic(root_ + "/" + name, data).ok());
    return data;
  }

  std::unique_ptr<StaticHttpServer> StartServer(bool support_range = true) {
    auto server = StaticHttpServer::Start({root_, support_range});
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  static std::string Read(const std::string& path) {
    auto data = ReadFileToString(path);
    return data.ok() ? *data : "<unreadable>";
  }

  static FetchOptions OneAttempt() {
    FetchOptions o;
    o.max_attempts = 1;
    return o;
  }

  std::string dir_, root_, part_;
};

TEST_F(HttpFetchTest, FullDownloadMatchesSource) {
  std::string src = MakeSource("bundle.bin", 3 * kMiB + 4321, 1);
  auto server = StartServer();
  auto size = FetchToFile(server->url() + "/bundle.bin", part_, FetchOptions());
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, src.size());
  EXPECT_TRUE(Read(part_) == src) << "downloaded bytes differ from the source";
  auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/bundle.bin");
  EXPECT_EQ(reqs[0].range_header, "");
  EXPECT_EQ(reqs[0].status, 200);
  EXPECT_EQ(reqs[0].body_bytes_sent, src.size());
}

TEST_F(HttpFetchTest, SecondCallResumesACutDownload) {
  std::string src = MakeSource("bundle.bin", 3 * kMiB + 17, 2);
  auto server = StartServer();
  std::string url = server->url() + "/bundle.bin";
  server->CutNextResponse("/bundle.bin", kMiB);

  auto first = FetchToFile(url, part_, OneAttempt());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().reason(), "fetch.network") << first.status().ToString();
  uint64_t part_size = std::filesystem::file_size(part_);
  EXPECT_EQ(part_size, kMiB);  // everything the server sent before the cut was kept

  auto second = FetchToFile(url, part_, OneAttempt());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, src.size());
  auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].range_header, "bytes=" + std::to_string(part_size) + "-");
  EXPECT_EQ(reqs[1].status, 206);
  EXPECT_EQ(reqs[1].body_bytes_sent, src.size() - part_size);  // only the tail was sent again
  EXPECT_TRUE(Read(part_) == src);
}

TEST_F(HttpFetchTest, RetryWithinOneCallResumes) {
  std::string src = MakeSource("bundle.bin", 3 * kMiB, 3);
  auto server = StartServer();
  server->CutNextResponse("/bundle.bin", kMiB);
  FetchOptions opts;
  opts.max_attempts = 3;
  std::vector<uint64_t> done;
  opts.on_progress = [&](uint64_t d, uint64_t) { done.push_back(d); };
  auto size = FetchToFile(server->url() + "/bundle.bin", part_, opts);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_TRUE(Read(part_) == src);
  auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].range_header, "");
  EXPECT_EQ(reqs[1].range_header, "bytes=" + std::to_string(kMiB) + "-");
  EXPECT_EQ(reqs[1].status, 206);
  ASSERT_FALSE(done.empty());
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end())) << "progress went backwards on resume";
  EXPECT_EQ(done.back(), src.size());
}

TEST_F(HttpFetchTest, ServerWithoutRangesRestartsFromZero) {
  std::string src = MakeSource("bundle.bin", 2 * kMiB + 5, 4);
  auto server = StartServer(/*support_range=*/false);
  server->CutNextResponse("/bundle.bin", kMiB);
  FetchOptions opts;
  opts.max_attempts = 3;
  auto size = FetchToFile(server->url() + "/bundle.bin", part_, opts);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, src.size());
  EXPECT_TRUE(Read(part_) == src) << "the 200 body must replace, not extend, the part file";
  auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].range_header, "bytes=" + std::to_string(kMiB) + "-");  // asked ...
  EXPECT_EQ(reqs[1].status, 200);                                          // ... but got all
  EXPECT_EQ(reqs[1].body_bytes_sent, src.size());
}

TEST_F(HttpFetchTest, AlreadyCompletePartIsSuccess) {
  std::string src = MakeSource("bundle.bin", kMiB, 5);
  ASSERT_TRUE(WriteFileAtomic(part_, src).ok());
  auto server = StartServer();
  std::string url = server->url() + "/bundle.bin";
  FetchOptions opts = OneAttempt();
  opts.expected_size = src.size();
  auto size = FetchToFile(url, part_, opts);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, src.size());
  // Without expected_size, the server's "Content-Range: bytes */SIZE" tells the same.
  auto again = FetchToFile(url, part_, OneAttempt());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.range_header, "bytes=" + std::to_string(src.size()) + "-");
    EXPECT_EQ(r.status, 416);
  }
  EXPECT_TRUE(Read(part_) == src);
}

TEST_F(HttpFetchTest, NotFound) {
  auto server = StartServer();
  std::string url = server->url() + "/missing.bin";
  auto r = FetchToFile(url, part_, FetchOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().reason(), "fetch.not_found");
  EXPECT_NE(r.status().message().find(url), std::string::npos) << r.status().ToString();
  EXPECT_EQ(server->requests().size(), 1u) << "404 must not be retried";
}

TEST_F(HttpFetchTest, ServerErrorNamesStatusAndIsRetried) {
  std::string src = MakeSource("bundle.bin", 1000, 6);
  auto server = StartServer();
  std::string url = server->url() + "/bundle.bin";
  server->ForceStatus("/bundle.bin", 500);
  FetchOptions opts;
  opts.max_attempts = 2;
  auto r = FetchToFile(url, part_, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "fetch.http_status");
  EXPECT_NE(r.status().message().find("500"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(url), std::string::npos) << r.status().ToString();
  EXPECT_EQ(server->requests().size(), 2u) << "5xx is retried";
  EXPECT_EQ(std::filesystem::file_size(part_), 0u) << "error bodies are not written";

  server->ForceStatus("/bundle.bin", 0);
  auto ok = FetchToFile(url, part_, OneAttempt());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(Read(part_) == src);
}

TEST_F(HttpFetchTest, ConnectionRefusedIsNetworkError) {
  int port = 0;
  {
    auto server = StartServer();
    port = server->port();
  }  // stopped: nothing listens on the port any more
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/bundle.bin";
  auto r = FetchToFile(url, part_, OneAttempt());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "fetch.network") << r.status().ToString();
  EXPECT_NE(r.status().message().find(url), std::string::npos) << r.status().ToString();
}

TEST_F(HttpFetchTest, BodyLargerThanExpectedIsRefused) {
  std::string src = MakeSource("bundle.bin", kMiB, 7);
  auto server = StartServer();
  FetchOptions opts = OneAttempt();
  opts.expected_size = src.size() - 1;
  auto r = FetchToFile(server->url() + "/bundle.bin", part_, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "fetch.too_large") << r.status().ToString();
  EXPECT_LE(std::filesystem::file_size(part_), opts.expected_size);
}

TEST_F(HttpFetchTest, ProgressIsMonotonicAndEndsAtTotal) {
  std::string src = MakeSource("bundle.bin", 3 * kMiB, 8);
  auto server = StartServer();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  FetchOptions opts;
  opts.on_progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };
  auto size = FetchToFile(server->url() + "/bundle.bin", part_, opts);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  ASSERT_FALSE(calls.empty());
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GE(calls[i].first, calls[i - 1].first);
  for (const auto& c : calls) {
    EXPECT_LE(c.first, src.size());
    EXPECT_TRUE(c.second == 0 || c.second == src.size()) << c.second;  // from Content-Length
  }
  EXPECT_EQ(calls.back(), std::make_pair(uint64_t{src.size()}, uint64_t{src.size()}));
}

TEST_F(HttpFetchTest, FileUrl) {
  std::string src = MakeSource("bundle.bin", kMiB + 3, 9);
  ASSERT_TRUE(WriteFileAtomic(part_, "stale bytes that are not a prefix").ok());
  std::string url = "file://" + root_ + "/bundle.bin";
  auto size = FetchToFile(url, part_, OneAttempt());
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, src.size());
  EXPECT_TRUE(Read(part_) == src) << "file:// restarts from 0";

  auto missing = FetchToFile("file://" + root_ + "/nope.bin", part_, OneAttempt());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "fetch.not_found") << missing.status().ToString();

  auto doc = FetchToString(url, 2 * kMiB);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_TRUE(*doc == src);
}

TEST_F(HttpFetchTest, UnsupportedSchemeIsRefused) {
  auto r = FetchToFile("ftp://example.com/x", part_, OneAttempt());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "fetch.bad_url");
}

TEST_F(HttpFetchTest, FetchToString) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/channel.json", R"({"version":"1.2.3"})").ok());
  MakeSource("big.bin", 2 * kMiB, 10);
  auto server = StartServer();
  auto doc = FetchToString(server->url() + "/channel.json", 1024);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, R"({"version":"1.2.3"})");

  auto small = FetchToString(server->url() + "/channel.json", 10);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().reason(), "fetch.too_large") << small.status().ToString();
  auto big = FetchToString(server->url() + "/big.bin", 64 * 1024);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().reason(), "fetch.too_large");
  auto missing = FetchToString(server->url() + "/nope.json", 1024);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "fetch.not_found");
}

// The test server's own path handling, seen through FetchToString.
TEST_F(HttpFetchTest, ServerPathHandling) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/sub/a b.txt", "spaced").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/secret.txt", "outside the root").ok());
  auto server = StartServer();
  auto decoded = FetchToString(server->url() + "/sub/a%20b.txt", 100);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, "spaced");
  // libcurl removes literal "/../", so escape the dots: the server must still refuse.
  auto escape = FetchToString(server->url() + "/%2e%2e/secret.txt", 100);
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.status().message().find("400"), std::string::npos) << escape.status().ToString();
  auto dir = FetchToString(server->url() + "/sub", 100);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("403"), std::string::npos) << dir.status().ToString();
}

TEST(FormatProgressTest, Table) {
  struct Case {
    uint64_t done, total;
    double rate;
    const char* want;
  };
  const Case cases[] = {
      {0, 0, 0, "  0 B  0 B/s"},
      {512, 0, 100, "  512 B  100 B/s"},
      {252 * kMiB, 600 * kMiB, 18.2 * kMiB, "  42%  252.0 MiB / 600.0 MiB  18.2 MiB/s"},
      {0, 600 * kMiB, 0, "   0%  0 B / 600.0 MiB  0 B/s"},
      {1, 3, 1, "  33%  1 B / 3 B  1 B/s"},
      {1023, 1024, 1024, "  99%  1023 B / 1.0 KiB  1.0 KiB/s"},
      {1024 * kMiB - 1, 1024 * kMiB, 0, "  99%  1.0 GiB / 1.0 GiB  0 B/s"},
      {1024 * kMiB, 1024 * kMiB, 0, " 100%  1.0 GiB / 1.0 GiB  0 B/s"},
      {5000, 4000, -3, " 100%  4.9 KiB / 3.9 KiB  0 B/s"},  // clamped; negative rate is 0
      {kMiB, 0, std::nan(""), "  1.0 MiB  0 B/s"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatProgress(c.done, c.total, c.rate), c.want)
        << c.done << " / " << c.total << " at " << c.rate;
  }
}

}  // namespace
}  // namespace hearth::deploy
