#include "base/thread_pool.h"
#include "base/speed_shares.h"
#include "base/spin_barrier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
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
        int t = owner[i];
        if (n == 1) {  // a single item runs on the calling thread
          EXPECT_EQ(t, 0);
          continue;
        }
        // Static partition: index i belongs to chunk floor-defined by n*t/T.
        EXPECT_GE(i, n * t / threads);
        EXPECT_LT(i, n * (t + 1) / threads);
      }
    }
  }
}

TEST(ThreadPoolTest, BalancedCoversEveryIndexOnceInGrainedChunks) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 15, 16, 100, 1001}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      std::vector<int> owner(static_cast<size_t>(n), -1);
      pool.ParallelForBalanced(n, 16, [&](int64_t b, int64_t e, int t) {
        EXPECT_TRUE(b % 16 == 0) << b;
        EXPECT_TRUE(e % 16 == 0 || e == n) << e;
        for (int64_t i = b; i < e; ++i) ++hits[i], owner[i] = t;
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(hits[i], 1) << "threads " << threads << " n " << n << " i " << i;
        if (i > 0) {
          EXPECT_GE(owner[i], owner[i - 1]) << "chunks in thread order";
        }
      }
    }
  }
}

// A thread that is slower per item gets fewer items on later calls (the
// smallest share seen, which a preempted caller cannot hide), and never less
// than half an equal share.
TEST(ThreadPoolTest, BalancedGivesTheSlowerThreadLess) {
  ThreadPool pool(2);
  int64_t first = 0, fewest = 1600, least_ever = 1600;
  for (int call = 0; call < 40; ++call) {
    int64_t worker_items = 0;
    pool.ParallelForBalanced(1600, 16, [&](int64_t b, int64_t e, int t) {
      // Thread 1 spends three times as long per item (busy waiting, ~0.5 ms).
      const auto per_item = std::chrono::nanoseconds(t == 1 ? 900 : 300);
      const auto until = std::chrono::steady_clock::now() + (e - b) * per_item;
      while (std::chrono::steady_clock::now() < until) {
      }
      if (t == 1) worker_items = e - b;
    });
    if (call == 0) first = worker_items;
    if (call >= 5) fewest = std::min(fewest, worker_items);
    least_ever = std::min(least_ever, worker_items);
  }
  EXPECT_EQ(first, 800);   // no measurements yet: an equal split
  EXPECT_LT(fewest, 700);  // converges towards a quarter of 1600
  EXPECT_GE(least_ever, 400);
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

namespace hearth {
namespace {

// Each phase every thread writes its slot, meets the others, and must then see
// every slot of this phase (not of the one before): the barrier both waits and
// publishes. More threads than cores exercises the yielding wait.
TEST(SpinBarrierTest, EveryThreadSeesEveryWriteOfThePhase) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    SpinBarrier barrier(threads);
    constexpr int kPhases = 2000;
    std::vector<std::atomic<int>> slot(static_cast<size_t>(threads));
    std::atomic<int> stale{0};
    pool.ParallelFor(threads, [&](int64_t b, int64_t e, int) {
      ASSERT_EQ(e - b, 1);  // one item per thread
      const int t = static_cast<int>(b);
      for (int p = 0; p < kPhases; ++p) {
        slot[t].store(p * threads + t, std::memory_order_relaxed);
        barrier.Wait();
        for (int u = 0; u < threads; ++u) {
          if (slot[u].load(std::memory_order_relaxed) != p * threads + u) ++stale;
        }
        barrier.Wait();
      }
    });
    EXPECT_EQ(stale.load(), 0) << threads << " threads";
  }
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

// Shares start equal, move a fifth of the way towards the measured speeds at
// each update (thread 1 at half the speed asks for 2/3 vs 1/3), stay within
// 0.5-1.5 times an equal split, and ignore an update with an idle thread.
TEST(SpeedSharesTest, FollowMeasuredSpeedsWithinBounds) {
  SpeedShares s(2);
  EXPECT_DOUBLE_EQ(s.bound(0), 0.0);
  EXPECT_DOUBLE_EQ(s.bound(1), 0.5);
  EXPECT_DOUBLE_EQ(s.bound(2), 1.0);
  const double work[2] = {0.5, 0.5}, seconds[2] = {1.0, 2.0};
  s.Update(work, seconds);
  EXPECT_NEAR(s.share(0), 0.8 * 0.5 + 0.2 * (2.0 / 3.0), 1e-12);
  EXPECT_NEAR(s.share(0) + s.share(1), 1.0, 1e-12);
  for (int i = 0; i < 100; ++i) {
    const double w[2] = {s.share(0), s.share(1)};
    const double sec[2] = {w[0], 2.0 * w[1]};  // thread 1 always half as fast
    s.Update(w, sec);
  }
  EXPECT_NEAR(s.share(0), 2.0 / 3.0, 1e-6);
  const double idle[2] = {1.0, 0.0}, any[2] = {1.0, 1.0};
  const double before = s.share(0);
  s.Update(idle, any);
  EXPECT_DOUBLE_EQ(s.share(0), before);
  for (int i = 0; i < 100; ++i) {
    const double w[2] = {s.share(0), s.share(1)};
    const double sec[2] = {w[0], 100.0 * w[1]};  // thread 1 far slower: clamped
    s.Update(w, sec);
  }
  EXPECT_NEAR(s.share(1), 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(s.bound(2), 1.0);
}

// Update(seconds) is Update(work, seconds) with each thread's share as its work.
TEST(SpeedSharesTest, SharesAsWorkGiveTheSameUpdate) {
  SpeedShares a(3), b(3);
  for (int i = 0; i < 5; ++i) {
    const double sec[3] = {1.0 + i, 2.0, 0.5 + 0.25 * i};
    const double w[3] = {a.share(0), a.share(1), a.share(2)};
    a.Update(w, sec);
    b.Update(sec);
    for (int t = 0; t <= 3; ++t) EXPECT_DOUBLE_EQ(a.bound(t), b.bound(t));
  }
  EXPECT_GT(a.share(2), a.share(0));  // the fastest thread gained
  const double stalled[3] = {1.0, 0.0, 1.0};
  const double before = b.share(1);
  b.Update(stalled);
  EXPECT_DOUBLE_EQ(b.share(1), before);
}

}  // namespace
}  // namespace hearth
