// Rolling-window latency percentiles (book 12.4, ambiguities 13, 19, 20).
#include "server/support/latency_stats.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

namespace hearth::server {
namespace {

std::vector<double> Range(int lo, int hi) {
  std::vector<double> v;
  for (int i = lo; i <= hi; ++i) v.push_back(i);
  return v;
}

// T12.4-a with the method we chose: nearest rank, rank = ceil(q/100 · n).
TEST(LatencyStatsTest, NearestRankOneToHundred) {
  const std::vector<double> v = Range(1, 100);
  EXPECT_EQ(NearestRankPercentile(v, 50), 50);
  EXPECT_EQ(NearestRankPercentile(v, 90), 90);
  EXPECT_EQ(NearestRankPercentile(v, 95), 95);
  EXPECT_EQ(NearestRankPercentile(v, 99), 99);
  EXPECT_EQ(NearestRankPercentile(v, 100), 100);
  EXPECT_EQ(NearestRankPercentile(v, 0.5), 1);  // rank clamps to 1
  EXPECT_EQ(NearestRankPercentile(v, 0), 1);
}

// Even-length windows, where round-half rules would matter (ambiguity 19).
TEST(LatencyStatsTest, NearestRankEvenLengths) {
  EXPECT_EQ(NearestRankPercentile(Range(1, 4), 50), 2);
  EXPECT_EQ(NearestRankPercentile(Range(1, 4), 90), 4);
  EXPECT_EQ(NearestRankPercentile(Range(1, 2), 50), 1);
  EXPECT_EQ(NearestRankPercentile(Range(1, 6), 50), 3);  // Python's round gives 3, std::round 4
  EXPECT_EQ(NearestRankPercentile(Range(1, 10), 95), 10);
  EXPECT_EQ(NearestRankPercentile(Range(1, 1000), 99), 990);
  const std::vector<double> one = {7.5};
  for (double q : {50.0, 90.0, 95.0, 99.0}) EXPECT_EQ(NearestRankPercentile(one, q), 7.5);
}

TEST(LatencyStatsTest, SummaryOfOneToHundred) {
  RollingWindow w(5000);
  for (int i = 100; i >= 1; --i) w.Add(i);  // order of arrival does not matter
  std::optional<SeriesSummary> s = w.Summarize();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->count, 100u);
  EXPECT_EQ(s->min, 1);
  EXPECT_EQ(s->max, 100);
  EXPECT_EQ(s->mean, 50.5);
  EXPECT_EQ(s->p50, 50);
  EXPECT_EQ(s->p90, 90);
  EXPECT_EQ(s->p95, 95);
  EXPECT_EQ(s->p99, 99);
}

// T12.4-b: in a window of 5000, sample 5001 evicts sample 1.
TEST(LatencyStatsTest, OldestIsEvictedFirst) {
  RollingWindow w(LatencyStats::kDefaultWindow);
  for (int i = 1; i <= 5000; ++i) w.Add(i);
  EXPECT_EQ(w.Summarize()->min, 1);
  w.Add(5001);
  EXPECT_EQ(w.size(), 5000u);
  std::optional<SeriesSummary> s = w.Summarize();
  EXPECT_EQ(s->min, 2);
  EXPECT_EQ(s->max, 5001);
  EXPECT_EQ(s->count, 5000u);
  std::vector<double> values = w.Values();
  EXPECT_EQ(values.front(), 2);  // oldest first
  EXPECT_EQ(values.back(), 5001);
  // A full second lap leaves exactly the last 5000.
  for (int i = 5002; i <= 10001; ++i) w.Add(i);
  EXPECT_EQ(w.Summarize()->min, 5002);
  EXPECT_FALSE(w.Add(std::nan("")));
  EXPECT_EQ(w.size(), 5000u);
}

TEST(LatencyStatsTest, EmptySeriesAreNull) {
  LatencyStats stats;
  EXPECT_EQ(json::Serialize(stats.Snapshot()),
            R"({"samples":0,"failures":0,"rejected":0,"window":5000,)"
            R"("ttft_s":null,"tpot_s":null,"e2e_s":null,"decode_tps":null})");
  EXPECT_FALSE(stats.Summary(LatencyStats::kTtft).has_value());
}

// TPOT = (t_last − t_first)/(n − 1), decode TPS = (n − 1)/(t_last − t_first) (ambiguity 20).
TEST(LatencyStatsTest, RecordRequestDerivesSeries) {
  LatencyStats stats;
  stats.RecordRequest({.n_tokens = 5, .first_token_s = 0.5, .last_token_s = 1.5, .end_s = 1.75});
  EXPECT_EQ(stats.Summary(LatencyStats::kTtft)->p50, 0.5);
  EXPECT_EQ(stats.Summary(LatencyStats::kTpot)->p50, 0.25);
  EXPECT_EQ(stats.Summary(LatencyStats::kDecodeTps)->p50, 4);
  EXPECT_EQ(stats.Summary(LatencyStats::kE2e)->p50, 1.75);

  // One token: TTFT and e2e only, no inter-token interval exists.
  stats.RecordRequest({.n_tokens = 1, .first_token_s = 0.25, .last_token_s = 0.25, .end_s = 0.5});
  EXPECT_EQ(stats.Summary(LatencyStats::kTtft)->count, 2u);
  EXPECT_EQ(stats.Summary(LatencyStats::kTpot)->count, 1u);
  // Zero decode duration: TPOT 0 and TPS 0.0, as the book specifies.
  stats.RecordRequest({.n_tokens = 3, .first_token_s = 1, .last_token_s = 1, .end_s = 1});
  EXPECT_EQ(stats.Summary(LatencyStats::kTpot)->min, 0);
  EXPECT_EQ(stats.Summary(LatencyStats::kDecodeTps)->min, 0);
  EXPECT_EQ(stats.samples(), 3u);
  EXPECT_EQ(stats.failures(), 0u);
}

// T12.4-c: a request with no token leaves TTFT unchanged and counts a failure.
TEST(LatencyStatsTest, NoTokenIsAFailure) {
  LatencyStats stats;
  stats.RecordRequest({.n_tokens = 2, .first_token_s = 0.5, .last_token_s = 1, .end_s = 1});
  stats.RecordRequest({.n_tokens = 0, .first_token_s = 0, .last_token_s = 0, .end_s = 3});
  stats.RecordFailure();
  EXPECT_EQ(stats.Summary(LatencyStats::kTtft)->count, 1u);
  EXPECT_EQ(stats.Summary(LatencyStats::kE2e)->max, 1);
  EXPECT_EQ(stats.failures(), 2u);
  EXPECT_EQ(stats.samples(), 1u);
}

// Durations come from a monotonic clock; anything negative or out of order
// is a caller bug and adds nothing (T12.4-e's concern, made impossible).
TEST(LatencyStatsTest, InvalidTimingsAreRejected) {
  LatencyStats stats;
  stats.RecordRequest({.n_tokens = 3, .first_token_s = 2, .last_token_s = 1, .end_s = 3});
  stats.RecordRequest({.n_tokens = 3, .first_token_s = -1, .last_token_s = 1, .end_s = 3});
  stats.RecordRequest({.n_tokens = 3, .first_token_s = 1, .last_token_s = 2, .end_s = 0.5});
  stats.RecordRequest({.n_tokens = 3, .first_token_s = 1, .last_token_s = NAN, .end_s = 3});
  stats.Add(LatencyStats::kE2e, INFINITY);
  EXPECT_EQ(stats.rejected(), 5u);
  EXPECT_EQ(stats.samples(), 0u);
  EXPECT_FALSE(stats.Summary(LatencyStats::kE2e).has_value());
}

TEST(LatencyStatsTest, GenericSeriesSnapshot) {
  LatencyStats stats({"queue_s", "prefill_s"}, 3);
  for (double v : {4.0, 1.0, 2.0, 3.0}) stats.Add("queue_s", v);  // 4 is evicted
  EXPECT_EQ(json::Serialize(stats.Snapshot()),
            R"({"samples":0,"failures":0,"rejected":0,"window":3,)"
            R"("queue_s":{"count":3,"min":1,"max":3,"mean":2,"p50":2,"p90":3,"p95":3,"p99":3},)"
            R"("prefill_s":null})");
}

TEST(LatencyStatsDeathTest, UnknownSeriesIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  LatencyStats stats;
  EXPECT_DEATH(stats.Add("nope", 1), "unknown latency series");
  EXPECT_DEATH(LatencyStats({"a", "a"}, 10), "declared twice");
}

// T12.4-d: concurrent recording and snapshots (run under ASan/UBSan; the
// mutex-per-series design has no unsynchronized shared state to race on).
TEST(LatencyStatsTest, ConcurrentRecordAndSnapshot) {
  LatencyStats stats(1000);
  constexpr int kWriters = 8, kPerWriter = 20000;
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&stats, &finished, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        const double first = 0.001 * (1 + (i + t) % 50);
        if (i % 10 == 9) {
          stats.RecordRequest({.n_tokens = 0});
        } else {
          stats.RecordRequest({.n_tokens = 1 + i % 8,
                               .first_token_s = first,
                               .last_token_s = first + 0.01 * (i % 8),
                               .end_s = first + 0.02 * (i % 8)});
        }
      }
      finished.fetch_add(1);
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&stats, &finished] {
      while (finished.load() < kWriters) {
        json::Value snap = stats.Snapshot();
        const json::Value* ttft = snap.Find("ttft_s");
        if (ttft != nullptr && !ttft->is_null()) {
          // Percentiles are ordered and within [min, max] in every snapshot.
          const double p50 = ttft->Find("p50")->as_double();
          const double p99 = ttft->Find("p99")->as_double();
          EXPECT_LE(ttft->Find("min")->as_double(), p50);
          EXPECT_LE(p50, p99);
          EXPECT_LE(p99, ttft->Find("max")->as_double());
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const uint64_t total = uint64_t{kWriters} * kPerWriter;
  EXPECT_EQ(stats.failures(), total / 10);
  EXPECT_EQ(stats.samples(), total - total / 10);
  EXPECT_EQ(stats.rejected(), 0u);
  EXPECT_EQ(stats.Summary(LatencyStats::kTtft)->count, 1000u);
  EXPECT_GE(stats.Summary(LatencyStats::kTtft)->min, 0.001);
  EXPECT_LE(stats.Summary(LatencyStats::kTtft)->max, 0.05 + 1e-12);
}

}  // namespace
}  // namespace hearth::server
