#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <vector>

namespace hearth {
namespace {

TEST(ThreadPoolTest, CoversEveryIndexOnceWithStaticChunks) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      std::vector<int> owner(static_cast<size_t>(n), -1);
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int t) {
        for (int64_t i = b; i < e; ++i) ++hits[i], owner[i] = t;
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(hits[i], 1) << "threads " << threads << " n " << n << " i " << i;
        // Static partition: index i belongs to chunk floor-defined by n*t/T.
        int t = owner[i];
        EXPECT_GE(i, n * t / threads);
        EXPECT_LT(i, n * (t + 1) / threads);
      }
    }
  }
}

TEST(ThreadPoolTest, ManySmallJobsInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int rep = 0; rep < 20000; ++rep) {
    pool.ParallelFor(4, [&](int64_t b, int64_t e, int) { total += e - b; });
  }
  EXPECT_EQ(total.load(), 80000);
}

TEST(ThreadPoolTest, SleepsAndWakesUp) {
  ThreadPool pool(3);
  std::atomic<int> calls{0};
  pool.ParallelFor(3, [&](int64_t, int64_t, int) { ++calls; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // workers go to sleep
  pool.ParallelFor(3, [&](int64_t, int64_t, int) { ++calls; });
  EXPECT_EQ(calls.load(), 6);
}

}  // namespace
}  // namespace hearth
