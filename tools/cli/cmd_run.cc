// `hearth run`: generate text from a prompt, streaming it to stdout, with a
// timing summary on stderr (or as JSON with --stats json).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "args.h"
#include "base/json_writer.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "base/sysinfo.h"
#include "commands.h"
#include "engine_cli.h"

namespace hearth::cli {
namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Greedy at temperature 0 (ties: lowest id); otherwise a draw from softmax(logits / temp).
int32_t Sample(const std::vector<float>& logits, double temp, std::mt19937_64& rng) {
  const auto best = std::max_element(logits.begin(), logits.end());
  if (temp <= 0.0) return static_cast<int32_t>(best - logits.begin());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp((logits[i] - *best) / temp);
  double r = std::uniform_real_distribution<double>(0.0, sum)(rng);
  for (size_t i = 0; i < p.size(); ++i) {
    if ((r -= p[i]) <= 0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(best - logits.begin());
}

}  // namespace

int RunRun(int argc, char** argv) {
  ArgParser p(
      "hearth run",
      "Generate text from a prompt with a GGUF model. Text streams to stdout; a summary\n"
      "(load time, prefill and decode speed, TTFT, peak RSS, ISA, KV bytes) goes to stderr.");
  AddEngineOptions(p);
  p.Option("prompt", 'p', "TEXT", "the prompt (or --file)");
  p.Option("file", 'f', "FILE", "read the prompt from a file");
  p.Option("n-predict", 'n', "N", "tokens to generate at most", "128");
  p.Option("temp", 0, "T", "sampling temperature; 0 = greedy", "0");
  p.Option("seed", 's', "S", "random seed for sampling", "0");
  p.Flag("ignore-eos", 0, "keep generating past end-of-generation tokens");
  p.Option("stats", 0, "FORMAT", "summary format: text or json", "text");
  p.Epilog("Example:\n  hearth run -m model.gguf -p \"Once upon a time\" -n 64");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("run", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  auto setup = ParseEngineOptions(*args);
  if (!setup.ok()) return ReportError("run", setup.status());
  auto n_predict = args->GetInt("n-predict", 128, 0, 1 << 20);
  if (!n_predict.ok()) return ReportError("run", n_predict.status());
  auto temp = args->GetDouble("temp", 0.0, 0.0, 100.0);
  if (!temp.ok()) return ReportError("run", temp.status());
  auto seed = args->GetInt("seed", 0, 0, INT64_MAX);
  if (!seed.ok()) return ReportError("run", seed.status());
  auto stats = args->GetChoice("stats", "text", {"text", "json"});
  if (!stats.ok()) return ReportError("run", stats.status());
  std::string prompt = args->Get("prompt");
  if (args->Has("file")) {
    auto r = ReadFileToString(args->Get("file"));
    if (!r.ok()) return ReportError("run", r.status());
    prompt = std::move(r).value();
  } else if (!args->Has("prompt")) {
    return ReportError("run", InvalidArgumentError("give -p TEXT or --file FILE", "cli.usage"));
  }

  auto loaded = LoadModelAndTokenizer(*setup);
  if (!loaded.ok()) return ReportError("run", loaded.status());
  const tok::Tokenizer& tokenizer = *loaded->tokenizer;
  std::vector<int32_t> ids = tokenizer.Encode(prompt);
  if (ids.empty()) return ReportError("run", InvalidArgumentError("the prompt has no tokens"));
  auto session = Session::Create(loaded->model, setup->session);
  if (!session.ok()) return ReportError("run", session.status());
  Session& s = **session;
  if (static_cast<int64_t>(ids.size()) + *n_predict > s.n_ctx()) {
    return ReportError("run",
                       OutOfRangeError(StrFormat("prompt (%zu tokens) + -n %lld exceeds the "
                                                 "context of %d (raise --ctx)",
                                                 ids.size(), (long long)*n_predict, s.n_ctx()),
                                       "prompt_too_long"));
  }

  std::mt19937_64 rng(static_cast<uint64_t>(*seed));
  // Only the generated ids are streamed: their first leading space is real text.
  tok::DecodeOptions decode_opts;
  decode_opts.strip_leading_space = false;
  tok::StreamingDetokenizer detok(tokenizer, decode_opts);
  std::vector<float> logits;
  const auto t_start = Clock::now();
  Status st = s.Eval(ids, false, &logits);
  if (!st.ok()) return ReportError("run", st);
  const auto t_prefill = Clock::now();
  std::vector<int32_t> out;
  Clock::time_point t_first = t_prefill;
  std::string stop_reason = "max_tokens";
  for (int64_t i = 0; i < *n_predict; ++i) {
    const int32_t next = Sample(logits, *temp, rng);
    if (i == 0) t_first = Clock::now();
    if (tokenizer.IsEog(next) && !args->Has("ignore-eos")) {
      stop_reason = "eos";
      break;
    }
    out.push_back(next);
    std::string text = detok.Push(next);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    if (i + 1 == *n_predict) break;
    st = s.Eval(std::span<const int32_t>(&next, 1), false, &logits);
    if (!st.ok()) return ReportError("run", st);
  }
  std::string tail = detok.Flush();
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::printf("\n");
  const auto t_end = Clock::now();

  const double prefill_ms = Ms(t_start, t_prefill);
  const double decode_ms = Ms(t_first, t_end);
  const double prefill_tps = ids.size() / (prefill_ms / 1e3);
  const double decode_tps = out.size() > 1 ? (out.size() - 1) / (decode_ms / 1e3) : 0.0;
  auto rss = ProcessRss();
  const uint64_t peak = rss.ok() ? rss->peak_bytes : 0;
  if (*stats == "json") {
    json::Writer w;
    w.BeginObject();
    w.Key("load_ms"), w.Double(loaded->load_ms);
    w.Key("prompt_tokens"), w.Uint(ids.size());
    w.Key("generated_tokens"), w.Uint(out.size());
    w.Key("prefill_ms"), w.Double(prefill_ms);
    w.Key("prefill_tokens_per_second"), w.Double(prefill_tps);
    w.Key("ttft_ms"), w.Double(Ms(t_start, t_first));
    w.Key("decode_tokens_per_second"), w.Double(decode_tps);
    w.Key("stop_reason"), w.String(stop_reason);
    w.Key("peak_rss_bytes"), w.Uint(peak);
    w.Key("isa"), w.String(kernels::IsaName(s.isa()));
    w.Key("threads"), w.Int(s.n_threads());
    w.Key("kv_bytes"), w.Uint(s.kv_bytes());
    w.EndObject();
    std::fprintf(stderr, "%s\n", w.str().c_str());
  } else {
    std::fprintf(stderr,
                 "\nload %.0f ms | prompt %zu tokens, prefill %.1f tok/s | TTFT %.0f ms | "
                 "%zu tokens, decode %.1f tok/s | stop: %s\n"
                 "peak RSS %s | %s, %d threads | KV cache %s\n",
                 loaded->load_ms, ids.size(), prefill_tps, Ms(t_start, t_first), out.size(),
                 decode_tps, stop_reason.c_str(), HumanBytes(peak).c_str(),
                 kernels::IsaName(s.isa()), s.n_threads(), HumanBytes(s.kv_bytes()).c_str());
  }
  return kExitOk;
}

}  // namespace hearth::cli
