// Metrics registry and Prometheus text exposition (DESIGN §6, GET /metrics).
#include "server/support/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace hearth::server {
namespace {

// A small registry with every kind of metric, rendered byte for byte.
TEST(MetricsTest, ExposeGolden) {
  Registry reg;
  CounterFamily* requests = reg.AddCounterFamily(
      "hearth_requests_total", "HTTP requests by route and status code.", {"route", "code"});
  requests->WithLabels({"/v1/models", "200"})->Inc(2);
  requests->WithLabels({"/v1/chat/completions", "200"})->Inc(3);
  requests->WithLabels({"/v1/chat/completions", "429"})->Inc();
  Gauge* queue = reg.AddGauge("hearth_queue_depth", "Requests waiting for a slot.");
  queue->Set(4);
  queue->Add(-1.5);
  reg.AddCallbackGauge("hearth_rss_bytes", "Resident set size.", [] { return 123456789.0; });
  Histogram* ttft =
      reg.AddHistogram("hearth_ttft_seconds", "Time to first token.", {0.125, 0.5, 1});
  for (double v : {0.0625, 0.125, 0.75, 3.0}) ttft->Observe(v);

  EXPECT_EQ(reg.Expose(),
            "# HELP hearth_requests_total HTTP requests by route and status code.\n"
            "# TYPE hearth_requests_total counter\n"
            "hearth_requests_total{route=\"/v1/chat/completions\",code=\"200\"} 3\n"
            "hearth_requests_total{route=\"/v1/chat/completions\",code=\"429\"} 1\n"
            "hearth_requests_total{route=\"/v1/models\",code=\"200\"} 2\n"
            "# HELP hearth_queue_depth Requests waiting for a slot.\n"
            "# TYPE hearth_queue_depth gauge\n"
            "hearth_queue_depth 2.5\n"
            "# HELP hearth_rss_bytes Resident set size.\n"
            "# TYPE hearth_rss_bytes gauge\n"
            "hearth_rss_bytes 123456789\n"
            "# HELP hearth_ttft_seconds Time to first token.\n"
            "# TYPE hearth_ttft_seconds histogram\n"
            "hearth_ttft_seconds_bucket{le=\"0.125\"} 2\n"
            "hearth_ttft_seconds_bucket{le=\"0.5\"} 2\n"
            "hearth_ttft_seconds_bucket{le=\"1\"} 3\n"
            "hearth_ttft_seconds_bucket{le=\"+Inf\"} 4\n"
            "hearth_ttft_seconds_sum 3.9375\n"
            "hearth_ttft_seconds_count 4\n");
}

TEST(MetricsTest, HistogramLabelsComeBeforeLe) {
  Registry reg;
  reg.AddHistogram("e2e_seconds", "End to end.", {1}, {{"route", "/generate"}})->Observe(2);
  EXPECT_EQ(reg.Expose(),
            "# HELP e2e_seconds End to end.\n"
            "# TYPE e2e_seconds histogram\n"
            "e2e_seconds_bucket{route=\"/generate\",le=\"1\"} 0\n"
            "e2e_seconds_bucket{route=\"/generate\",le=\"+Inf\"} 1\n"
            "e2e_seconds_sum{route=\"/generate\"} 2\n"
            "e2e_seconds_count{route=\"/generate\"} 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain /v1 ünï"), "plain /v1 ünï");
  EXPECT_EQ(EscapeHelp("C:\\x \"q\"\nnext"), "C:\\\\x \"q\"\\nnext");  // quotes stay in HELP

  Registry reg;
  reg.AddCounter("odd_total", "Back\\slash\nnewline.", {{"path", "/a\"b\\c\nd"}})->Inc();
  EXPECT_EQ(reg.Expose(),
            "# HELP odd_total Back\\\\slash\\nnewline.\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"/a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, FormatsValuesLikePrometheus) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(-0.0), "0");
  EXPECT_EQ(FormatMetricValue(-2), "-2");
  EXPECT_EQ(FormatMetricValue(1e6), "1000000");  // no exponent for integers
  EXPECT_EQ(FormatMetricValue(123456789012345.0), "123456789012345");
  EXPECT_EQ(FormatMetricValue(0.005), "0.005");
  EXPECT_EQ(FormatMetricValue(2.5e-7), "2.5e-07");
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
  EXPECT_EQ(FormatMetricValue(0.1 + 0.2), "0.30000000000000004");  // exact round trip
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

// A value equal to a bound is counted in that bound's bucket (le = "less or equal").
TEST(MetricsTest, HistogramBucketEdges) {
  const std::vector<double>& bounds = LatencySecondsBuckets();
  Histogram h(bounds);
  for (double b : bounds) h.Observe(b);
  Histogram::Snapshot s = h.Read();
  ASSERT_EQ(s.cumulative.size(), bounds.size() + 1);
  for (size_t i = 0; i < bounds.size(); ++i) EXPECT_EQ(s.cumulative[i], i + 1) << bounds[i];
  EXPECT_EQ(s.cumulative.back(), bounds.size());

  Histogram g({1, 2});
  g.Observe(std::nextafter(1.0, 2.0));  // just above a bound: the next bucket
  g.Observe(-5);                        // below everything: the first bucket
  g.Observe(std::numeric_limits<double>::infinity());
  g.Observe(std::nan(""));  // ignored
  s = g.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(s.count, 3u);
}

