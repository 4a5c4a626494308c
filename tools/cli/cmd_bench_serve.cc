// `hearth bench-serve`: aggregate decode throughput of the server's
// continuous-batching scheduler with 1, 2, 4 ... concurrent streams.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "args.h"
#include "base/json.h"
#include "base/strings.h"
#include "commands.h"
#include "engine_cli.h"
#include "model/model.h"
#include "model/vocab_gguf.h"
#include "server/scheduler.h"

namespace hearth::cli {
namespace {

// One run: `streams` requests submitted together, each generating n tokens.
// Returns the aggregate decode rate: every stream's tokens after its first,
// over the time from the first token of the last stream to start decoding
// until the last stream ends (prefill, done for all in the first steps, is
// not counted).
Result<double> RunOnce(server::Scheduler& s, const std::vector<int32_t>& prompt, int streams,
                       int n) {
  std::vector<std::shared_ptr<server::GenStream>> live;
  for (int i = 0; i < streams; ++i) {
    server::GenRequest r;
    r.prompt = prompt;
    r.prompt.back() = static_cast<int32_t>((prompt.back() + i) % 200 + 10);  // distinct prompts
    r.sampling.temperature = 0;
    r.max_tokens = n;
    r.ignore_eos = true;
    HEARTH_ASSIGN_OR_RETURN(std::shared_ptr<server::GenStream> st, s.Submit(std::move(r)));
    live.push_back(st);
  }
  int64_t tokens = 0;
  double start_ms = 0, end_ms = 0;  // since each request's submission (all submitted at once)
  for (auto& st : live) {
    for (;;) {
      server::GenStream::Chunk c = st->Take(1000);
      if (!c.done) continue;
      if (!c.result.error.ok()) return c.result.error;
      tokens += c.result.completion_tokens - 1;
      start_ms = std::max(start_ms, c.result.ttft_ms);
      end_ms = std::max(end_ms, c.result.ttft_ms + c.result.decode_ms);
      break;
    }
  }
  if (end_ms <= start_ms) return InternalError("no decode time measured");
  return static_cast<double>(tokens) / ((end_ms - start_ms) / 1e3);
}

}  // namespace

int RunBenchServe(int argc, char** argv) {
  ArgParser p("hearth bench-serve",
              "Aggregate decode throughput of the server's scheduler (continuous batching) with\n"
              "several concurrent streams: each stream has a 16-token prompt and generates -n\n"
              "tokens; the streams decode together in shared forward passes. Median over\n"
              "repetitions after a warm-up, and the speed-up over one stream.");
  p.Option("model", 'm', "MODEL.gguf", "the model");
  p.Option("streams", 's', "N,...", "concurrent streams", "1,2,4");
  p.Option("n-gen", 'n', "N", "tokens per stream", "128");
  p.Option("repetitions", 'r', "N", "timed repetitions", "3");
  p.Option("threads", 't', "N", "compute threads", "physical cores");
  p.Option("ctx", 0, "N", "context per stream", "512");
  p.Option("load", 0, "MODE", "mmap, memory or memory-plain (see hearth run --help)", "mmap");
  p.Flag("json", 0, "one JSON object per line");
  auto a = p.Parse(argc, argv);
  if (!a.ok()) return ReportError("bench-serve", a.status());
  if (a->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  if (!a->Has("model"))
    return ReportError("bench-serve", InvalidArgumentError("-m MODEL is required", "cli.usage"));
  auto streams = a->GetIntList("streams", {1, 2, 4}, 1, 64);
  auto n = a->GetInt("n-gen", 128, 1, 1 << 16);
  auto reps = a->GetInt("repetitions", 3, 1, 100);
  auto threads = a->GetInt("threads", 0, 0, 1024);
  auto ctx = a->GetInt("ctx", 512, 32, 1 << 20);
  for (const Status& s :
       {streams.status(), n.status(), reps.status(), threads.status(), ctx.status()})
    if (!s.ok()) return ReportError("bench-serve", s);
  auto load = ParseLoadOption(*a);
  if (!load.ok()) return ReportError("bench-serve", load.status());
  auto model = Model::Load(a->Get("model"), *load);
  if (!model.ok()) return ReportError("bench-serve", model.status());
  auto tokenizer = LoadTokenizer((*model)->file());
  if (!tokenizer.ok()) return ReportError("bench-serve", tokenizer.status());
  std::shared_ptr<const tok::Tokenizer> tok = std::move(tokenizer).value();
  const int max_streams = static_cast<int>(*std::max_element(streams->begin(), streams->end()));
  server::SchedulerOptions so;
  so.parallel = max_streams;
  so.n_ctx = static_cast<int>(std::min<int64_t>(*ctx, (*model)->hparams().n_ctx_train));
  so.n_threads = static_cast<int>(*threads);
  so.queue_max = max_streams;
  auto sched = server::Scheduler::Create(*model, tok, so);
  if (!sched.ok()) return ReportError("bench-serve", sched.status());
  std::vector<int32_t> prompt(16);
  for (int i = 0; i < 16; ++i) prompt[i] = 100 + 7 * i;
  const std::string name = a->Get("model").substr(a->Get("model").rfind('/') + 1);
  double base = 0;
  for (int64_t s : *streams) {
    if (Result<double> w = RunOnce(**sched, prompt, static_cast<int>(s), 8); !w.ok())
      return ReportError("bench-serve", w.status());
    std::vector<double> samples;
    for (int64_t r = 0; r < *reps; ++r) {
      Result<double> tps = RunOnce(**sched, prompt, static_cast<int>(s), static_cast<int>(*n));
      if (!tps.ok()) return ReportError("bench-serve", tps.status());
      samples.push_back(*tps);
    }
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    if (s == streams->front()) base = median / static_cast<double>(s == 1 ? 1 : 1);
    const double speedup = base > 0 ? median / base : 0;
    if (a->Has("json")) {
      json::Value::Array arr;
      for (double v : samples) arr.push_back(v);
      std::printf("%s\n", json::Serialize(json::Value::Object{
                                              {"test", StrFormat("serve_tg%lld", (long long)*n)},
                                              {"streams", s},
                                              {"threads", (*sched)->options().n_threads},
                                              {"tokens_per_second", median},
                                              {"samples", arr},
                                              {"speedup_vs_first", speedup},
                                              {"model", name}})
                              .c_str());
    } else {
      std::printf("%-24s streams %2lld  %8.1f tok/s aggregate  (x%.2f vs %lld stream%s)\n",
                  name.c_str(), static_cast<long long>(s), median, speedup,
                  static_cast<long long>(streams->front()), streams->front() == 1 ? "" : "s");
    }
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace hearth::cli
