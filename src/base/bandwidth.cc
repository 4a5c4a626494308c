#include "base/bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "base/cpu_features.h"
#include "base/strings.h"
#include "base/sysinfo.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>  // so is NEON on AArch64
#endif

namespace hearth {
namespace {

// How a pass reads each thread's part: cut into `streams` equal pieces read
// side by side, 128 bytes of each in turn, with software prefetch `ahead`
// bytes ahead (0: none), with 16-byte loads or (`wide`) the widest vector
// loads the CPU has (64 bytes with AVX-512, 32 with AVX2; 16 otherwise).
struct Pattern {
  int streams;
  size_t ahead;
  bool wide;
};
// Machines differ in which pattern reads fastest, so passes rotate through
// these and the best pass counts. On 4 KiB pages a single stream under-reads
// (31 vs 34 GB/s on a Xeon, where two streams with prefetch 2 KiB ahead read
// fastest); on an AMD Zen 5 VM four streams without prefetch read 72-74 GB/s
// where two read 64-66 (and eight 68-70). On a 2-core AMX Xeon VM with huge
// pages, one stream of 64-byte loads 1 KiB ahead read 35-37 GB/s where the
// 16-byte patterns read 33-35 at best.
constexpr Pattern kPatternList[] = {{2, 2048, false}, {4, 0, false},    {2, 0, false},
                                    {4, 2048, false}, {2, 6144, false}, {1, 1024, true},
                                    {2, 1024, true},  {4, 0, true}};
constexpr int kPatterns = sizeof(kPatternList) / sizeof(kPatternList[0]);

// Loads of 16 bytes: SSE2 and NEON are part of the x86-64 and AArch64 baselines.
namespace narrow {
struct Loads {
#if defined(__x86_64__)
  using V = __m128i;
  static V Zero() {
    return _mm_setzero_si128();
  }
  // The 64 bytes at x or'ed together, added into a.
  static V Add64(V a, const uint8_t* x) {
    const __m128i* v = reinterpret_cast<const __m128i*>(x);
    return _mm_add_epi64(
        a, _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                        _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3))));
  }
  static uint64_t Fold(V a) {
    return static_cast<uint64_t>(_mm_cvtsi128_si64(a)) ^
           static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a)));
  }
  static void Prefetch(const uint8_t* x) {
    _mm_prefetch(reinterpret_cast<const char*>(x), _MM_HINT_T0);
  }
#elif defined(__aarch64__)
  using V = uint64x2_t;
  static V Zero() {
    return vdupq_n_u64(0);
  }
  static V Add64(V a, const uint8_t* x) {
    const uint64_t* v = reinterpret_cast<const uint64_t*>(x);
    return vaddq_u64(a, vorrq_u64(vorrq_u64(vld1q_u64(v), vld1q_u64(v + 2)),
                                  vorrq_u64(vld1q_u64(v + 4), vld1q_u64(v + 6))));
  }
  static uint64_t Fold(V a) {
    return vgetq_lane_u64(a, 0) ^ vgetq_lane_u64(a, 1);
  }
  static void Prefetch(const uint8_t* x) {
    __builtin_prefetch(x);
  }
#else
  using V = uint64_t;
  static V Zero() {
    return 0;
  }
  static V Add64(V a, const uint8_t* x) {
    uint64_t v[8];
    std::memcpy(v, x, sizeof(v));
    for (int i = 0; i < 8; ++i) a += v[i];
    return a;
  }
  static uint64_t Fold(V a) {
    return a;
  }
  static void Prefetch(const uint8_t*) {}
#endif
};
#define HEARTH_READ_TARGET
#include "base/bandwidth_read.inc"
#undef HEARTH_READ_TARGET
}  // namespace narrow

#if defined(__x86_64__)
// Loads of 32 bytes (AVX2) and 64 bytes (AVX-512): these functions alone are
// compiled for those ISAs (target attributes), and run only when the CPU has them.
namespace wide32 {
#define HEARTH_READ_TARGET __attribute__((target("avx2")))
struct Loads {
  using V = __m256i;
  HEARTH_READ_TARGET static V Zero() { return _mm256_setzero_si256(); }
  HEARTH_READ_TARGET static V Add64(V a, const uint8_t* x) {
    const __m256i* v = reinterpret_cast<const __m256i*>(x);
    return _mm256_add_epi64(a, _mm256_or_si256(_mm256_loadu_si256(v), _mm256_loadu_si256(v + 1)));
  }
  HEARTH_READ_TARGET static uint64_t Fold(V a) {
    alignas(32) uint64_t v[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(v), a);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
  }
  static void Prefetch(const uint8_t* x) { narrow::Loads::Prefetch(x); }
};
#include "base/bandwidth_read.inc"
#undef HEARTH_READ_TARGET
}  // namespace wide32

