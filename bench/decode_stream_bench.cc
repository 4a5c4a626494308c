// How close a decode's matrix products come to the machine's read bandwidth,
// apart from everything else a decode step does (norms, attention). The
// model's matrices in decode order (per layer q, k, v | o | gate, up | down,
// then the output), each split evenly between the threads, which meet at a
// barrier after each group, are run as variants:
//   kernels@D  Matmul on one prepared row, as a decode step runs it, with the
//              weight prefetch distance D (SetWeightPrefetchBytes);
//   loads      the same bytes read as the probe reads (ReadAsStreams): each
//              thread's share as four streams side by side, no software
//              prefetch (the probe's fastest pattern on a Zen 5 VM);
//   loads1     the same as one stream of the widest loads, prefetch 1 KiB
//              ahead (its fastest on an AMX Xeon VM): with `loads`, the
//              ceiling for this sequence of products and barriers.
// Each round measures the read-bandwidth probe over as many bytes, then runs
// the variants token by token in turn (token k runs variant (k + round) mod
// n, `--tokens` of each), so a variant and the next are never more than a
// token (~10 ms) apart and the machine's drift cancels in their ratio; thread
// 0 times each token. Prints each variant's share of the probe per round, the
// medians, and each variant's median ratio to the first one's in the same
// round. Needs memory for the model and as much again for the probe's buffer.
//   decode_stream_bench MODEL [--tokens 10] [--rounds 5] [--threads 2]
//                             [--prefetch 2048,6144]
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/bandwidth.h"
#include "base/spin_barrier.h"
#include "kernels/matmul.h"
#include "model/model.h"

