// Token buckets on an injected monotonic clock.
#include "server/support/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace hearth::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A clock the test moves by hand; reads are thread-safe.
struct FakeClock {
  std::atomic<int64_t> ns{1'000'000'000};
  void Advance(milliseconds d) { ns += std::chrono::nanoseconds(d).count(); }
  RateLimiter::Clock Fn() {
    return [this] { return steady_clock::time_point(std::chrono::nanoseconds(ns.load())); };
  }
};

RateLimitConfig ClientOnly(double rate, double burst) {
  RateLimitConfig c;
  c.client_rate = rate;
  c.client_burst = burst;
  return c;
}

TEST(RateLimitTest, BurstThenRefillAtTheExactRate) {
  FakeClock clock;
  RateLimiter rl(ClientOnly(/*rate=*/2, /*burst=*/5), clock.Fn());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl.Check("a").allowed) << i;
  RateDecision d = rl.Check("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.scope, "client");
  EXPECT_NEAR(d.retry_after_s, 0.5, 1e-9);
  EXPECT_EQ(d.RetryAfterHeaderSeconds(), 1);
  clock.Advance(milliseconds(499));
  d = rl.Check("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.retry_after_s, 0.001, 1e-6);
  clock.Advance(milliseconds(1));  // 0.5 s at 2/s: exactly one token
  EXPECT_TRUE(rl.Check("a").allowed);
  EXPECT_FALSE(rl.Check("a").allowed);
  // A long pause refills to the burst, not beyond.
  clock.Advance(milliseconds(60'000));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl.Check("a").allowed) << i;
  EXPECT_FALSE(rl.Check("a").allowed);
}

TEST(RateLimitTest, SustainedThroughputIsBurstPlusRateTimesTime) {
  FakeClock clock;
  RateLimiter rl(ClientOnly(/*rate=*/10, /*burst=*/3), clock.Fn());
  int allowed = 0;
  // 100 simulated seconds, a request every millisecond.
  for (int ms = 0; ms < 100'000; ++ms) {
    allowed += rl.Check("a").allowed ? 1 : 0;
    clock.Advance(milliseconds(1));
  }
  // Requests at t = 0 .. 99.999 s: the burst plus one token per 100 ms.
  EXPECT_EQ(allowed, 3 + 999);
}

TEST(RateLimitTest, ClientsAreIsolated) {
  FakeClock clock;
  RateLimiter rl(ClientOnly(1, 2), clock.Fn());
  EXPECT_TRUE(rl.Check("key:a").allowed);
  EXPECT_TRUE(rl.Check("key:a").allowed);
  EXPECT_FALSE(rl.Check("key:a").allowed);
  EXPECT_TRUE(rl.Check("key:b").allowed);
  EXPECT_TRUE(rl.Check("key:b").allowed);
  EXPECT_FALSE(rl.Check("key:b").allowed);
  EXPECT_TRUE(rl.Check("ip:127.0.0.1").allowed);
  EXPECT_EQ(rl.tracked_clients(), 3u);
}

TEST(RateLimitTest, GlobalBucketLimitsTheSum) {
  FakeClock clock;
  RateLimitConfig c;
  c.client_rate = 100;
  c.client_burst = 100;
  c.global_rate = 1;
  c.global_burst = 3;
  RateLimiter rl(c, clock.Fn());
  EXPECT_TRUE(rl.Check("a").allowed);
  EXPECT_TRUE(rl.Check("b").allowed);
  EXPECT_TRUE(rl.Check("c").allowed);
  RateDecision d = rl.Check("d");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.scope, "global");
  EXPECT_NEAR(d.retry_after_s, 1.0, 1e-9);
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(rl.Check("d").allowed);
  EXPECT_FALSE(rl.Check("a").allowed);
}

TEST(RateLimitTest, GlobalOnlyAndDisabled) {
  FakeClock clock;
  RateLimitConfig c;
  c.global_rate = 1;  // burst defaults to max(1, rate) = 1
  RateLimiter global(c, clock.Fn());
  EXPECT_TRUE(global.enabled());
  EXPECT_TRUE(global.Check("a").allowed);
  EXPECT_EQ(global.Check("b").scope, "global");
  EXPECT_EQ(global.tracked_clients(), 0u);  // no per-client state without a client rate

  RateLimiter off(RateLimitConfig{}, clock.Fn());
  EXPECT_FALSE(off.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(off.Check("a").allowed);
  EXPECT_EQ(off.tracked_clients(), 0u);
}

TEST(RateLimitTest, RefusedRequestsTakeNoTokens) {
  FakeClock clock;
  RateLimitConfig c;
  c.client_rate = 0.001;  // effectively no refill during the test
  c.client_burst = 2;
  c.global_rate = 1;
  c.global_burst = 1;
  RateLimiter rl(c, clock.Fn());
  EXPECT_TRUE(rl.Check("a").allowed);  // client: 1 left; global: 0
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rl.Check("a").scope, "global");
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(rl.Check("a").allowed);  // the client's second token survived the refusals
  clock.Advance(milliseconds(1000));
  EXPECT_EQ(rl.Check("a").scope, "client");
}

TEST(RateLimitTest, BoundedClientMapEvictsIdleThenLeastRecentlyUsed) {
  FakeClock clock;
  RateLimitConfig c = ClientOnly(1, 2);
  c.max_clients = 3;
  RateLimiter rl(c, clock.Fn());
  // a is drained, b and c are partly used: none is idle.
  EXPECT_TRUE(rl.Check("a").allowed);
  EXPECT_TRUE(rl.Check("b").allowed);
  EXPECT_TRUE(rl.Check("c").allowed);
  EXPECT_TRUE(rl.Check("a").allowed);  // a becomes the most recently used
  EXPECT_FALSE(rl.Check("a").allowed);
  EXPECT_TRUE(rl.Check("d").allowed);  // full map: evicts b, the least recently used
  EXPECT_EQ(rl.tracked_clients(), 3u);
  EXPECT_FALSE(rl.Check("a").allowed);  // a kept its (empty) bucket
  // After the refill time (burst / rate = 2 s) every bucket is full, i.e.
  // idle, and is dropped as soon as anyone is checked.
  clock.Advance(milliseconds(2000));
  EXPECT_TRUE(rl.Check("e").allowed);
  EXPECT_EQ(rl.tracked_clients(), 1u);
}

TEST(RateLimitTest, ClockThatStandsStillOrStepsBackGivesNoTokens) {
  FakeClock clock;
  RateLimiter rl(ClientOnly(1, 1), clock.Fn());
  EXPECT_TRUE(rl.Check("a").allowed);
  EXPECT_FALSE(rl.Check("a").allowed);
  clock.Advance(milliseconds(-5000));  // not steady_clock behaviour; must stay sane
  EXPECT_FALSE(rl.Check("a").allowed);
  clock.Advance(milliseconds(5000));  // back to where it was: still nothing earned
  RateDecision d = rl.Check("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_GT(d.retry_after_s, 0);
  EXPECT_LE(d.retry_after_s, 1.0);
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(rl.Check("a").allowed);
}

TEST(RateLimitTest, HelperValues) {
  EXPECT_EQ(RateLimiter::ClientKey("k_user_1", "10.0.0.1"), "key:k_user_1");
  EXPECT_EQ(RateLimiter::ClientKey("", "10.0.0.1"), "ip:10.0.0.1");
  RateDecision d;
  for (auto [s, want] : std::vector<std::pair<double, int64_t>>{
           {0.0, 1}, {0.2, 1}, {1.0, 1}, {1.0000001, 2}, {2.5, 3}}) {
    d.retry_after_s = s;
    EXPECT_EQ(d.RetryAfterHeaderSeconds(), want) << s;
  }
}

// Several threads on shared buckets with a frozen clock: the totals must be
// exact, which they are not if Check races (and ASan/UBSan builds watch the
// memory while it runs).
TEST(RateLimitTest, HammerFromManyThreadsIsExact) {
  FakeClock clock;
  for (double global_rate : {0.0, 1.0}) {
    RateLimitConfig c;
    c.client_rate = 1;
    c.client_burst = 100;
    c.global_rate = global_rate;
    c.global_burst = 500;
    c.max_clients = 64;
    RateLimiter rl(c, clock.Fn());
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&rl, &allowed, t]() {
        for (int i = 0; i < 2000; ++i) {
          std::string client = "c" + std::to_string((i + t) % 8);
          if (rl.Check(client).allowed) ++allowed;
        }
      });
    }
    for (std::thread& th : threads) th.join();
    // 8 clients x 1000 requests each; 100 each from their buckets = 800, capped
    // by the global burst of 500 when the global bucket is on.
    EXPECT_EQ(allowed.load(), global_rate > 0 ? 500 : 800);
    EXPECT_EQ(rl.tracked_clients(), 8u);
  }
}

TEST(RateLimitTest, HammerWithAMovingClockAndEviction) {
  FakeClock clock;
  RateLimitConfig c = ClientOnly(1000, 10);
  c.max_clients = 16;
  RateLimiter rl(c, clock.Fn());
  std::atomic<bool> stop{false};
  std::thread ticker([&]() {
    while (!stop) {
      clock.Advance(milliseconds(1));
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> threads;
  std::atomic<int> allowed{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&rl, &allowed, t]() {
      for (int i = 0; i < 3000; ++i) {
        if (rl.Check("c" + std::to_string((i * 7 + t) % 40)).allowed) ++allowed;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  stop = true;
  ticker.join();
  EXPECT_LE(rl.tracked_clients(), 16u);
  EXPECT_GT(allowed.load(), 0);
}

}  // namespace
}  // namespace hearth::server
