#include "base/prefetch_tuner.h"

#include <algorithm>
#include <cmath>

namespace hearth {

PrefetchTuner::PrefetchTuner() : PrefetchTuner(Options{}) {}

PrefetchTuner::PrefetchTuner(Options o) : opts_(std::move(o)) {
  const Options def;
  if (opts_.candidates.empty()) opts_.candidates = def.candidates;
  if (opts_.rounds < 1) opts_.rounds = def.rounds;
  if (opts_.exploit_steps < 1) opts_.exploit_steps = def.exploit_steps;
  if (!(opts_.min_gain >= 0)) opts_.min_gain = def.min_gain;
  times_.assign(static_cast<size_t>(opts_.rounds) * opts_.candidates.size(), 0.0);
  exploring_ = opts_.candidates.size() > 1;
  exploit_left_ = opts_.exploit_steps;
}

int64_t PrefetchTuner::Next() const {
  if (!exploring_) return chosen();
  const int n = static_cast<int>(opts_.candidates.size());
  return opts_.candidates[static_cast<size_t>((round_ + slot_) % n)];
}

void PrefetchTuner::Report(double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds)) return;
  const int n = static_cast<int>(opts_.candidates.size());
  if (!exploring_) {
    if (--exploit_left_ <= 0 && n > 1) {
      exploring_ = true;
      round_ = slot_ = 0;
    }
    return;
  }
  times_[static_cast<size_t>(round_ * n + (round_ + slot_) % n)] = seconds;
  if (++slot_ < n) return;
  slot_ = 0;
  if (++round_ < opts_.rounds) return;
  Decide();
  exploring_ = false;
  exploit_left_ = opts_.exploit_steps;
  ++explorations_;
}

void PrefetchTuner::Decide() {
  const int n = static_cast<int>(opts_.candidates.size());
  std::vector<double> mean(static_cast<size_t>(opts_.rounds), 0.0);  // each round's mean time
  for (int r = 0; r < opts_.rounds; ++r) {
    for (int k = 0; k < n; ++k)
      mean[static_cast<size_t>(r)] += times_[static_cast<size_t>(r * n + k)];
    mean[static_cast<size_t>(r)] /= n;
  }
  std::vector<double> score(static_cast<size_t>(n));
  std::vector<double> ratios(static_cast<size_t>(opts_.rounds));
  for (int c = 0; c < n; ++c) {
    for (int r = 0; r < opts_.rounds; ++r) {
      ratios[static_cast<size_t>(r)] =
          times_[static_cast<size_t>(r * n + c)] / mean[static_cast<size_t>(r)];
    }
    std::sort(ratios.begin(), ratios.end());
    const size_t m = ratios.size();
    score[static_cast<size_t>(c)] =
        m % 2 ? ratios[m / 2] : 0.5 * (ratios[m / 2 - 1] + ratios[m / 2]);
  }
  const int best = static_cast<int>(std::min_element(score.begin(), score.end()) - score.begin());
  if (score[static_cast<size_t>(best)] <
      score[static_cast<size_t>(incumbent_)] * (1 - opts_.min_gain))
    incumbent_ = best;
}

}  // namespace hearth
