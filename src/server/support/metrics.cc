#include "server/support/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/check.h"

namespace hearth::server {
namespace {

// Lock-free d += delta on an atomic double (a CAS loop; fine under contention
// because each attempt is a few nanoseconds).
void AtomicAdd(std::atomic<double>* d, double delta) {
  double old = d->load(std::memory_order_relaxed);
  while (!d->compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsLabelName(std::string_view s) {
  if (s.empty() || s.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// True if family `a` would print a sample name that family `b` owns: a
// histogram "h" prints h_bucket, h_sum and h_count.
bool SampleNamesClash(std::string_view a, MetricType a_type, std::string_view b) {
  if (a == b) return true;
  if (a_type != MetricType::kHistogram) return false;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"})
    if (b.size() == a.size() + suffix.size() && b.substr(0, a.size()) == a &&
        b.substr(a.size()) == suffix)
      return true;
  return false;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `name{a="x",b="y"} value\n`; `extra` is an already formatted last label
// (the histogram's le="…"), or empty. No braces when there are no labels.
void AppendSample(std::string* out, std::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra,
                  std::string_view value) {
  out->append(name);
  if (!names.empty() || !extra.empty()) {
    out->push_back('{');
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out->push_back(',');
      out->append(names[i]);
      out->append("=\"");
      out->append(EscapeLabelValue(values[i]));
      out->push_back('"');
    }
    if (!extra.empty()) {
      if (!names.empty()) out->push_back(',');
      out->append(extra);
    }
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(value);
  out->push_back('\n');
}

}  // namespace

void Gauge::Add(double d) {
  AtomicAdd(&v_, d);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    HEARTH_CHECK(std::isfinite(bounds_[i]), "histogram bound %zu is not finite", i);
    HEARTH_CHECK(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must increase");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  // First bound >= v: the "le" bucket; past the end means +Inf.
  const size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(&sum_, v);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencySecondsBuckets() {
  static const std::vector<double> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,  5,     10,   20,  30,   60};
  return kBounds;
}

const std::vector<double>& TokenSecondsBuckets() {
  static const std::vector<double> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2};
  return kBounds;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    // Exact in int64; also turns -0.0 into "0".
    return std::to_string(static_cast<long long>(v));
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help, MetricType type,
                                   std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {
  HEARTH_CHECK(IsMetricName(name_), "invalid metric name '%s'", name_.c_str());
  for (size_t i = 0; i < label_names_.size(); ++i) {
    const std::string& l = label_names_[i];
    HEARTH_CHECK(IsLabelName(l), "metric %s: invalid label name '%s'", name_.c_str(), l.c_str());
    HEARTH_CHECK(type_ != MetricType::kHistogram || l != "le",
                 "metric %s: 'le' is reserved for histogram buckets", name_.c_str());
    for (size_t j = 0; j < i; ++j)
      HEARTH_CHECK(label_names_[j] != l, "metric %s: label '%s' repeated", name_.c_str(),
                   l.c_str());
  }
}

MetricSeries* MetricFamilyBase::GetOrCreate(const std::vector<std::string>& values) {
  HEARTH_CHECK(values.size() == label_names_.size(), "metric %s: %zu label values for %zu names",
               name_.c_str(), values.size(), label_names_.size());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  if (it != series_.end()) return it->second.get();
  std::unique_ptr<MetricSeries> s;
  switch (type_) {
    case MetricType::kCounter:
      s = std::make_unique<Counter>();
      break;
    case MetricType::kGauge:
      s = std::make_unique<Gauge>();
      break;
    case MetricType::kHistogram:
      s = std::make_unique<Histogram>(bounds_);
      break;
  }
  MetricSeries* raw = s.get();
  series_.emplace(values, std::move(s));
  return raw;
}

void MetricFamilyBase::SetCallback(const std::vector<std::string>& values,
                                   std::function<double()> fn) {
  HEARTH_CHECK(type_ == MetricType::kGauge, "metric %s: callbacks need a gauge", name_.c_str());
  auto* g = static_cast<Gauge*>(GetOrCreate(values));
  std::lock_guard<std::mutex> lock(mu_);
  g->callback_ = std::move(fn);
}

void MetricFamilyBase::Render(std::string* out) const {
  out->append("# HELP ").append(name_).push_back(' ');
  out->append(EscapeHelp(help_)).push_back('\n');
  out->append("# TYPE ").append(name_).push_back(' ');
  out->append(TypeName(type_)).push_back('\n');

  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& entry : series_) {
    const std::vector<std::string>& values = entry.first;
    const MetricSeries* s = entry.second.get();
    switch (type_) {
      case MetricType::kCounter: {
        const uint64_t v = static_cast<const Counter*>(s)->value();
        AppendSample(out, name_, label_names_, values, {}, std::to_string(v));
        break;
      }
      case MetricType::kGauge: {
        const auto* g = static_cast<const Gauge*>(s);
        const double v = g->callback_ ? g->callback_() : g->value();
        AppendSample(out, name_, label_names_, values, {}, FormatMetricValue(v));
        break;
      }
      case MetricType::kHistogram: {
        const Histogram::Snapshot snap = static_cast<const Histogram*>(s)->Read();
        const std::string bucket = name_ + "_bucket";
        for (size_t i = 0; i <= bounds_.size(); ++i) {
          const std::string le =
              i < bounds_.size() ? "le=\"" + FormatMetricValue(bounds_[i]) + "\"" : "le=\"+Inf\"";
          AppendSample(out, bucket, label_names_, values, le, std::to_string(snap.cumulative[i]));
        }
        AppendSample(out, name_ + "_sum", label_names_, values, {}, FormatMetricValue(snap.sum));
        AppendSample(out, name_ + "_count", label_names_, values, {}, std::to_string(snap.count));
        break;
      }
    }
  }
}

MetricFamilyBase* Registry::AddFamily(std::string name, std::string help, MetricType type,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) {
    if (f->name() != name) continue;
    HEARTH_CHECK(f->type() == type && f->help() == help && f->label_names() == label_names &&
                     f->bounds() == bounds,
                 "metric %s registered twice with different type, help, labels or buckets",
                 name.c_str());
    return f.get();
  }
  for (const auto& f : families_) {
    HEARTH_CHECK(
        !SampleNamesClash(name, type, f->name()) && !SampleNamesClash(f->name(), f->type(), name),
        "metric %s clashes with the samples of metric %s", name.c_str(), f->name().c_str());
  }
  std::unique_ptr<MetricFamilyBase> f;
  switch (type) {
    case MetricType::kCounter:
      f = std::make_unique<CounterFamily>(std::move(name), std::move(help), type,
                                          std::move(label_names), std::move(bounds));
      break;
    case MetricType::kGauge:
      f = std::make_unique<GaugeFamily>(std::move(name), std::move(help), type,
                                        std::move(label_names), std::move(bounds));
      break;
    case MetricType::kHistogram:
      // Checks the bounds once here rather than at every series' creation.
      (void)Histogram(bounds);
      f = std::make_unique<HistogramFamily>(std::move(name), std::move(help), type,
                                            std::move(label_names), std::move(bounds));
      break;
  }
  families_.push_back(std::move(f));
  return families_.back().get();
}

CounterFamily* Registry::AddCounterFamily(std::string name, std::string help,
                                          std::vector<std::string> label_names) {
  return static_cast<CounterFamily*>(AddFamily(std::move(name), std::move(help),
                                               MetricType::kCounter, std::move(label_names), {}));
}

GaugeFamily* Registry::AddGaugeFamily(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  return static_cast<GaugeFamily*>(
      AddFamily(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names), {}));
}

HistogramFamily* Registry::AddHistogramFamily(std::string name, std::string help,
                                              std::vector<double> bounds,
                                              std::vector<std::string> label_names) {
  return static_cast<HistogramFamily*>(AddFamily(std::move(name), std::move(help),
                                                 MetricType::kHistogram, std::move(label_names),
                                                 std::move(bounds)));
}

namespace {
std::vector<std::string> Names(const Labels& labels) {
  std::vector<std::string> out;
  for (const auto& l : labels) out.push_back(l.first);
  return out;
}
std::vector<std::string> Values(const Labels& labels) {
  std::vector<std::string> out;
  for (const auto& l : labels) out.push_back(l.second);
  return out;
}
}  // namespace

Counter* Registry::AddCounter(std::string name, std::string help, const Labels& labels) {
  return AddCounterFamily(std::move(name), std::move(help), Names(labels))
      ->WithLabels(Values(labels));
}

Gauge* Registry::AddGauge(std::string name, std::string help, const Labels& labels) {
  return AddGaugeFamily(std::move(name), std::move(help), Names(labels))
      ->WithLabels(Values(labels));
}

Histogram* Registry::AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                  const Labels& labels) {
  return AddHistogramFamily(std::move(name), std::move(help), std::move(bounds), Names(labels))
      ->WithLabels(Values(labels));
}

void Registry::AddCallbackGauge(std::string name, std::string help, std::function<double()> fn,
                                const Labels& labels) {
  HEARTH_CHECK(fn != nullptr, "metric %s: empty callback", name.c_str());
  AddGaugeFamily(std::move(name), std::move(help), Names(labels))
      ->SetCallback(Values(labels), std::move(fn));
}

std::string Registry::Expose() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->Render(&out);
  return out;
}

}  // namespace hearth::server
