#include "base/speed_shares.h"

#include <algorithm>

namespace hearth {
namespace {

constexpr double kSmoothing = 0.2;
constexpr double kMinShare = 0.5, kMaxShare = 1.5;

}  // namespace

SpeedShares::SpeedShares(int n)
    : bound_(static_cast<size_t>(std::max(n, 1)) + 1), rate_(bound_.size() - 1) {
  const int k = static_cast<int>(rate_.size());
  for (int t = 0; t <= k; ++t) bound_[t] = static_cast<double>(t) / k;
}

void SpeedShares::Update(const double* work, const double* seconds) {
  const int n = static_cast<int>(rate_.size());
  double sum = 0.0;
  for (int t = 0; t < n; ++t) {
    if (!(work[t] > 0.0) || !(seconds[t] > 0.0)) return;
    rate_[t] = work[t] / seconds[t];
    sum += rate_[t];
  }
  Follow(sum);
}

void SpeedShares::Update(const double* seconds) {
  const int n = static_cast<int>(rate_.size());
  double sum = 0.0;
  for (int t = 0; t < n; ++t) {
    if (!(share(t) > 0.0) || !(seconds[t] > 0.0)) return;
    rate_[t] = share(t) / seconds[t];
    sum += rate_[t];
  }
  Follow(sum);
}

void SpeedShares::Follow(double sum) {
  const int n = static_cast<int>(rate_.size());
  const double equal = 1.0 / n;
  double total = 0.0;
  for (int t = 0; t < n; ++t) {
    rate_[t] = std::clamp((1.0 - kSmoothing) * share(t) + kSmoothing * rate_[t] / sum,
                          kMinShare * equal, kMaxShare * equal);
    total += rate_[t];
  }
  for (int t = 0; t < n; ++t) bound_[t + 1] = bound_[t] + rate_[t] / total;
  bound_[n] = 1.0;
}

}  // namespace hearth