namespace hearth {
namespace {

struct Product {
  const Matrix* w;
  std::vector<uint8_t> x;  // one prepared row
};
using Group = std::vector<Product>;

std::atomic<uint64_t> g_sink{0};

// Streams per thread of the plain-load variant.
constexpr int kLoadStreams = 4;

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Usage() {
  std::fprintf(stderr,
               "usage: decode_stream_bench MODEL [--tokens N (1-1000, default 10)] "
               "[--rounds N (1-100, default 5)] [--threads N (1-64, default 2)] "
               "[--prefetch BYTES,... (64-65536 each, default: this CPU's)]\n");
  return 2;
}

// s as an integer in [lo, hi] into *out, or false.
bool ParseInt(const char* s, int lo, int hi, int* out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

// A comma-separated list of integers in [lo, hi] (at most 8) into *out.
bool ParseList(const char* s, int lo, int hi, std::vector<int64_t>* out) {
  std::string item;
  for (const char* c = s;; ++c) {
    if (*c == ',' || *c == '\0') {
      int v = 0;
      if (!ParseInt(item.c_str(), lo, hi, &v) || out->size() >= 8) return false;
      out->push_back(v);
      item.clear();
      if (*c == '\0') return true;
    } else {
      item += *c;
    }
  }
}

int Main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return Usage();
  int tokens = 10, rounds = 5, threads = 2;
  std::vector<int64_t> dists;
  for (int i = 2; i < argc; i += 2) {
    if (!std::strcmp(argv[i], "--prefetch")) {
      if (i + 1 >= argc || !ParseList(argv[i + 1], 64, 65536, &dists)) {
        std::fprintf(stderr, "decode_stream_bench: bad argument '%s'\n", argv[i]);
        return Usage();
      }
      continue;
    }
    int* v = nullptr;
    int hi = 0;
    if (!std::strcmp(argv[i], "--tokens")) v = &tokens, hi = 1000;
    if (!std::strcmp(argv[i], "--rounds")) v = &rounds, hi = 100;
    if (!std::strcmp(argv[i], "--threads")) v = &threads, hi = 64;
    if (v == nullptr || i + 1 >= argc || !ParseInt(argv[i + 1], 1, hi, v)) {
      std::fprintf(stderr, "decode_stream_bench: bad argument '%s'\n", argv[i]);
      return Usage();
    }
  }
  ModelLoadOptions load;
  load.in_memory = true;  // huge pages, as `hearth bench --load memory`
  auto model = Model::Load(argv[1], load);
  if (!model.ok()) {
    std::fprintf(stderr, "decode_stream_bench: %s\n", model.status().ToString().c_str());
    return 1;
  }
  const Model& m = **model;
  const kernels::Isa isa = kernels::ActiveIsa();
  int64_t max_in = m.output().n_in;
  for (const LayerWeights& L : m.layers()) {
    for (const Matrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
      max_in = std::max(max_in, w->n_in);
    }
  }
  std::vector<float> in(static_cast<size_t>(max_in));
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * 7919) % 255) / 127.0f - 1;
  auto product = [&](const Matrix& w) {
    Product p{&w, std::vector<uint8_t>(kernels::ActivationRowBytes(w.type, w.n_in))};
    kernels::QuantizeActivations(w.type, in.data(), w.n_in, p.x.data(), isa);
    return p;
  };
  std::vector<Group> groups;
  uint64_t bytes = 0;
  int64_t max_out = 0;
  for (const LayerWeights& L : m.layers()) {
    groups.push_back({product(L.wq), product(L.wk), product(L.wv)});
    groups.push_back({product(L.wo)});
    groups.push_back({product(L.w_gate), product(L.w_up)});
    groups.push_back({product(L.w_down)});
  }
  groups.push_back({product(m.output())});
  for (const Group& g : groups) {
    for (const Product& p : g) {
      bytes += p.w->row_bytes * static_cast<uint64_t>(p.w->n_out);
      max_out = std::max(max_out, p.w->n_out);
    }
  }
  auto probe = ReadBandwidthProbe::Create(threads, bytes, /*huge_pages=*/true);
  if (!probe.ok()) {
    std::fprintf(stderr, "decode_stream_bench: %s\n", probe.status().ToString().c_str());
    return 1;
  }
  std::vector<float> y(static_cast<size_t>(max_out) * threads);
  if (dists.empty()) dists.push_back(kernels::WeightPrefetchBytes());
  // Variants 0 .. nk - 1: the kernels at dists[v]; nk and nk + 1: the plain
  // loads as four streams, as one.
  const int nk = static_cast<int>(dists.size()), nv = nk + 2;
  // One pass: tokens * nv tokens, token k running variant (k + shift) % nv;
  // adds each token's seconds (thread 0's clock, barrier to barrier) to secs[v].
  auto pass = [&](int shift, std::vector<double>* secs) {
    SpinBarrier barrier(threads);
    auto run = [&](int t) {
      uint64_t acc = 0;
      for (int k = 0; k < tokens * nv; ++k) {
        const int v = (k + shift) % nv;
        // Global: every thread sets the same value after the same barrier.
        if (v < nk) kernels::SetWeightPrefetchBytes(dists[v]);
        const double t0 = Seconds();
        for (const Group& g : groups) {
          for (const Product& p : g) {
            const Matrix& w = *p.w;
            const int64_t lo = w.n_out * t / threads, hi = w.n_out * (t + 1) / threads;
            if (v < nk) {
              const kernels::MatmulArgs a{
                  w.type,     w.data,     w.row_bytes, w.n_in,
                  p.x.data(), p.x.size(), 1,           y.data() + max_out * t,
                  w.n_out,    lo,         hi,          w.layout};
              kernels::Matmul(a, isa);
            } else if (v == nk) {
              acc += ReadAsStreams(w.data + lo * w.row_bytes, (hi - lo) * w.row_bytes, kLoadStreams,
                                   0);
            } else {
              acc += ReadAsStreams(w.data + lo * w.row_bytes, (hi - lo) * w.row_bytes, 1, 1024, 64);
            }
          }
          barrier.Wait();
        }
        if (t == 0) (*secs)[v] += Seconds() - t0;
      }
      g_sink.fetch_add(acc, std::memory_order_relaxed);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
    run(0);
    for (std::thread& th : pool) th.join();
  };
  auto name = [&](int v) {
    return v < nk ? "kernels@" + std::to_string(dists[v])
                  : std::string(v == nk ? "loads" : "loads1");
  };
  std::printf("%s: %.0f MiB of weights, %d thread(s), %s, %d token(s) per variant and round\n",
              argv[1], static_cast<double>(bytes) / (1 << 20), threads, kernels::IsaName(isa),
              tokens);
  std::vector<double> warm(nv, 0.0);
  pass(0, &warm);  // warm-up: page-in, first-touch of scratch
  std::vector<std::vector<double>> ratio(nv);
  std::vector<double> probes;
  for (int r = 0; r < rounds; ++r) {
    const int n = ReadBandwidthProbe::patterns();
    const double bw = (*probe)->Measure(n, n, 1.0).gb_per_s;
    probes.push_back(bw);
    std::vector<double> secs(nv, 0.0);
    pass(r % nv, &secs);
    std::printf("round %d (probe %.1f GB/s):", r + 1, bw);
    for (int v = 0; v < nv; ++v) {
      const double gbs = static_cast<double>(bytes) * tokens / secs[v] / 1e9;
      ratio[v].push_back(gbs / bw);
      std::printf(" %s %.2f GB/s (%.1f%%)", name(v).c_str(), gbs, 100 * ratio[v].back());
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  kernels::SetWeightPrefetchBytes(0);
  std::printf("median of %d rounds, %% of the probe (%.1f GB/s):", rounds, Median(probes));
  for (int v = 0; v < nv; ++v) {
    std::vector<double> paired;
    for (int r = 0; r < rounds; ++r) paired.push_back(ratio[v][r] / ratio[0][r]);
    std::printf(" %s %.1f%%", name(v).c_str(), 100 * Median(ratio[v]));
    if (v > 0) std::printf(" (x%.3f paired)", Median(paired));
    std::printf(v + 1 < nv ? "," : "\n");
  }
  return 0;
}

}  // namespace
}  // namespace hearth

int main(int argc, char** argv) {
  return hearth::Main(argc, argv);
}