namespace wide64 {
#define HEARTH_READ_TARGET __attribute__((target("avx512f")))
struct Loads {
  using V = __m512i;
  HEARTH_READ_TARGET static V Zero() { return _mm512_setzero_si512(); }
  HEARTH_READ_TARGET static V Add64(V a, const uint8_t* x) {
    return _mm512_add_epi64(a, _mm512_loadu_si512(x));
  }
  HEARTH_READ_TARGET static uint64_t Fold(V a) {
    alignas(64) uint64_t v[8];
    _mm512_store_si512(v, a);
    return v[0] ^ v[1] ^ v[2] ^ v[3] ^ v[4] ^ v[5] ^ v[6] ^ v[7];
  }
  static void Prefetch(const uint8_t* x) { narrow::Loads::Prefetch(x); }
};
#include "base/bandwidth_read.inc"
#undef HEARTH_READ_TARGET
}  // namespace wide64

// The widest loads this CPU has: 64, 32 or 16 bytes.
int WideLoadBytes() {
  static const int bytes = [] {
    const CpuFeatures& f = GetCpuFeatures();
    return f.avx512f ? 64 : f.avx2 ? 32 : 16;
  }();
  return bytes;
}
#endif

using ReadFn = uint64_t (*)(const uint8_t*, size_t, size_t);
// read1, read2 or read4 (one, two or four streams) of [p, p + n).
uint64_t ReadWith(ReadFn read1, ReadFn read2, ReadFn read4, const uint8_t* p, size_t n, int streams,
                  size_t ahead) {
  return streams == 1 ? read1(p, n, ahead) : streams == 2 ? read2(p, n, ahead) : read4(p, n, ahead);
}

// [p, p + n) read as `streams` streams with loads of `load_bytes` (16, 32 or
// 64; no wider than WideLoadBytes()).
uint64_t ReadWidth(const uint8_t* p, size_t n, int streams, size_t ahead, int load_bytes) {
#if defined(__x86_64__)
  load_bytes = std::min(load_bytes, WideLoadBytes());
  if (load_bytes == 64) {
    return ReadWith(wide64::ReadStreams<1>, wide64::ReadStreams<2>, wide64::ReadStreams<4>, p, n,
                    streams, ahead);
  }
  if (load_bytes == 32) {
    return ReadWith(wide32::ReadStreams<1>, wide32::ReadStreams<2>, wide32::ReadStreams<4>, p, n,
                    streams, ahead);
  }
#else
  (void)load_bytes;
#endif
  return ReadWith(narrow::ReadStreams<1>, narrow::ReadStreams<2>, narrow::ReadStreams<4>, p, n,
                  streams, ahead);
}

int LoadBytes(Pattern pat) {
#if defined(__x86_64__)
  return pat.wide ? WideLoadBytes() : 16;
#else
  (void)pat;
  return 16;
#endif
}

uint64_t ReadChunk(const uint8_t* p, size_t n, Pattern pat) {
  return ReadWidth(p, n, pat.streams, pat.ahead, LoadBytes(pat));
}

std::string PatternName(Pattern pat) {
  std::string s = StrFormat("%d stream%s per thread, %d-byte loads, ", pat.streams,
                            pat.streams > 1 ? "s" : "", LoadBytes(pat));
  if (pat.ahead == 0) return s + "no prefetch";
  return s + StrFormat("prefetch %zu B ahead", pat.ahead);
}

// Where readers leave their sums: a global the compiler must assume is observed.
std::atomic<uint64_t> g_bandwidth_sink{0};

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

uint64_t ReadAsStreams(const uint8_t* p, size_t n, int streams, size_t ahead, int load_bytes) {
  const int s = streams == 4 ? 4 : streams == 1 ? 1 : 2;
  const size_t whole = n / (128 * s) * (128 * s);
  uint64_t r = ReadWidth(p, whole, s, ahead, load_bytes);
  for (size_t i = whole; i < n; ++i) r += p[i];
  return r;
}

int ReadBandwidthProbe::patterns() {
  return kPatterns;
}

