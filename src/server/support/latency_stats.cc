#include "server/support/latency_stats.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace hearth::server {

double NearestRankPercentile(std::span<const double> sorted, double q) {
  HEARTH_CHECK(!sorted.empty(), "percentile of an empty window");
  const size_t n = sorted.size();
  // q·n is exact for the integer q and n we use, so the division by 100 is the
  // only rounding and ceil() sees an exact integer whenever q·n is one.
  const double r = std::ceil(q * static_cast<double>(n) / 100.0);
  size_t rank = 1;
  if (r >= static_cast<double>(n)) {
    rank = n;
  } else if (r > 1) {
    rank = static_cast<size_t>(r);
  }
  return sorted[rank - 1];
}

json::Value SummaryToJson(const SeriesSummary& s) {
  return json::Value(json::Value::Object{{"count", s.count},
                                         {"min", s.min},
                                         {"max", s.max},
                                         {"mean", s.mean},
                                         {"p50", s.p50},
                                         {"p90", s.p90},
                                         {"p95", s.p95},
                                         {"p99", s.p99}});
}

RollingWindow::RollingWindow(size_t capacity) : capacity_(capacity) {
  HEARTH_CHECK(capacity >= 1, "rolling window needs a capacity of at least 1");
  ring_.reserve(capacity);
}

bool RollingWindow::Add(double v) {
  if (!std::isfinite(v)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (ring_.size() < capacity_) {
    ring_.push_back(v);
  } else {
    ring_[next_] = v;  // evicts the oldest sample
    next_ = next_ + 1 == capacity_ ? 0 : next_ + 1;
  }
  return true;
}

size_t RollingWindow::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.size();
}

std::vector<double> RollingWindow::Values() const {
  std::vector<double> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(ring_.size());
  // Before the ring is full next_ is 0, so this is simply ring_ in order.
  out.insert(out.end(), ring_.begin() + static_cast<std::ptrdiff_t>(next_), ring_.end());
  out.insert(out.end(), ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(next_));
  return out;
}

std::optional<SeriesSummary> RollingWindow::Summarize() const {
  std::vector<double> v = Values();  // the copy is taken under the lock, the sort is not
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  SeriesSummary s;
  s.count = v.size();
  s.min = v.front();
  s.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  s.p50 = NearestRankPercentile(v, 50);
  s.p90 = NearestRankPercentile(v, 90);
  s.p95 = NearestRankPercentile(v, 95);
  s.p99 = NearestRankPercentile(v, 99);
  return s;
}

LatencyStats::LatencyStats(size_t window)
    : LatencyStats(
          {std::string(kTtft), std::string(kTpot), std::string(kE2e), std::string(kDecodeTps)},
          window) {}

LatencyStats::LatencyStats(std::vector<std::string> series, size_t window) : window_(window) {
  for (std::string& name : series) {
    HEARTH_CHECK(!name.empty() && name != "samples" && name != "failures" && name != "rejected" &&
                     name != "window",
                 "invalid latency series name '%s'", name.c_str());
    for (const Named& other : series_)
      HEARTH_CHECK(other.name != name, "latency series '%s' declared twice", name.c_str());
    series_.push_back(Named{std::move(name), std::make_unique<RollingWindow>(window)});
  }
}

RollingWindow* LatencyStats::Find(std::string_view series) const {
  for (const Named& s : series_)
    if (s.name == series) return s.window.get();
  return nullptr;
}

void LatencyStats::Add(std::string_view series, double value) {
  RollingWindow* w = Find(series);
  HEARTH_CHECK(w != nullptr, "unknown latency series '%.*s'", static_cast<int>(series.size()),
               series.data());
  if (!w->Add(value)) rejected_.fetch_add(1, std::memory_order_relaxed);
}

void LatencyStats::RecordRequest(const RequestTiming& t) {
  if (t.n_tokens <= 0) {
    RecordFailure();
    return;
  }
  const bool finite =
      std::isfinite(t.first_token_s) && std::isfinite(t.last_token_s) && std::isfinite(t.end_s);
  if (!finite || t.first_token_s < 0 || t.last_token_s < t.first_token_s ||
      t.end_s < t.first_token_s) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto add = [this](std::string_view name, double v) {
    if (RollingWindow* w = Find(name)) w->Add(v);
  };
  add(kTtft, t.first_token_s);
  add(kE2e, t.end_s);
  if (t.n_tokens >= 2) {
    const double decode_s = t.last_token_s - t.first_token_s;
    const double intervals = static_cast<double>(t.n_tokens - 1);
    add(kTpot, decode_s / intervals);
    add(kDecodeTps, decode_s > 0 ? intervals / decode_s : 0.0);
  }
  samples_.fetch_add(1, std::memory_order_relaxed);
}

std::optional<SeriesSummary> LatencyStats::Summary(std::string_view series) const {
  const RollingWindow* w = Find(series);
  HEARTH_CHECK(w != nullptr, "unknown latency series '%.*s'", static_cast<int>(series.size()),
               series.data());
  return w->Summarize();
}

json::Value LatencyStats::Snapshot() const {
  json::Value out(json::Value::Object{});
  out.Set("samples", samples());
  out.Set("failures", failures());
  out.Set("rejected", rejected());
  out.Set("window", window_);
  for (const Named& s : series_) {
    std::optional<SeriesSummary> summary = s.window->Summarize();
    out.Set(s.name, summary ? SummaryToJson(*summary) : json::Value());
  }
  return out;
}

}  // namespace hearth::server
