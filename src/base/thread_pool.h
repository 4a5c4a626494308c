// A persistent pool of worker threads for data-parallel loops.
//
// ParallelFor splits [0, n) into one contiguous chunk per thread (static
// partition: chunk t is [n*t/T, n*(t+1)/T)), runs chunk 0 on the calling thread
// and the others on the workers, and returns when all are done; a single item
// (n == 1, as a decode step's norms and activations are) runs on the calling
// thread alone, without a round trip through a worker. Workers spin
// briefly between jobs (a decode step issues hundreds of small jobs) and then
// sleep on a futex. Results must not depend on the partition — callers write
// disjoint outputs — which is what keeps the engine deterministic across thread
// counts.
//
// One ParallelFor at a time per pool (calls from several threads are serialized
// by the caller; the engine owns one pool per model instance).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "base/speed_shares.h"

namespace hearth {

class ThreadPool {
 public:
  // n_threads >= 1 (including the calling thread).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  using Fn = std::function<void(int64_t begin, int64_t end, int thread)>;
  void ParallelFor(int64_t n, const Fn& fn);

  // Like ParallelFor, but the chunk boundaries are multiples of `grain` (the
  // last chunk takes the rest) and follow each thread's measured speed on
  // earlier balanced calls: a thread that runs slower gets a smaller chunk.
  // Chunks stay contiguous and in thread order. As for ParallelFor, results
  // must not depend on the partition.
  void ParallelForBalanced(int64_t n, int64_t grain, const Fn& fn);

 private:
  void WorkerLoop(int index);
  void Run(const Fn& fn);
  void UpdateSpeeds();

  int n_threads_;
  std::vector<std::thread> workers_;
  const Fn* job_ = nullptr;
  // Chunk t of the current job is [bounds_[t], bounds_[t + 1]).
  std::vector<int64_t> bounds_;
  // Seconds each thread spent on its chunk of the current job (balanced jobs).
  std::vector<double> busy_;
  bool timed_ = false;
  // Items in each thread's chunk of the current job (balanced jobs), and the
  // chunks' shares, which follow the threads' measured speeds.
  std::vector<double> work_;
  SpeedShares shares_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace hearth
