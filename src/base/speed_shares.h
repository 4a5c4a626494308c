// Fractions of a divisible piece of work for n threads that follow each
// thread's measured speed, so that a thread that is steadily slower (another
// load on its core, a farther memory path) gets less and nobody waits for it.
// Each update moves a thread's share a fifth of the way to the share its last
// measured speed asks for; shares stay within 0.5 and 1.5 times an equal split.
#pragma once

#include <vector>

namespace hearth {

class SpeedShares {
 public:
  // n >= 1 threads, equal shares.
  explicit SpeedShares(int n);

  // Thread t's part of [0, 1) is [bound(t), bound(t + 1)): bound(0) = 0 and
  // bound(n) = 1; bounds() points at the n + 1 of them.
  double bound(int t) const { return bound_[t]; }
  const double* bounds() const { return bound_.data(); }
  double share(int t) const { return bound_[t + 1] - bound_[t]; }

  // Thread t did work[t] units in seconds[t]. Nothing changes unless every
  // thread did some work in a positive time.
  void Update(const double* work, const double* seconds);
  // The same when thread t's work was its current share.
  void Update(const double* seconds);

 private:
  // rate_ holds each thread's measured speed (sum: their total); moves the
  // shares towards it.
  void Follow(double sum);

  std::vector<double> bound_, rate_;
};

}  // namespace hearth