Result<std::unique_ptr<ReadBandwidthProbe>> ReadBandwidthProbe::Create(int threads,
                                                                       uint64_t buffer_bytes,
                                                                       bool huge_pages) {
  if (threads < 1 || threads > 1024) {
    return InvalidArgumentError(StrFormat("bandwidth threads must be 1..1024, got %d", threads));
  }
  // Whole pages per thread, so each thread can first-touch its own part.
  const uint64_t chunk = buffer_bytes / static_cast<uint64_t>(threads) / 4096 * 4096;
  if (chunk == 0) return InvalidArgumentError("bandwidth buffer smaller than a page per thread");
  const uint64_t total = chunk * static_cast<uint64_t>(threads);
  void* mem = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    return ErrnoError(StrFormat("allocating %s for the bandwidth test", HumanBytes(total).c_str()),
                      errno);
  }
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
  // Huge pages: fewer faults and TLB misses (a hint only). Without them the
  // buffer reads like a memory-mapped model file, which uses 4 KiB pages.
  madvise(mem, total, huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
  uint8_t* base = static_cast<uint8_t*>(mem);
  // Real pages, not the shared zero page, each written by its reader.
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back([=] { std::memset(base + chunk * t, 0x5A + t, chunk); });
  }
  std::memset(base, 0x5A, chunk);
  for (std::thread& th : pool) th.join();
  return std::unique_ptr<ReadBandwidthProbe>(new ReadBandwidthProbe(threads, chunk, base));
}

ReadBandwidthProbe::~ReadBandwidthProbe() {
  munmap(base_, buffer_bytes());
}

BandwidthResult ReadBandwidthProbe::Measure(int min_passes, int max_passes, double max_seconds,
                                            double spent_seconds) const {
  const auto t0 = std::chrono::steady_clock::now();
  min_passes = std::max(1, min_passes);
  max_passes = std::max(min_passes, max_passes);
  // Pass control runs in the barrier's completion step (one thread, all others
  // waiting): even phases open a pass or stop, odd phases close and time it.
  int phase = 0, passes = 0;
  double best = 0, last = 0;
  bool stop = false;
  Pattern pattern = kPatternList[0];  // pass k reads with kPatternList[k % kPatterns]
  Pattern best_pattern = pattern;
  std::chrono::steady_clock::time_point pass_start;
  auto on_phase = [&]() noexcept {
    if (phase++ % 2 == 0) {
      const double projected = spent_seconds + SecondsSince(t0) + last;
      stop = passes >= max_passes || (passes >= min_passes && projected > max_seconds) ||
             (passes >= 1 && projected > 2 * max_seconds);
      pattern = kPatternList[passes % kPatterns];
      pass_start = std::chrono::steady_clock::now();
    } else {
      last = SecondsSince(pass_start);
      if (passes++ == 0 || last < best) best = last, best_pattern = pattern;
    }
  };
  std::barrier sync(threads_, on_phase);
  auto worker = [&](int t) {
    const uint8_t* p = base_ + chunk_ * static_cast<uint64_t>(t);
    uint64_t acc = 0;
    for (;;) {
      sync.arrive_and_wait();
      if (stop) break;
      acc += ReadChunk(p, chunk_, pattern);
      sync.arrive_and_wait();
    }
    g_bandwidth_sink.fetch_xor(acc, std::memory_order_relaxed);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads_; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (std::thread& th : pool) th.join();

  BandwidthResult r;
  r.threads = threads_;
  r.buffer_bytes = buffer_bytes();
  r.passes = passes;
  r.gb_per_s = best > 0 ? static_cast<double>(r.buffer_bytes) / best / 1e9 : 0;
  if (passes > 0) r.best_pattern = PatternName(best_pattern);
  r.elapsed_ms = (spent_seconds + SecondsSince(t0)) * 1e3;
  return r;
}

Result<BandwidthResult> MeasureReadBandwidth(int threads, double max_seconds, uint64_t buffer_bytes,
                                             bool huge_pages) {
  const auto t0 = std::chrono::steady_clock::now();
  if (buffer_bytes == 0) {
    buffer_bytes = uint64_t{256} << 20;  // far above the LLC of devices we target
    Result<MemoryInfo> mem = GetMemoryInfo();
    if (mem.ok()) buffer_bytes = std::min(buffer_bytes, mem->EffectiveAvailableBytes() / 4);
    buffer_bytes = std::max(buffer_bytes, uint64_t{16} << 20);
  }
  auto probe = ReadBandwidthProbe::Create(threads, buffer_bytes, huge_pages);
  if (!probe.ok()) return probe.status();
  // Every read pattern once, and at least 3 passes, when affordable: the first
  // pass after a slow first touch (e.g. a VM backing fresh pages) is often
  // disturbed.
  return (*probe)->Measure(std::max(3, kPatterns), 12, max_seconds, SecondsSince(t0));
}

double MeasureReadBandwidthGBs(int threads, double max_seconds) {
  Result<BandwidthResult> r = MeasureReadBandwidth(threads, max_seconds);
  return r.ok() ? r->gb_per_s : 0.0;
}

}  // namespace hearth
