#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hearth {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins this many rounds for a new job before sleeping (~tens of microseconds).
constexpr int kSpinRounds = 20000;

// Balanced jobs: chunks shorter than this are too noisy to time.
constexpr double kMinTimedSeconds = 50e-6;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads),
      bounds_(n_threads_ + 1),
      busy_(n_threads_),
      work_(n_threads_),
      shares_(n_threads_) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  while (true) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinRounds; ++spin) {
      CpuRelax();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    const int64_t begin = bounds_[index], end = bounds_[index + 1];
    const double t0 = timed_ ? Now() : 0.0;
    if (begin < end) (*job_)(begin, end, index);
    if (timed_) busy_[index] = Now() - t0;
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::ParallelFor(int64_t n, const Fn& fn) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n, 0);
    return;
  }
  for (int t = 0; t <= n_threads_; ++t) bounds_[t] = n * t / n_threads_;
  timed_ = false;
  Run(fn);
}

void ThreadPool::ParallelForBalanced(int64_t n, int64_t grain, const Fn& fn) {
  if (n <= 0) return;
  if (n_threads_ == 1) {
    fn(0, n, 0);
    return;
  }
  if (grain < 1) grain = 1;
  bounds_[0] = 0;
  for (int t = 1; t < n_threads_; ++t) {
    const int64_t b =
        std::llround(static_cast<double>(n) * shares_.bound(t) / static_cast<double>(grain));
    bounds_[t] = std::clamp<int64_t>(b * grain, bounds_[t - 1], n);
  }
  bounds_[n_threads_] = n;
  timed_ = true;
  Run(fn);
  UpdateSpeeds();
}

void ThreadPool::UpdateSpeeds() {
  for (int t = 0; t < n_threads_; ++t) {
    if (busy_[t] < kMinTimedSeconds) return;  // too short to tell
    work_[t] = static_cast<double>(bounds_[t + 1] - bounds_[t]);
  }
  shares_.Update(work_.data(), busy_.data());
}

void ThreadPool::Run(const Fn& fn) {
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  const double t0 = timed_ ? Now() : 0.0;
  if (bounds_[0] < bounds_[1]) fn(bounds_[0], bounds_[1], 0);
  if (timed_) busy_[0] = Now() - t0;
  // Spin, then yield: when the machine is oversubscribed a worker may be waiting
  // for this very core.
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpinRounds) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  job_ = nullptr;
}

}  // namespace hearth
