// A reusable barrier for the threads of one ThreadPool job, for work that runs
// as a single job with phases (a decode step: each phase reads what every
// thread wrote in the one before). Waiting spins, since phases are tens of
// microseconds apart, and yields the core after a while in case the machine is
// oversubscribed. Arrive-and-wait publishes each thread's writes to the others
// (release/acquire).
#pragma once

#include <atomic>
#include <cstdint>

namespace hearth {

class SpinBarrier {
 public:
  // n >= 1 threads take part; every one must call Wait() in each phase.
  explicit SpinBarrier(int n) : n_(n < 1 ? 1 : n) {}
  SpinBarrier(const SpinBarrier&) = delete;
  SpinBarrier& operator=(const SpinBarrier&) = delete;

  // Returns once all n threads have called Wait() for this phase.
  void Wait();

 private:
  const int n_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<uint32_t> phase_{0};
};

}  // namespace hearth
