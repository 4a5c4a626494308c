// A software prefetch into the first-level cache that the compiler keeps.
//
// GCC deletes, at -O3, a loop that does nothing but call __builtin_prefetch
// (_mm_prefetch is the same builtin): one over the K/V rows the attention will
// read, say, silently became nothing. Prefetches inside loops that also load
// (the kernels') are kept. An asm statement is never deleted.
#pragma once

namespace hearth {

inline void PrefetchL1(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__aarch64__)
  asm volatile("prfm pldl1keep, [%0]" : : "r"(p));
#else
  // Other targets: only a hint, which a prefetch-only loop may lose as above.
  __builtin_prefetch(p, 0, 3);
#endif
}

}  // namespace hearth
