// Soak (ctest label "slow"): 4 clients x 500 mixed requests, with cancels, for
// a few minutes at most: no 5xx, no growth in memory or open descriptors.
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/sysinfo.h"
#include "server_fixture.h"

namespace hearth::server::testing {
namespace {

int OpenFds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

TEST(ServerSoakTest, ManyMixedRequestsLeaveNothingBehind) {
  ServeOptions o = TestOptions(FastModel());
  o.parallel = 4;
  std::unique_ptr<Server> s = StartServer(o);
  const int port = s->port();
  std::atomic<int> bad{0}, done{0};
  auto client = [&](int c, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string seed = "\"seed\":" + std::to_string(c * 100000 + i);
      HttpResult r;
      switch ((c + i) % 6) {
        case 0:
          r = Request(port, "POST", "/v1/chat/completions",
                      ChatBody("q" + std::to_string(i), 24, false, seed));
          break;
        case 1:
          r = Request(port, "POST", "/v1/chat/completions",
                      ChatBody("s" + std::to_string(i), 24, true, seed));
          if (r.status == 200 && !ParseSse(r.body).done) r.status = 599;
          break;
        case 2:
          r = Request(port, "POST", "/v1/completions",
                      "{\"prompt\":\"p\",\"max_tokens\":16," + seed + "}");
          break;
        case 3: {  // a client that leaves mid-stream
          StreamConn conn(port);
          conn.Send("POST", "/generate",
                    "{\"prompt\":\"g\",\"max_new_tokens\":400,\"stream\":true," + seed + "}");
          conn.ReadHead();
          conn.ReadSome(2000);
          conn.Close();
          r.status = 200;
          break;
        }
        case 4:
          r = Request(port, "GET", "/metrics");
          break;
        default:
          r = Request(port, "POST", "/v1/completions", R"({"prompt":"x","top_p":0})");
          r.status = r.status == 400 ? 200 : r.status;
      }
      if (r.status != 200) bad.fetch_add(1);
      done.fetch_add(1);
    }
  };
  client(0, 30);  // warm-up
  const uint64_t rss_before = ProcessRss()->current_bytes;
  const int fds_before = OpenFds();
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c) threads.emplace_back(client, c, 500);
  for (auto& t : threads) t.join();
  // Cancelled sequences finish within a step; wait for the slots to drain.
  for (int i = 0; i < 500 && MetricValue(Request(port, "GET", "/metrics").body,
                                         "hearth_active_sequences") != 0;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(done.load(), 2030);
  const uint64_t rss_after = ProcessRss()->current_bytes;
  // Only growth is a leak; the resident set may fall (reclaimed file pages,
  // memory an allocator returns), so the bound is one-sided.
  EXPECT_LE(static_cast<double>(rss_after), 1.05 * static_cast<double>(rss_before))
      << "RSS before " << rss_before << " after " << rss_after;
  EXPECT_LE(OpenFds(), fds_before + 2);
}

}  // namespace
}  // namespace hearth::server::testing
