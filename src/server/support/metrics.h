// Metrics registry for GET /metrics (DESIGN §6): counters, gauges and
// histograms rendered in the Prometheus text exposition format 0.0.4.
//
//   Registry reg;
//   auto* requests = reg.AddCounterFamily("hearth_requests_total", "HTTP requests.",
//                                         {"route", "code"});
//   Counter* ok = requests->WithLabels({"/v1/chat/completions", "200"});  // keep this
//   ok->Inc();                                                             // one atomic add
//   Histogram* ttft = reg.AddHistogram("hearth_ttft_seconds", "Time to first token.",
//                                      LatencySecondsBuckets());
//   ttft->Observe(0.42);
//   reg.AddCallbackGauge("hearth_rss_bytes", "Resident set size.", [] { return ReadRss(); });
//   std::string body = reg.Expose();  // Content-Type: text/plain; version=0.0.4
//
// Registration (families, series) takes a mutex; updates through a handle are
// relaxed atomics and never block, so the decode loop can record freely. Handles
// and families are owned by the registry and stay valid for its lifetime.
//
// Output is deterministic: families in registration order, the series of a
// family sorted by their label values (compared in label-name order), and a
// histogram's lines as _bucket (ascending le, then +Inf), _sum, _count.
// Names, label names and bounds are fixed by code, so invalid ones are bugs
// (HEARTH_CHECK); label values may be anything and are escaped.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::server {

// Label (name, value) pairs for the single-series shorthands; the order of the
// names is the order they are printed in.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// Base of the three series kinds, so a family can own any of them.
class MetricSeries {
 public:
  virtual ~MetricSeries() = default;
};

// A monotonically increasing event count (integers only: requests, tokens,
// errors). Exact under any number of concurrent writers.
class Counter final : public MetricSeries {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A value that goes up and down (queue depth, active sequences, KV bytes). A
// gauge registered with a callback reports the callback's result at scrape
// time instead of its stored value.
class Gauge final : public MetricSeries {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double d);  // compare-and-swap loop; lock-free
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  friend class MetricFamilyBase;
  std::atomic<double> v_{0.0};
  std::function<double()> callback_;  // guarded by the family's mutex
};

// Observations counted into fixed buckets. Bucket i holds values v with
// bounds[i-1] < v <= bounds[i] (Prometheus "le": a value equal to a bound
// belongs to that bound's bucket); values above the last bound go to +Inf.
class Histogram final : public MetricSeries {
 public:
  // `bounds` must be finite and strictly increasing (may be empty: +Inf only).
  explicit Histogram(std::vector<double> bounds);

  // NaN is ignored (it would poison _sum and has no bucket); ±Inf go to the
  // first / +Inf bucket and into _sum as Prometheus clients do.
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  // _count is derived from the buckets, so it always equals the +Inf bucket
  // even while other threads observe; _sum may lag by in-flight observations.
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0.0};
};

// Bucket bounds in seconds for TTFT and end-to-end latency: 5 ms … 60 s.
const std::vector<double>& LatencySecondsBuckets();
// Bucket bounds in seconds for per-token latency (TPOT): 1 ms … 2 s.
const std::vector<double>& TokenSecondsBuckets();

// The label-independent part of a metric: name, help, type, label names, and
// one series per distinct tuple of label values (created on first use).
class MetricFamilyBase {
 public:
  MetricFamilyBase(std::string name, std::string help, MetricType type,
                   std::vector<std::string> label_names, std::vector<double> bounds);
  virtual ~MetricFamilyBase() = default;
  MetricFamilyBase(const MetricFamilyBase&) = delete;
  MetricFamilyBase& operator=(const MetricFamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }

  // Appends "# HELP", "# TYPE" and one line per sample (callbacks run here).
  void Render(std::string* out) const;

 protected:
  // The series for `values` (one per label name, aborts otherwise), created on
  // first use. Takes the family mutex: call once and keep the pointer.
  MetricSeries* GetOrCreate(const std::vector<std::string>& values);

 private:
  friend class Registry;  // installs gauge callbacks under mu_
  void SetCallback(const std::vector<std::string>& values, std::function<double()> fn);

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  // Keyed by label values; std::map keeps the exposition order sorted.
  std::map<std::vector<std::string>, std::unique_ptr<MetricSeries>> series_;
};

// A family whose series are all of type T (Counter, Gauge or Histogram).
template <typename T>
class MetricFamily final : public MetricFamilyBase {
 public:
  using MetricFamilyBase::MetricFamilyBase;
  // Values in the order of the family's label names. The pointer is stable.
  T* WithLabels(const std::vector<std::string>& values) {
    return static_cast<T*>(GetOrCreate(values));
  }
};
using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name again returns the existing family when type, help,
  // label names (and bounds) match; any mismatch is a bug and aborts, as is
  // a name that collides with a histogram's h_bucket/h_sum/h_count. Metric
  // names match [a-zA-Z_:][a-zA-Z0-9_:]*; label names [a-zA-Z_][a-zA-Z0-9_]*,
  // not starting with "__" and, for histograms, not "le".
  CounterFamily* AddCounterFamily(std::string name, std::string help,
                                  std::vector<std::string> label_names);
  GaugeFamily* AddGaugeFamily(std::string name, std::string help,
                              std::vector<std::string> label_names);
  HistogramFamily* AddHistogramFamily(std::string name, std::string help,
                                      std::vector<double> bounds,
                                      std::vector<std::string> label_names);

  // Shorthands: the family named `name` with the names of `labels`, and its
  // series for their values.
  Counter* AddCounter(std::string name, std::string help, const Labels& labels = {});
  Gauge* AddGauge(std::string name, std::string help, const Labels& labels = {});
  Histogram* AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                          const Labels& labels = {});
  // A gauge series whose value is fn() at each scrape (e.g. RSS, KV blocks in
  // use). fn runs on the scraping thread with the family's mutex held: it must
  // be thread-safe and must not call into this registry. Registering the same
  // series again replaces the callback.
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> fn,
                        const Labels& labels = {});

  // The whole registry as Prometheus text format 0.0.4 (ends with '\n' unless empty).
  std::string Expose() const;

 private:
  MetricFamilyBase* AddFamily(std::string name, std::string help, MetricType type,
                              std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<MetricFamilyBase>> families_;  // registration order
};

// Sample value as Prometheus prints it: integral values below 1e15 in plain
// decimal ("3", "-2", "1000000"), other finite values in the shortest form
// that reads back exactly ("0.005", "2.5e-07"), and "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double v);
// A label value inside its quotes: '\' -> "\\", '"' -> "\"", newline -> "\n".
std::string EscapeLabelValue(std::string_view v);
// HELP text: '\' -> "\\", newline -> "\n".
std::string EscapeHelp(std::string_view help);

}  // namespace hearth::server
