#include "sampling/stages.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace hearth::sampling {
namespace {

// TopP's quickselect stops narrowing below this many candidates and sorts.
constexpr size_t kTopPSortBelow = 256;

// TopK uses a heap (partial_sort) up to this k, nth_element + sort above.
constexpr size_t kHeapSortMaxK = 1024;

std::ptrdiff_t Off(size_t i) {
  return static_cast<std::ptrdiff_t>(i);
}

float MaxLogit(const Candidates& c) {
  if (c.sorted && !c.items.empty()) return c.items.front().logit;
  float m = -std::numeric_limits<float>::infinity();
  for (const Candidate& x : c.items) m = std::max(m, x.logit);
  return m;
}

// exp(logit - max) in float (fast; relative error ~1e-7); sums are in double.
double Weight(float logit, float max_logit) {
  return static_cast<double>(std::exp(logit - max_logit));
}

double SumWeights(const Candidates& c, float max_logit) {
  double sum = 0.0;
  for (const Candidate& x : c.items) sum += Weight(x.logit, max_logit);
  return sum;
}

// Puts the k best candidates first, in Before() order. A small k keeps a
// heap of k (most candidates cost one comparison); a large k selects first.
void SortPrefix(size_t k, Candidates& c) {
  auto& v = c.items;
  if (k >= v.size()) {
    std::sort(v.begin(), v.end(), Before);
  } else if (k <= kHeapSortMaxK) {
    std::partial_sort(v.begin(), v.begin() + Off(k), v.end(), Before);
  } else {
    std::nth_element(v.begin(), v.begin() + Off(k), v.end(), Before);
    std::sort(v.begin(), v.begin() + Off(k), Before);
  }
}

}  // namespace

void FillCandidates(std::span<const float> logits, Candidates& c) {
  c.items.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    c.items[i] = Candidate{static_cast<int32_t>(i), logits[i]};
  }
  c.sorted = false;
}

void ApplyLogitBias(std::span<const LogitBias> biases, Candidates& c) {
  for (const LogitBias& b : biases) {
    HEARTH_DCHECK(b.id >= 0 && static_cast<size_t>(b.id) < c.items.size());
    HEARTH_DCHECK(c.items[static_cast<size_t>(b.id)].id == b.id);
    c.items[static_cast<size_t>(b.id)].logit += b.bias;
  }
  c.sorted = false;
}

void ApplyPenalties(float repetition, float frequency, float presence,
                    std::span<const int32_t> window, std::span<int32_t> counts, Candidates& c) {
  if (window.empty() || (repetition == 1.0f && frequency == 0.0f && presence == 0.0f)) return;
  for (int32_t id : window) ++counts[static_cast<size_t>(id)];
  // Second pass visits each distinct id once (its count is reset after use),
  // in window order: no hash map, nothing order-dependent.
  for (int32_t id : window) {
    int32_t& n = counts[static_cast<size_t>(id)];
    if (n == 0) continue;
    float& logit = c.items[static_cast<size_t>(id)].logit;
    logit = logit > 0.0f ? logit / repetition : logit * repetition;
    logit -= static_cast<float>(n) * frequency + presence;
    n = 0;
  }
  c.sorted = false;
}

void DropImpossible(Candidates& c) {
  const float ninf = -std::numeric_limits<float>::infinity();
  std::erase_if(c.items, [ninf](const Candidate& x) { return x.logit == ninf; });
}

void TopK(int32_t k, Candidates& c) {
  if (k <= 0 || static_cast<size_t>(k) >= c.items.size()) return;
  if (!c.sorted) SortPrefix(static_cast<size_t>(k), c);
  c.items.resize(static_cast<size_t>(k));
  c.sorted = true;
}

void TopP(float p, Candidates& c) {
  auto& v = c.items;
  const size_t n = v.size();
  if (p >= 1.0f || n <= 1) return;
  const float max_logit = MaxLogit(c);
  const double target = static_cast<double>(p) * SumWeights(c, max_logit);
  // Without a sort, first narrow down where the boundary is by quickselect
  // on probability mass (expected O(n)): afterwards v[0, hi) holds the hi
  // best candidates (in some order), and their mass reaches the target.
  size_t hi = n;
  if (!c.sorted) {
    size_t lo = 0;
    double mass_before_lo = 0.0;  // mass of v[0, lo), all inside the answer
    while (hi - lo > kTopPSortBelow) {
      const size_t mid = lo + (hi - lo) / 2;
      std::nth_element(v.begin() + Off(lo), v.begin() + Off(mid), v.begin() + Off(hi), Before);
      double mass = mass_before_lo;
      for (size_t i = lo; i <= mid; ++i) mass += Weight(v[i].logit, max_logit);
      if (mass >= target) {
        hi = mid + 1;
      } else {
        mass_before_lo = mass;
        lo = mid + 1;
      }
    }
    std::sort(v.begin(), v.begin() + Off(hi), Before);
  }
  double cum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (i == hi) {  // rounding: the sorted sum fell just short; sort the rest too
      std::sort(v.begin() + Off(hi), v.end(), Before);
      hi = n;
    }
    cum += Weight(v[i].logit, max_logit);
    if (cum >= target) {
      v.resize(i + 1);
      break;
    }
  }
  c.sorted = true;  // if the loop ran out, rounding left the total under target: keep all
}

void MinP(float min_p, Candidates& c) {
  if (min_p <= 0.0f || c.items.empty()) return;
  const double threshold = static_cast<double>(MaxLogit(c)) + std::log(static_cast<double>(min_p));
  std::erase_if(c.items, [threshold](const Candidate& x) {
    return static_cast<double>(x.logit) < threshold;
  });
}

void Temperature(float t, Candidates& c) {
  HEARTH_CHECK(t > 0.0f);
  if (c.items.empty()) return;
  // Shift so the maximum is 0 before dividing: a tiny t then sends the others
  // towards -inf (probability 0) instead of overflowing the maximum to +inf.
  const double max_logit = static_cast<double>(MaxLogit(c));
  for (Candidate& x : c.items) {
    x.logit = static_cast<float>((static_cast<double>(x.logit) - max_logit) / t);
  }
}

int32_t Argmax(const Candidates& c) {
  HEARTH_CHECK(!c.items.empty());
  const Candidate* best = &c.items.front();
  for (const Candidate& x : c.items) {
    if (Before(x, *best)) best = &x;
  }
  return best->id;
}

int32_t DrawFromSoftmax(const Candidates& c, double u) {
  HEARTH_CHECK(!c.items.empty());
  const float max_logit = MaxLogit(c);
  HEARTH_CHECK(std::isfinite(max_logit));
  const double target = u * SumWeights(c, max_logit);
  double cum = 0.0;
  int32_t last_possible = c.items.front().id;
  for (const Candidate& x : c.items) {
    const double w = Weight(x.logit, max_logit);
    if (w == 0.0) continue;
    last_possible = x.id;
    cum += w;
    if (cum > target) return x.id;
  }
  return last_possible;  // rounding: u * sum landed on or past the total
}

std::vector<double> Probabilities(const Candidates& c) {
  std::vector<double> p(c.items.size());
  if (c.items.empty()) return p;
  const float max_logit = MaxLogit(c);
  const double sum = SumWeights(c, max_logit);
  for (size_t i = 0; i < p.size(); ++i) p[i] = Weight(c.items[i].logit, max_logit) / sum;
  return p;
}

}  // namespace hearth::sampling
