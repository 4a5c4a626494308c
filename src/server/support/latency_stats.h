// Rolling-window latency percentiles for GET /v1/stats (DESIGN §6, book 12.4).
//
// Each named series (TTFT, TPOT, e2e, decode TPS, or anything else) keeps the
// last `window` samples (default 5000; the oldest is evicted first) and
// reports count, min, max, mean and p50/p90/p95/p99 of what is in the window.
//
// Percentile method: nearest rank on the sorted window. For n samples and
// quantile q (in percent), rank = ceil(q/100 · n), clamped to [1, n], and the
// percentile is the rank-th smallest sample (1-based). It always returns a
// value that was observed, never interpolates, and needs no rounding rule:
// 1..100 gives p50=50, p90=90, p95=95, p99=99; 1..4 gives p50=2. The book's
// idx = round((q/100)(n−1)) depends on Python's round-half-to-even (ambiguity
// 19): std::round rounds halves away from zero, so a C++ port of it differs
// on some even-length windows (1..6: p50 = 3 with Python, 4 with std::round),
// and even Python's answer is off-centre (1..100: p50 = 51). We do not use it.
//
// Thread safety: every method may be called from any thread. Recording is
// O(1) under a per-series mutex held for a few nanoseconds; Snapshot copies
// each window under that mutex and sorts outside it, so a scrape never stalls
// the decode loop for longer than one copy of 5000 doubles.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"

namespace hearth::server {

// The quantile q (percent, in (0, 100]) of an ascending, non-empty `sorted`
// by nearest rank: sorted[clamp(ceil(q/100 · n), 1, n) − 1].
double NearestRankPercentile(std::span<const double> sorted, double q);

struct SeriesSummary {
  size_t count = 0;
  double min = 0, max = 0, mean = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0;
};

// {"count":…, "min":…, "max":…, "mean":…, "p50":…, "p90":…, "p95":…, "p99":…}
json::Value SummaryToJson(const SeriesSummary& s);

// One bounded ring buffer of doubles.
class RollingWindow {
 public:
  explicit RollingWindow(size_t capacity);  // capacity >= 1
  // Non-finite values are dropped (returns false): they would break sorting
  // and the mean, and only come from a caller's bug.
  bool Add(double v);
  size_t size() const;
  size_t capacity() const { return capacity_; }
  // The window's contents, oldest first.
  std::vector<double> Values() const;
  // nullopt when empty.
  std::optional<SeriesSummary> Summarize() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<double> ring_;  // grows to capacity_, then overwritten at next_
  size_t next_ = 0;           // slot of the next write once full (= the oldest sample)
};

// What one finished request contributes. Times are seconds on a monotonic
// clock (std::chrono::steady_clock), measured from the moment the request was
// accepted; a steady clock cannot go backwards, so durations are never
// negative (negative or non-finite inputs are rejected, see RecordRequest).
struct RequestTiming {
  int64_t n_tokens = 0;      // generated tokens; 0 = failed before the first token
  double first_token_s = 0;  // request start → first generated token (TTFT)
  double last_token_s = 0;   // request start → last emitted token
  double end_s = 0;          // request start → end of generation or cancellation (e2e)
};

class LatencyStats {
 public:
  static constexpr size_t kDefaultWindow = 5000;
  // Series filled by RecordRequest (they are the keys of Snapshot()).
  static constexpr std::string_view kTtft = "ttft_s";
  static constexpr std::string_view kTpot = "tpot_s";
  static constexpr std::string_view kE2e = "e2e_s";
  static constexpr std::string_view kDecodeTps = "decode_tps";

  // Series kTtft, kTpot, kE2e and kDecodeTps.
  explicit LatencyStats(size_t window = kDefaultWindow);
  // Any series names (unique, non-empty, not "samples"/"failures"/"rejected"/"window").
  LatencyStats(std::vector<std::string> series, size_t window);

  // Adds a sample to a series; an unknown name is a bug (aborts). Non-finite
  // values are dropped and counted in rejected().
  void Add(std::string_view series, double value);

  // Records one request (ambiguity 20):
  //   n_tokens == 0: no sample at all; failures() += 1 (book R12.4-4).
  //   TTFT  = first_token_s                                   (n_tokens >= 1)
  //   TPOT  = (last_token_s − first_token_s) / (n_tokens − 1)  (n_tokens >= 2)
  //   decode TPS = (n_tokens − 1) / (last_token_s − first_token_s) (n_tokens >= 2;
  //         0.0 when that duration is 0, as the book specifies)
  //   e2e   = end_s                                           (n_tokens >= 1)
  // The first token is excluded from TPOT/TPS because their interval starts
  // at it. Series this instance lacks are skipped. Timings that are
  // non-finite, negative or out of order (last < first, end < first) add no
  // sample and count in rejected(). Otherwise samples() += 1.
  void RecordRequest(const RequestTiming& t);
  // A request that emitted no token (same as RecordRequest with n_tokens 0).
  void RecordFailure() { failures_.fetch_add(1, std::memory_order_relaxed); }

  uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  // Summary of one series; nullopt when empty. Unknown names abort.
  std::optional<SeriesSummary> Summary(std::string_view series) const;

  // {"samples": requests recorded since start, "failures": …, "rejected": …,
  //  "window": capacity, "<series>": SummaryToJson(…) or null when empty, …}
  // with the series in construction order.
  json::Value Snapshot() const;

 private:
  RollingWindow* Find(std::string_view series) const;

  struct Named {
    std::string name;
    std::unique_ptr<RollingWindow> window;
  };
  std::vector<Named> series_;  // fixed after construction: lookups need no lock
  const size_t window_;
  std::atomic<uint64_t> samples_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace hearth::server
