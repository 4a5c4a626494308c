#include "base/spin_barrier.h"

#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hearth {
namespace {

// Spins this many rounds before yielding (a few hundred microseconds).
constexpr int kSpinRounds = 4000;

}  // namespace

void SpinBarrier::Wait() {
  if (n_ == 1) return;
  const uint32_t phase = phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
    // The last one in resets the count for the next phase, then opens this one.
    arrived_.store(0, std::memory_order_relaxed);
    phase_.store(phase + 1, std::memory_order_release);
    return;
  }
  for (int spin = 0; phase_.load(std::memory_order_acquire) == phase; ++spin) {
    if (spin < kSpinRounds) {
#if defined(__x86_64__)
      _mm_pause();
#elif defined(__aarch64__)
      asm volatile("yield");
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace hearth
