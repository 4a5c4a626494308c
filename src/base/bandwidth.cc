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
// bytes ahead (0: none), with vector loads of `load_bytes` (16, or 64: the
// widest the CPU has, UsableLoadBytes).
struct Pattern {
  int streams;
  size_t ahead;
  int load_bytes;
};
// Machines differ in which pattern reads fastest, so passes rotate through
// these and the best pass counts. On 4 KiB pages a single stream under-reads
// (31 vs 34 GB/s on a Xeon, where two streams with prefetch 2 KiB ahead read
// fastest); on an AMD Zen 5 VM four streams without prefetch read 72-74 GB/s
// where two read 64-66 (and eight 68-70). On a 2-core AMX Xeon VM with huge
// pages, one stream of 64-byte loads 1 KiB ahead read 35-37 GB/s where the
// 16-byte patterns read 33-35 at best.
constexpr Pattern kPatternList[] = {{2, 2048, 16}, {4, 0, 16},    {2, 0, 16},    {4, 2048, 16},
                                    {2, 6144, 16}, {1, 1024, 64}, {2, 1024, 64}, {4, 0, 64}};
constexpr int kPatterns = sizeof(kPatternList) / sizeof(kPatternList[0]);

// One cache line into L1 (the readers' software prefetch).
inline void PrefetchLine(const uint8_t* x) {
#if defined(__x86_64__)
  _mm_prefetch(reinterpret_cast<const char*>(x), _MM_HINT_T0);
#elif defined(__aarch64__)
  __builtin_prefetch(x);
#else
  (void)x;
#endif
}

// Each namespace below defines `Loads`: the vector type V and Add64(acc, p),
// the 64 bytes at p folded into acc; bandwidth_read.inc adds the read loop.
// Loads of 16 bytes: SSE2 and NEON are part of the x86-64 and AArch64 baselines.
namespace narrow {
struct Loads {
#if defined(__x86_64__)
  using V = __m128i;
  static V Add64(V a, const uint8_t* x) {
    const __m128i* v = reinterpret_cast<const __m128i*>(x);
    return _mm_add_epi64(
        a, _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                        _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3))));
  }
#elif defined(__aarch64__)
  using V = uint64x2_t;
  static V Add64(V a, const uint8_t* x) {
    const uint64_t* v = reinterpret_cast<const uint64_t*>(x);
    return vaddq_u64(a, vorrq_u64(vorrq_u64(vld1q_u64(v), vld1q_u64(v + 2)),
                                  vorrq_u64(vld1q_u64(v + 4), vld1q_u64(v + 6))));
  }
#else
  using V = uint64_t;
  static V Add64(V a, const uint8_t* x) {
    uint64_t v[8];
    std::memcpy(v, x, sizeof(v));
    for (int i = 0; i < 8; ++i) a += v[i];
    return a;
  }
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
  HEARTH_READ_TARGET static V Add64(V a, const uint8_t* x) {
    const __m256i* v = reinterpret_cast<const __m256i*>(x);
    return _mm256_add_epi64(a, _mm256_or_si256(_mm256_loadu_si256(v), _mm256_loadu_si256(v + 1)));
  }
};
#include "base/bandwidth_read.inc"
#undef HEARTH_READ_TARGET
}  // namespace wide32

namespace wide64 {
#define HEARTH_READ_TARGET __attribute__((target("avx512f")))
struct Loads {
  using V = __m512i;
  HEARTH_READ_TARGET static V Add64(V a, const uint8_t* x) {
    return _mm512_add_epi64(a, _mm512_loadu_si512(x));
  }
};
#include "base/bandwidth_read.inc"
#undef HEARTH_READ_TARGET
}  // namespace wide64
#endif

// `want` (16, 32 or 64) capped at the widest loads this CPU has.
int UsableLoadBytes(int want) {
#if defined(__x86_64__)
  static const int widest = [] {
    const CpuFeatures& f = GetCpuFeatures();
    return f.avx512f ? 64 : f.avx2 ? 32 : 16;
  }();
  return std::min(want, widest);
#else
  (void)want;
  return 16;
#endif
}

// [p, p + n) read as `streams` (1, 2 or 4) streams with loads of
// UsableLoadBytes(load_bytes).
uint64_t ReadWidth(const uint8_t* p, size_t n, int streams, size_t ahead, int load_bytes) {
  using ReadFn = uint64_t (*)(const uint8_t*, size_t, size_t);
  // Each width's readers of one, two and four streams.
  static constexpr ReadFn kNarrow[] = {narrow::ReadStreams<1>, narrow::ReadStreams<2>,
                                       narrow::ReadStreams<4>};
  const ReadFn* by_streams = kNarrow;
#if defined(__x86_64__)
  static constexpr ReadFn kWide32[] = {wide32::ReadStreams<1>, wide32::ReadStreams<2>,
                                       wide32::ReadStreams<4>};
  static constexpr ReadFn kWide64[] = {wide64::ReadStreams<1>, wide64::ReadStreams<2>,
                                       wide64::ReadStreams<4>};
  const int bytes = UsableLoadBytes(load_bytes);
  if (bytes == 64) by_streams = kWide64;
  if (bytes == 32) by_streams = kWide32;
#else
  (void)load_bytes;
#endif
  return by_streams[streams == 1 ? 0 : streams == 2 ? 1 : 2](p, n, ahead);
}

std::string PatternName(Pattern pat) {
  std::string s = StrFormat("%d stream%s per thread, %d-byte loads, ", pat.streams,
                            pat.streams > 1 ? "s" : "", UsableLoadBytes(pat.load_bytes));
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
      acc += ReadWidth(p, chunk_, pattern.streams, pattern.ahead, pattern.load_bytes);
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
