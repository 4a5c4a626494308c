#include "testing/golden.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "testing/test_paths.h"

namespace hearth::testing {
namespace {

std::string GoldenDir() {
  return SharedDir() + "/testdata/golden";
}

Result<std::vector<float>> ReadF32(const std::string& path, size_t count) {
  HEARTH_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (bytes.size() != count * 4) {
    return DataLossError(
        StrFormat("%s has %zu bytes, expected %zu", path.c_str(), bytes.size(), count * 4));
  }
  std::vector<float> v(count);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

int ArgMax(const float* row, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (row[i] > row[best]) best = i;  // ties: lowest id
  }
  return best;
}

}  // namespace

std::vector<int32_t> GoldenCase::Sequence() const {
  std::vector<int32_t> s = prompt_ids;
  s.insert(s.end(), greedy_ids.begin(), greedy_ids.end());
  s.resize(static_cast<size_t>(n_positions));
  return s;
}

std::vector<std::string> GoldenCaseNames() {
  std::vector<std::string> names;
  if (SharedDir().empty()) return names;
  auto text = ReadFileToString(GoldenDir() + "/index.json");
  if (!text.ok()) return names;
  auto doc = json::Parse(*text);
  if (!doc.ok()) return names;
  for (const json::Value& c : doc->Find("cases")->as_array()) {
    std::string n = c.as_string();
    names.push_back(n.substr(0, n.size() - 5));  // drop ".json"
  }
  return names;
}

Result<GoldenCase> LoadGoldenCase(const std::string& name) {
  const std::string dir = GoldenDir();
  HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(dir + "/" + name + ".json"));
  HEARTH_ASSIGN_OR_RETURN(json::Value doc, json::Parse(text));
  GoldenCase c;
  c.name = name;
  c.model_path = dir + "/" + doc.Find("model")->as_string();
  c.weight_type = doc.Find("weight_type")->as_string();
  for (const auto& v : doc.Find("prompt_ids")->as_array()) c.prompt_ids.push_back(v.as_int());
  for (const auto& v : doc.Find("greedy_ids")->as_array()) c.greedy_ids.push_back(v.as_int());
  for (const auto& v : doc.Find("greedy_margins")->as_array())
    c.greedy_margins.push_back(v.as_double());
  c.n_vocab = static_cast<int>(doc.Find("n_vocab")->as_int());
  c.n_positions = static_cast<int>(doc.Find("n_positions")->as_int());
  const size_t count = static_cast<size_t>(c.n_vocab) * c.n_positions;
  HEARTH_ASSIGN_OR_RETURN(c.logits,
                          ReadF32(dir + "/" + doc.Find("logits_file")->as_string(), count));
  const json::Value* ref = doc.Find("ref_file");
  if (ref != nullptr && ref->is_string()) {
    HEARTH_ASSIGN_OR_RETURN(c.ref_logits, ReadF32(dir + "/" + ref->as_string(), count));
  }
  return c;
}

Tolerance ToleranceFor(const std::string& t) {
  if (t == "F32") return {1e-3, 1e-4, 1e-8, 1e-7, 1.0, 0.0};
  if (t == "F16") return {0.1, 0.01, 5e-5, 3e-4, 0.95, 0.1};
  if (t == "BF16") return {0.3, 0.05, 5e-4, 2e-3, 0.95, 0.3};
  if (t == "Q8_0" || t == "Q4_0" || t == "Q4_1" || t == "Q5_0" || t == "Q5_1") {
    return {1.2, 0.15, 8e-3, 0.05, 0.75, 1.2};
  }
  return {1.25, 0.2, 0.012, 0.06, 0.75, 1.25};  // k-quants and mixtures
}

