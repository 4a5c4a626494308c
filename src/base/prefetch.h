// A software prefetch into the first-level cache that the compiler keeps.
//
// GCC treats __builtin_prefetch as free of side effects: a loop that does
// nothing but prefetch (one over the K/V rows the attention will read, say) is
// deleted whole at -O2, silently. An asm statement is never deleted.
#pragma once

namespace hearth {

inline void PrefetchL1(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__aarch64__)
  asm volatile("prfm pldl1keep, [%0]" : : "r"(p));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

}  // namespace hearth
