// Software prefetch of the weights an x86 kernel streams (decode reads every
// weight once, so how many cache lines are in flight sets its speed).
//
// Two parts, both per step of `Bytes` bytes a kernel advances through a row:
//   near   the lines of [p + ahead, p + ahead + Bytes) into L1 (ahead:
//          PrefetchAhead(), tuned while decoding);
//   prime  when p has just entered a 4 KiB page, the first two lines of the
//          next page into L2. The hardware's stream prefetcher stops at each
//          4 KiB page and starts again only after the first misses in the next
//          one; two early requests there start it a page ahead. On the 2-core
//          AMX Xeon VM a computing loop over four row streams read 4% faster
//          with it (96% of plain loads), 8 or 16 KiB ahead instead was slower
//          than none; decode (tg128, two threads, alternating runs) gained
//          Q4_0 x1.019, Q4_K_M x1.014, F16 x1.030, Q8_0 x1.005 with
//          AVX-512, x1.02-1.12 with AVX2 (docs/engine.md).
// Prefetches never change a result, only the time.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace hearth::kernels {

// Near and prime, for a step of `Bytes` (<= 4096, so no page is skipped) bytes at p.
template <int64_t Bytes>
inline void PrefetchWeights(const void* p, int64_t ahead) {
  static_assert(Bytes > 0 && Bytes <= 4096, "a step must not skip a page");
  const char* c = static_cast<const char*>(p);
  for (int64_t o = 0; o < Bytes; o += 64) _mm_prefetch(c + ahead + o, _MM_HINT_T0);
  const uintptr_t u = reinterpret_cast<uintptr_t>(c);
  if ((u & 4095) < static_cast<uintptr_t>(Bytes)) {
    const char* next = reinterpret_cast<const char*>((u & ~uintptr_t{4095}) + 4096);
    _mm_prefetch(next, _MM_HINT_T1);
    _mm_prefetch(next + 64, _MM_HINT_T1);
  }
}

}  // namespace hearth::kernels