LogitsReport CompareLogits(const GoldenCase& c, const std::vector<float>& logits,
                           const Tolerance& tol) {
  LogitsReport r;
  if (logits.size() != c.logits.size()) {
    r.failure = StrFormat("shape: %zu values, expected %zu", logits.size(), c.logits.size());
    return r;
  }
  const int V = c.n_vocab;
  double sum_abs = 0, kl_sum = 0;
  int agree = 0;
  for (int row = 0; row < c.n_positions; ++row) {
    const float* g = c.logits.data() + static_cast<size_t>(row) * V;
    const float* t = logits.data() + static_cast<size_t>(row) * V;
    double gmax = -INFINITY, tmax = -INFINITY;
    for (int v = 0; v < V; ++v) {
      const double d = std::fabs(static_cast<double>(g[v]) - t[v]);
      r.max_abs = std::max(r.max_abs, d);
      sum_abs += d;
      gmax = std::max(gmax, static_cast<double>(g[v]));
      tmax = std::max(tmax, static_cast<double>(t[v]));
    }
    double gz = 0, tz = 0;
    for (int v = 0; v < V; ++v) gz += std::exp(g[v] - gmax), tz += std::exp(t[v] - tmax);
    const double glz = std::log(gz), tlz = std::log(tz);
    double kl = 0;
    for (int v = 0; v < V; ++v) {
      const double lpg = g[v] - gmax - glz, lpt = t[v] - tmax - tlz;
      kl += std::exp(lpg) * (lpg - lpt);
    }
    kl_sum += kl;
    r.kl_max = std::max(r.kl_max, kl);
    const int am = ArgMax(t, V);
    bool ok = am == ArgMax(g, V);
    if (!ok && !c.ref_logits.empty())
      ok = am == ArgMax(c.ref_logits.data() + static_cast<size_t>(row) * V, V);
    agree += ok;
  }
  r.mean_abs = sum_abs / static_cast<double>(logits.size());
  r.kl_mean = kl_sum / c.n_positions;
  r.top1 = static_cast<double>(agree) / c.n_positions;
  if (r.max_abs > tol.max_abs)
    r.failure = StrFormat("max_abs %.3g > %.3g", r.max_abs, tol.max_abs);
  else if (r.mean_abs > tol.mean_abs)
    r.failure = StrFormat("mean_abs %.3g > %.3g", r.mean_abs, tol.mean_abs);
  else if (r.kl_mean > tol.kl_mean)
    r.failure = StrFormat("kl_mean %.3g > %.3g", r.kl_mean, tol.kl_mean);
  else if (r.kl_max > tol.kl_max)
    r.failure = StrFormat("kl_max %.3g > %.3g", r.kl_max, tol.kl_max);
  else if (r.top1 < tol.top1)
    r.failure = StrFormat("top-1 %.3f < %.3f", r.top1, tol.top1);
  r.ok = r.failure.empty();
  return r;
}

std::string LogitsReport::Summary() const {
  return StrFormat("max_abs %.3g mean_abs %.3g kl_mean %.3g kl_max %.3g top1 %.3f%s%s", max_abs,
                   mean_abs, kl_mean, kl_max, top1, ok ? "" : " FAILED: ", failure.c_str());
}

GreedyReport CompareGreedy(const GoldenCase& c, const std::vector<int32_t>& ids,
                           const Tolerance& tol) {
  GreedyReport r;
  const int n = static_cast<int>(c.greedy_ids.size());
  r.allowed_from = n;
  for (int i = 0; i < n; ++i) {
    if (tol.greedy_margin > 0 && c.greedy_margins[i] < tol.greedy_margin) {
      r.allowed_from = i;
      break;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (i >= static_cast<int>(ids.size()) || ids[i] != c.greedy_ids[i]) {
      r.first_divergence = i;
      break;
    }
  }
  r.ok = r.first_divergence < 0 || r.first_divergence >= r.allowed_from;
  return r;
}

std::string GreedyReport::Summary() const {
  return StrFormat("greedy: first divergence %d (allowed from step %d)%s", first_divergence,
                   allowed_from, ok ? "" : " FAILED");
}

}  // namespace hearth::testing
