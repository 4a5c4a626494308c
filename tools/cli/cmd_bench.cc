// `hearth bench`: prefill (ppN) and decode (tgN) throughput, as medians over
// repetitions after a warm-up, with the decode's achieved weight-read bandwidth
// against the machine's measured read bandwidth (roofline %).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "args.h"
#include "base/bandwidth.h"
#include "base/cpu_features.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "base/sysinfo.h"
#include "commands.h"
#include "engine_cli.h"

namespace hearth::cli {
namespace {

struct BenchResult {
  std::string test;
  int threads = 0;
  int depth = 0;                // tokens in the context before the timed ones
  std::vector<double> samples;  // tokens per second
  double median = 0, min = 0, max = 0;
  double bandwidth_gbs = 0;  // tg only
  // tg only: the machine's read bandwidth measured before each repetition, and
  // its median (0 when the probe could not run).
  std::vector<double> machine_samples;
  std::vector<std::string> machine_patterns;  // each sample's fastest read pattern
  double machine_gbs = 0;
  int64_t prefetch_bytes = 0;  // the weight prefetch distance decode ended with
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Weight bytes one decode step reads: every matrix once (the embedding only one row).
uint64_t BytesPerToken(const Model& m) {
  uint64_t b = m.weight_bytes();
  const Matrix& emb = m.token_embd();
  b -= emb.row_bytes * static_cast<uint64_t>(emb.n_out);
  b += emb.row_bytes;
  if (m.output().data == emb.data) b += emb.row_bytes * static_cast<uint64_t>(emb.n_out);  // tied
  return b;
}

// Bytes for the read-bandwidth probe: what a decode step reads, at least
// 256 MiB, at most a quarter of the available memory (and no less than 16 MiB).
uint64_t ProbeBytes(uint64_t bytes_per_token) {
  uint64_t want = std::max<uint64_t>(bytes_per_token, uint64_t{256} << 20);
  Result<MemoryInfo> mem = GetMemoryInfo();
  if (mem.ok()) want = std::min(want, mem->EffectiveAvailableBytes() / 4);
  return std::max<uint64_t>(want, uint64_t{16} << 20);
}

// One repetition on a session that is reused (reset) across repetitions, as a
// server reuses its sessions: its threads and their buffers are warm after the
// warm-up run, and a repetition measures only the evaluation. With `depth`,
// that many tokens are evaluated first, untimed (micro-batches of the
// session's batch size), so the timed tokens attend to a filled KV cache.
Result<double> TimeOnce(Session* s, bool prefill, int n, int depth) {
  std::vector<int32_t> tokens(static_cast<size_t>(depth + n));
  const int64_t vocab = static_cast<int64_t>(s->model().hparams().n_vocab);
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = static_cast<int32_t>((static_cast<int64_t>(i) * 7919 + 13) % vocab);
  }
  s->Reset();
  std::vector<float> logits;
  if (depth > 0) {
    HEARTH_RETURN_IF_ERROR(s->Eval(
        std::span<const int32_t>(tokens.data(), static_cast<size_t>(depth)), false, &logits));
  }
  const int32_t* timed = tokens.data() + depth;
  const auto t0 = std::chrono::steady_clock::now();
  if (prefill) {
    HEARTH_RETURN_IF_ERROR(
        s->Eval(std::span<const int32_t>(timed, static_cast<size_t>(n)), false, &logits));
  } else {
    for (int i = 0; i < n; ++i) {
      HEARTH_RETURN_IF_ERROR(s->Eval(std::span<const int32_t>(timed + i, 1), false, &logits));
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return n / secs;
}

// What every JSON line says about the run as a whole.
struct RunInfo {
  std::string model_name;
  const char* load = "mmap";  // mmap, memory or memory-plain
  int repacked_matrices = 0;
  uint64_t weight_bytes = 0;
  uint64_t bytes_per_token = 0;
  uint64_t probe_bytes = 0;
  bool prefetch_tuned = true;
};

void DoubleArray(json::Writer& w, const char* key, const std::vector<double>& values) {
  w.Key(key);
  w.BeginArray();
  for (double v : values) w.Double(v);
  w.EndArray();
}

// One test's --json line.
std::string JsonLine(const BenchResult& r, const RunInfo& run) {
  json::Writer w;
  w.BeginObject();
  w.Key("test"), w.String(r.test);
  w.Key("model"), w.String(run.model_name);
  w.Key("threads"), w.Int(r.threads);
  w.Key("depth"), w.Int(r.depth);
  w.Key("isa"), w.String(kernels::IsaName(kernels::ActiveIsa()));
  w.Key("load"), w.String(run.load);
  w.Key("repacked_matrices"), w.Int(run.repacked_matrices);
  w.Key("tokens_per_second"), w.Double(r.median);
  w.Key("min"), w.Double(r.min);
  w.Key("max"), w.Double(r.max);
  DoubleArray(w, "samples", r.samples);
  w.Key("weight_bytes"), w.Uint(run.weight_bytes);
  if (r.test[0] == 't') {
    w.Key("bytes_per_token"), w.Uint(run.bytes_per_token);
    w.Key("bandwidth_gb_per_s"), w.Double(r.bandwidth_gbs);
    w.Key("machine_bandwidth_gb_per_s"), w.Double(r.machine_gbs);
    DoubleArray(w, "machine_bandwidth_samples", r.machine_samples);
    w.Key("machine_bandwidth_patterns");
    w.BeginArray();
    for (const std::string& p : r.machine_patterns) w.String(p);
    w.EndArray();
    w.Key("machine_bandwidth_buffer_bytes"), w.Uint(run.probe_bytes);
    w.Key("prefetch_bytes"), w.Int(r.prefetch_bytes);
    w.Key("prefetch_tuned"), w.Bool(run.prefetch_tuned);
    w.Key("roofline_percent"),
        w.Double(r.machine_gbs > 0 ? 100 * r.bandwidth_gbs / r.machine_gbs : 0);
  }
  w.EndObject();
  return w.str();
}

}  // namespace

int RunBench(int argc, char** argv) {
  ArgParser p(
      "hearth bench",
      "Measure prefill (ppN: N prompt tokens in one batch) and decode (tgN: N tokens one\n"
      "at a time) throughput from an empty context, or with --depth D after D tokens\n"
      "(ppN@dD, tgN@dD: attention then reads D more positions per token; the roofline\n"
      "still counts weight bytes only). Reports the median over repetitions\n"
      "after one warm-up run (one session per test, reset between runs, as a server reuses\n"
      "its sessions), and for decode the weight-read bandwidth achieved against\n"
      "this machine's read bandwidth, measured as the weights are read: on 4 KiB pages\n"
      "(mapped file) or huge pages (--load memory), over as many bytes as a decode step\n"
      "reads (at least 256 MiB).");
  AddEngineOptions(p, ThreadsOption::kList);
  p.Option("n-prompt", 'p', "N,...", "prefill lengths (0 to skip)", "512");
  p.Option("n-gen", 'n', "N,...", "decode lengths (0 to skip)", "128");
  p.Option("depth", 'd', "N,...",
           "tokens already in the context before each test (evaluated untimed); several "
           "depths are run one after another",
           "0");
  p.Option("thread-list", 0, "N,...", "the same as -t N,...", "physical cores");
  p.Option("repetitions", 'r', "N", "timed repetitions per test", "5");
  p.Flag("json", 0, "one JSON object per line and test");
  p.Flag("md", 0, "a markdown table");
  p.Epilog(
      "Examples:\n  hearth bench -m tinyllama-q4_0.gguf -p 128,512 -n 128 -t 1,2 --json\n"
      "  hearth bench -m tinyllama-q4_0.gguf -p 0 -n 128 -d 0,1024,2048   (decode as the "
      "context fills)");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("bench", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  auto setup = ParseEngineOptions(*args, true, ThreadsOption::kList);
  if (!setup.ok()) return ReportError("bench", setup.status());
  auto pps = args->GetIntList("n-prompt", {512}, 0, 1 << 16);
  if (!pps.ok()) return ReportError("bench", pps.status());
  auto tgs = args->GetIntList("n-gen", {128}, 0, 1 << 16);
  if (!tgs.ok()) return ReportError("bench", tgs.status());
  auto depths = args->GetIntList("depth", {0}, 0, 1 << 16);
  if (!depths.ok()) return ReportError("bench", depths.status());
  auto reps = args->GetInt("repetitions", 5, 1, 1000);
  if (!reps.ok()) return ReportError("bench", reps.status());
  if (args->Has("json") && args->Has("md")) {
    return ReportError(
        "bench", InvalidArgumentError("choose one output format: --json or --md", "cli.usage"));
  }
  if (args->Has("threads") && args->Has("thread-list")) {
    return ReportError("bench", InvalidArgumentError("give the thread counts once: -t N,... or "
                                                     "--thread-list N,... (the same option)",
                                                     "cli.usage"));
  }
  const std::vector<int64_t> default_threads = {std::max(1, GetCpuFeatures().physical_cores)};
  auto thread_list = args->GetIntList(args->Has("thread-list") ? "thread-list" : "threads",
                                      default_threads, 1, 1024);
  if (!thread_list.ok()) return ReportError("bench", thread_list.status());

  auto model = Model::Load(setup->model_path, setup->load);
  if (!model.ok()) return ReportError("bench", model.status());
  const std::string model_name = setup->model_path.substr(setup->model_path.rfind('/') + 1);
  const int max_threads =
      static_cast<int>(*std::max_element(thread_list->begin(), thread_list->end()));
  // The ceiling is measured the way the weights are read: through 4 KiB pages
  // of the mapped file, or huge pages with --load memory, over as many bytes
  // as a decode step reads (at least 256 MiB): a smaller buffer can partly
  // stay in a large last-level cache, which the weights cannot.
  const bool huge = setup->load.in_memory;
  const uint64_t bytes_per_token = BytesPerToken(**model);
  auto probe = ReadBandwidthProbe::Create(max_threads, ProbeBytes(bytes_per_token), huge);
  if (!probe.ok()) {
    std::fprintf(stderr, "bench: no read-bandwidth probe, so no roofline: %s\n",
                 probe.status().ToString().c_str());
  }
  const double machine_bw =
      probe.ok() ? (*probe)->Measure(ReadBandwidthProbe::patterns(), 12, 0.5).gb_per_s : 0.0;
  const uint64_t probe_bytes = probe.ok() ? (*probe)->buffer_bytes() : 0;

  std::vector<BenchResult> results;
  const bool as_json = args->Has("json"), as_md = args->Has("md");
  RunInfo run;
  run.model_name = model_name;
  run.load = !huge ? "mmap" : setup->load.repack ? "memory" : "memory-plain";
  run.repacked_matrices = (*model)->repacked_matrices();
  run.weight_bytes = (*model)->weight_bytes();
  run.bytes_per_token = bytes_per_token;
  run.probe_bytes = probe_bytes;
  run.prefetch_tuned = setup->session.prefetch_bytes == 0;
  for (int64_t threads : *thread_list) {
    for (int pass = 0; pass < 2; ++pass) {
      const bool prefill = pass == 0;
      for (int64_t n : prefill ? *pps : *tgs) {
        if (n == 0) continue;
        for (int64_t depth : *depths) {
          SessionOptions so = setup->session;
          so.n_threads = static_cast<int>(threads);
          so.n_ctx = std::max<int>(static_cast<int>(depth + n) + 16, so.n_ctx);
          if (prefill && !args->Has("batch")) so.n_batch = static_cast<int>(n);
          BenchResult r;
          r.test = (prefill ? "pp" : "tg") + std::to_string(n);
          if (depth > 0) r.test += "@d" + std::to_string(depth);
          r.depth = static_cast<int>(depth);
          r.threads = static_cast<int>(threads);
          auto session = Session::Create(*model, so);
          if (!session.ok()) return ReportError("bench", session.status());
          for (int rep = -1; rep < *reps; ++rep) {
            // Decode: the ceiling measured right before each timed repetition,
            // so that the ratio is taken under the same conditions.
            if (!prefill && rep >= 0 && probe.ok()) {
              const int np = ReadBandwidthProbe::patterns();  // each read pattern once
              const BandwidthResult b = (*probe)->Measure(np, np, 1.0);
              r.machine_samples.push_back(b.gb_per_s);
              r.machine_patterns.push_back(b.best_pattern);
            }
            auto tps = TimeOnce(session->get(), prefill, static_cast<int>(n), r.depth);
            if (!tps.ok()) return ReportError("bench", tps.status());
            if (rep >= 0) r.samples.push_back(*tps);
          }
          r.prefetch_bytes = (*session)->prefetch_bytes();
          r.median = Median(r.samples);
          r.min = *std::min_element(r.samples.begin(), r.samples.end());
          r.max = *std::max_element(r.samples.begin(), r.samples.end());
          r.machine_gbs = Median(r.machine_samples);
          if (!prefill) r.bandwidth_gbs = r.median * static_cast<double>(bytes_per_token) / 1e9;
          if (as_json) {
            std::printf("%s\n", JsonLine(r, run).c_str());
            std::fflush(stdout);
          }
          results.push_back(r);
        }
      }
    }
  }
  if (!as_json) {
    if (as_md) {
      std::printf(
          "| model | test | threads | tok/s (median) | min | max | GB/s | of read bandwidth (GB/s) "
          "|\n"
          "|---|---|---:|---:|---:|---:|---:|---:|\n");
    } else {
      std::printf(
          "model %s (%s weights), %s%s, read bandwidth %.1f GB/s (%s over %s, as the weights "
          "are read)\n",
          model_name.c_str(), HumanBytes((*model)->weight_bytes()).c_str(),
          kernels::IsaName(kernels::ActiveIsa()),
          (*model)->repacked_matrices() > 0
              ? StrFormat(" (%d matrices repacked)", (*model)->repacked_matrices()).c_str()
              : "",
          machine_bw, huge ? "huge pages" : "4 KiB pages", HumanBytes(probe_bytes).c_str());
    }
    for (const BenchResult& r : results) {
      const bool tg = r.test[0] == 't';
      std::string gbs = tg ? StrFormat("%.1f", r.bandwidth_gbs) : "";
      std::string roof =
          tg && r.machine_gbs > 0
              ? StrFormat("%.0f%% of %.1f", 100 * r.bandwidth_gbs / r.machine_gbs, r.machine_gbs)
              : "";
      if (as_md) {
        std::printf("| %s | %s | %d | %.2f | %.2f | %.2f | %s | %s |\n", model_name.c_str(),
                    r.test.c_str(), r.threads, r.median, r.min, r.max, gbs.c_str(), roof.c_str());
      } else {
        std::printf("  %-12s %2d threads  %9.2f tok/s  (min %.2f, max %.2f)%s%s%s\n",
                    r.test.c_str(), r.threads, r.median, r.min, r.max,
                    tg ? ("  " + gbs + " GB/s").c_str() : "",
                    tg && !roof.empty() ? (" = " + roof + " GB/s read bandwidth").c_str() : "",
                    tg ? StrFormat(", prefetch %lld B%s", static_cast<long long>(r.prefetch_bytes),
                                   setup->session.prefetch_bytes == 0 ? " (tuned)" : "")
                             .c_str()
                       : "");
      }
    }
  }
  return kExitOk;
}

}  // namespace hearth::cli