TEST(MetricsTest, DefaultBuckets) {
  for (const std::vector<double>* b : {&LatencySecondsBuckets(), &TokenSecondsBuckets()}) {
    for (size_t i = 1; i < b->size(); ++i) EXPECT_LT((*b)[i - 1], (*b)[i]);
  }
  EXPECT_EQ(LatencySecondsBuckets().front(), 0.005);
  EXPECT_EQ(LatencySecondsBuckets().back(), 60);
  EXPECT_EQ(TokenSecondsBuckets().front(), 0.001);
  EXPECT_EQ(TokenSecondsBuckets().back(), 2);
}

TEST(MetricsTest, RegistrationIsIdempotent) {
  Registry reg;
  Counter* a = reg.AddCounter("x_total", "X.", {{"k", "v"}});
  Counter* b = reg.AddCounter("x_total", "X.", {{"k", "v"}});
  EXPECT_EQ(a, b);
  CounterFamily* f = reg.AddCounterFamily("x_total", "X.", {"k"});
  EXPECT_EQ(f->WithLabels({"v"}), a);
  EXPECT_NE(f->WithLabels({"w"}), a);
  // A family without series still announces itself.
  reg.AddGaugeFamily("idle", "Nothing yet.", {"slot"});
  EXPECT_NE(reg.Expose().find("# TYPE idle gauge\n"), std::string::npos);
  EXPECT_EQ(Registry().Expose(), "");
}

TEST(MetricsDeathTest, InvalidNamesAreBugs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry reg;
  EXPECT_DEATH(reg.AddCounter("9lives", "x"), "invalid metric name");
  EXPECT_DEATH(reg.AddCounter("ok", "x", {{"__reserved", "v"}}), "invalid label name");
  EXPECT_DEATH(reg.AddHistogram("h", "x", {1}, {{"le", "v"}}), "reserved");
  EXPECT_DEATH(reg.AddHistogram("h2", "x", {2, 1}), "increase");
  reg.AddCounter("dup", "x");
  EXPECT_DEATH(reg.AddGauge("dup", "x"), "registered twice");
  reg.AddHistogram("lat", "x", {1});
  EXPECT_DEATH(reg.AddCounter("lat_count", "x"), "clashes");
  reg.AddCounter("q_sum", "x");
  EXPECT_DEATH(reg.AddHistogram("q", "x", {1}), "clashes");
}

// Many threads update shared series while another scrapes: totals are exact.
TEST(MetricsTest, ConcurrentUpdatesAreExact) {
  Registry reg;
  CounterFamily* fam = reg.AddCounterFamily("hits_total", "Hits.", {"shard"});
  Counter* shared = reg.AddCounter("shared_total", "Shared.");
  Gauge* gauge = reg.AddGauge("level", "Level.");
  Histogram* hist = reg.AddHistogram("lat_seconds", "Latency.", TokenSecondsBuckets());
  constexpr int kThreads = 8, kIters = 50000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) (void)reg.Expose();
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      Counter* mine = fam->WithLabels({std::to_string(t % 2)});
      for (int i = 0; i < kIters; ++i) {
        shared->Inc();
        mine->Inc(2);
        gauge->Add(1);
        hist->Observe(0.001 * (i % 7));
      }
    });
  }
  for (std::thread& w : workers) w.join();
  done = true;
  scraper.join();
  EXPECT_EQ(shared->value(), uint64_t{kThreads} * kIters);
  EXPECT_EQ(fam->WithLabels({"0"})->value() + fam->WithLabels({"1"})->value(),
            uint64_t{2} * kThreads * kIters);
  EXPECT_EQ(gauge->value(), double{kThreads} * kIters);
  EXPECT_EQ(hist->Read().count, uint64_t{kThreads} * kIters);
}

// Every line is a comment (# HELP / # TYPE) or `name{labels} value` / `name value`.
TEST(MetricsTest, EveryLineParses) {
  Registry reg;
  reg.AddCounter("a_total", "A.", {{"route", "/v1/x\"y\\z\nw"}, {"code", "500"}})->Inc(7);
  reg.AddGauge("b:ratio", "B.")->Set(-0.25);
  reg.AddGauge("c", "C.")->Set(std::numeric_limits<double>::infinity());
  reg.AddGauge("d", "D.")->Set(std::nan(""));
  reg.AddGauge("e", "E.")->Set(1e300);
  reg.AddHistogram("f_seconds", "F.", LatencySecondsBuckets(), {{"m", "tiny"}})->Observe(0.3);
  reg.AddHistogram("g_seconds", "G.", TokenSecondsBuckets())->Observe(7e-5);

  const std::string label = R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
  const std::regex sample("[a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{" + label + "(?:," + label +
                          ")*\\})? (?:[-+]?[0-9]+(?:\\.[0-9]+)?(?:e[-+][0-9]+)?|[-+]Inf|NaN)");
  const std::regex comment(
      "# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* "
      "(?:counter|gauge|histogram))");
  const std::string text = reg.Expose();
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  const std::string body = text.substr(0, text.size() - 1);  // StrSplit returns views into it
  size_t samples = 0;
  for (std::string_view line : StrSplit(body, '\n')) {
    const std::string l(line);
    if (l.starts_with("#")) {
      EXPECT_TRUE(std::regex_match(l, comment)) << l;
    } else {
      EXPECT_TRUE(std::regex_match(l, sample)) << l;
      ++samples;
    }
  }
  // 1 + 4 gauges + (14 + 1 + 2) + (11 + 1 + 2) histogram lines.
  EXPECT_EQ(samples, 1u + 4u + 17u + 14u);
}

}  // namespace
}  // namespace hearth::server
