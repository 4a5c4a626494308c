// Single-thread matvec throughput per weight type and ISA on TinyLlama-sized
// matrices, reported as GB/s of weight bytes read (best call of many); an ISA
// with a repacked layout for the type gets a second line ("/lanes16").
//   kernels_bench [--tok N] [--types Q4_0,Q8_0] [--isa avx512] [--min-ms 300]
// (with --tok N > 1: GMAC/s, since batches are compute-bound)
// With --stream MB: decode-like streaming instead: one n_in = 2048 matrix of
// MB megabytes (4 KiB pages, like a mapped model file, far above the LLC) per
// type, matvec on --threads N threads (rows split evenly), median GB/s of
// --passes passes.
#include <sys/mman.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "format/ggml_types.h"
#include "format/quant_ref.h"
#include "kernels/matmul.h"
#include "kernels/repack.h"

namespace hearth::kernels {
namespace {

struct Shape {
  int64_t n_out, n_in;
};

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Streams one large matrix per type through Matmul (see the top comment).
int Stream(const std::string& types, double mb, int threads, int passes, int n_tok) {
  constexpr int64_t kIn = 2048;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const Isa isa = ActiveIsa();
  std::printf("stream %.0f MB, n_in=%lld, %d thread(s), n_tok=%d, %s; median of %d passes\n", mb,
              static_cast<long long>(kIn), threads, n_tok, IsaName(isa), passes);
  size_t pos = 0;
  while (pos < types.size()) {
    size_t comma = types.find(',', pos);
    if (comma == std::string::npos) comma = types.size();
    const auto type = ParseGgmlType(types.substr(pos, comma - pos));
    pos = comma + 1;
    if (!type) continue;
    const GgmlTypeInfo& info = GetGgmlTypeInfo(*type);
    const size_t row_bytes = static_cast<size_t>(kIn / info.block_size) * info.type_size;
    const int64_t n_out = static_cast<int64_t>(mb * 1e6 / static_cast<double>(row_bytes));
    const size_t total = row_bytes * static_cast<size_t>(n_out);
    void* mem = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 1;
#if defined(MADV_NOHUGEPAGE)
    madvise(mem, total, getenv("HUGE") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
    uint8_t* w = static_cast<uint8_t*>(mem);
    std::vector<float> v(kIn);
    std::vector<uint8_t> rows(row_bytes * 16);
    for (int r = 0; r < 16; ++r) {
      for (float& f : v) f = normal(rng);
      (void)QuantizeRowRef(*type, v.data(), kIn, rows.data() + r * row_bytes);
    }
    for (int64_t r = 0; r < n_out; ++r) {
      std::memcpy(w + r * row_bytes, rows.data() + (r % 16) * row_bytes, row_bytes);
    }
    const size_t xb = ActivationRowBytes(*type, kIn);
    std::vector<uint8_t> x(xb * n_tok);
    for (int t = 0; t < n_tok; ++t) {
      for (float& f : v) f = normal(rng);
      QuantizeActivations(*type, v.data(), kIn, x.data() + t * xb, isa);
    }
    std::vector<float> y(static_cast<size_t>(n_out * n_tok));
    std::vector<double> gbs;
    for (int p = 0; p < passes + 1; ++p) {
      const double s0 = Seconds();
      std::vector<std::thread> th;
      for (int i = 0; i < threads; ++i) {
        th.emplace_back([&, i] {
          MatmulArgs a{*type,
                       w,
                       row_bytes,
                       kIn,
                       x.data(),
                       xb,
                       n_tok,
                       y.data(),
                       n_out,
                       n_out * i / threads,
                       n_out * (i + 1) / threads};
          Matmul(a, isa);
        });
      }
      for (auto& t : th) t.join();
      if (p > 0) gbs.push_back(static_cast<double>(total) / (Seconds() - s0) / 1e9);
    }
    std::printf("%-5s %6.1f GB/s (min %.1f, max %.1f)\n", std::string(info.name).c_str(),
                Median(gbs), *std::min_element(gbs.begin(), gbs.end()),
                *std::max_element(gbs.begin(), gbs.end()));
    std::fflush(stdout);
    munmap(mem, total);
  }
  return 0;
}

int Main(int argc, char** argv) {
  int n_tok = 1;
  double stream_mb = 0;
  int threads = 1, passes = 9;
  double min_s = 0.3;
  std::string types = "F32,F16,BF16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q4_K,Q5_K,Q6_K";
  std::string only_isa;  // empty: every ISA variant the CPU runs
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tok")) n_tok = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--types")) types = argv[i + 1];
    if (!std::strcmp(argv[i], "--isa")) only_isa = argv[i + 1];
    if (!std::strcmp(argv[i], "--min-ms")) min_s = std::atof(argv[i + 1]) / 1000.0;
    if (!std::strcmp(argv[i], "--stream")) stream_mb = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--passes")) passes = std::atoi(argv[i + 1]);
  }
  if (stream_mb > 0) return Stream(types, stream_mb, threads, passes, n_tok);
  const Shape shapes[] = {{2048, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
  Isa isas[8];
  const int n_isa = AvailableIsas(isas);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // Batches (n_tok > 1) are compute-bound: reported as GMAC/s instead.
  const bool macs = n_tok > 1;
  std::printf("n_tok=%d, single thread; %s\n", n_tok,
              macs ? "GMAC/s = n_out * n_in * n_tok / time" : "GB/s = weight bytes / time");
  std::printf("%-5s %-20s %10s %10s %10s %10s\n", "type", "isa", "2048x2048", "5632x2048",
              "2048x5632", "32000x2048");
  size_t pos = 0;
  while (pos < types.size()) {
    size_t comma = types.find(',', pos);
    if (comma == std::string::npos) comma = types.size();
    const auto type = ParseGgmlType(types.substr(pos, comma - pos));
    pos = comma + 1;
    if (!type) continue;
    const GgmlTypeInfo& info = GetGgmlTypeInfo(*type);
    // One weight buffer per shape, filled from one quantized row repeated with
    // variation (quantizing 65M values with the reference takes long).
    std::vector<std::vector<uint8_t>> w(4);
    std::vector<std::vector<uint8_t>> x(4);
    std::vector<size_t> row_bytes(4);
    for (int s = 0; s < 4; ++s) {
      const Shape sh = shapes[s];
      row_bytes[s] = static_cast<size_t>(sh.n_in / info.block_size) * info.type_size;
      w[s].resize(row_bytes[s] * sh.n_out);
      std::vector<float> v(static_cast<size_t>(sh.n_in));
      std::vector<uint8_t> rows(row_bytes[s] * 16);
      for (int r = 0; r < 16; ++r) {
        for (float& f : v) f = normal(rng);
        (void)QuantizeRowRef(*type, v.data(), sh.n_in, rows.data() + r * row_bytes[s]);
      }
      for (int64_t r = 0; r < sh.n_out; ++r) {
        std::memcpy(w[s].data() + r * row_bytes[s], rows.data() + (r % 16) * row_bytes[s],
                    row_bytes[s]);
      }
      const size_t xb = ActivationRowBytes(*type, sh.n_in);
      x[s].resize(xb * n_tok);
      for (int t = 0; t < n_tok; ++t) {
        for (float& f : v) f = normal(rng);
        QuantizeActivations(*type, v.data(), sh.n_in, x[s].data() + t * xb, Isa::kScalar);
      }
    }
    for (int i = 0; i < n_isa; ++i) {
      if (isas[i] == Isa::kScalar) continue;
      if (!only_isa.empty() && only_isa != IsaName(isas[i])) continue;
      // The GGUF layout, then the one this ISA prefers if it is another
      // (weights repacked as `--load memory` does).
      for (WeightLayout layout : {WeightLayout::kGguf, PreferredLayout(*type, isas[i])}) {
        const bool repacked = layout != WeightLayout::kGguf;
        if (repacked && w[0].empty()) continue;
        std::printf("%-5s %-20s", std::string(info.name).c_str(),
                    (std::string(IsaName(isas[i])) + (repacked ? "/lanes16" : "")).c_str());
        for (int s = 0; s < 4; ++s) {
          const Shape sh = shapes[s];
          std::vector<uint8_t> packed;
          if (repacked) {
            packed = w[s];
            RepackRows(*type, layout, packed.data(), sh.n_out, row_bytes[s], sh.n_in);
          }
          std::vector<float> y(static_cast<size_t>(sh.n_out * n_tok));
          MatmulArgs a{*type,        repacked ? packed.data() : w[s].data(),
                       row_bytes[s], sh.n_in,
                       x[s].data(),  ActivationRowBytes(*type, sh.n_in),
                       n_tok,        y.data(),
                       sh.n_out,     0,
                       sh.n_out,     layout};
          Matmul(a, isas[i]);  // warm-up
          // Best (minimum) time of one call over >= min_s of calls: robust to
          // other load on a shared machine.
          double best = 1e30;
          const double t0 = Seconds();
          for (int iters = 0; iters < 3 || Seconds() - t0 < min_s; ++iters) {
            const double s0 = Seconds();
            Matmul(a, isas[i]);
            best = std::min(best, Seconds() - s0);
          }
          const double work = macs ? static_cast<double>(sh.n_out) * sh.n_in * n_tok
                                   : static_cast<double>(w[s].size());
          std::printf(" %10.1f", work / best / 1e9);
          std::fflush(stdout);
        }
        std::printf("\n");
        if (!repacked && PreferredLayout(*type, isas[i]) == WeightLayout::kGguf) break;
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace hearth::kernels

int main(int argc, char** argv) {
  return hearth::kernels::Main(argc, argv);
}
