// `hearth run`: generate text from a prompt, streaming it to stdout, with a
// timing summary on stderr (or as JSON with --stats json).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

#include "args.h"
#include "base/json_writer.h"
#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "base/sysinfo.h"
#include "commands.h"
#include "engine_cli.h"
#include "run_record.h"
#include "runtime/stop_matcher.h"
#include "sampling/sampler.h"

namespace hearth::cli {
namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
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
  p.Option("temp", 0, "T", "sampling temperature (0..2); 0 = greedy", "0");
  p.Option("top-k", 0, "K", "keep the K most likely tokens; 0 = off", "0");
  p.Option("top-p", 0, "P", "nucleus sampling threshold in (0, 1]", "1");
  p.Option("min-p", 0, "P", "drop tokens below P x the top probability", "0");
  p.Option("repeat-penalty", 0, "R", "repetition penalty (1 = off)", "1");
  p.Option("repeat-last-n", 0, "N", "tokens the penalties look back over (-1: all)", "64");
  p.Option("frequency-penalty", 0, "F", "OpenAI frequency penalty (-2..2)", "0");
  p.Option("presence-penalty", 0, "F", "OpenAI presence penalty (-2..2)", "0");
  p.Option("seed", 's', "S", "random seed for sampling", "0");
  p.Flag("ignore-eos", 0, "keep generating past end-of-generation tokens");
  p.Option("stop", 0, "TEXT[,TEXT...]",
           "stop when the output contains one of these strings (not printed); comma-separated");
  p.Option("stats", 0, "FORMAT", "summary format: text or json", "text");
  p.Option("record", 0, "RUN.json",
           "write a run record: model sha256, version, seed, parameters, prompt and output ids");
  p.Option("replay", 0, "RUN.json",
           "regenerate a recorded run and report whether the output ids match (exit 1 if not)");
  p.Epilog("Example:\n  hearth run -m model.gguf -p \"Once upon a time\" -n 64");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("run", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  auto setup = ParseEngineOptions(*args, /*require_model=*/!args->Has("replay"));
  if (!setup.ok()) return ReportError("run", setup.status());
  auto n_predict = args->GetInt("n-predict", 128, 0, 1 << 20);
  if (!n_predict.ok()) return ReportError("run", n_predict.status());
  sampling::SamplingParams sp;
  {
    auto temp = args->GetDouble("temp", 0.0, 0.0, 2.0);
    auto top_k = args->GetInt("top-k", 0, 0, 1 << 30);
    auto top_p = args->GetDouble("top-p", 1.0, 0.0, 1.0);
    auto min_p = args->GetDouble("min-p", 0.0, 0.0, 1.0);
    auto rep = args->GetDouble("repeat-penalty", 1.0, 0.0, 2.0);
    auto last_n = args->GetInt("repeat-last-n", 64, -1, 1 << 30);
    auto freq = args->GetDouble("frequency-penalty", 0.0, -2.0, 2.0);
    auto pres = args->GetDouble("presence-penalty", 0.0, -2.0, 2.0);
    auto seed = args->GetInt("seed", 0, 0, INT64_MAX);
    for (const Status& st :
         {temp.status(), top_k.status(), top_p.status(), min_p.status(), rep.status(),
          last_n.status(), freq.status(), pres.status(), seed.status()}) {
      if (!st.ok()) return ReportError("run", st);
    }
    sp.temperature = static_cast<float>(*temp);
    sp.top_k = static_cast<int32_t>(*top_k);
    sp.top_p = static_cast<float>(*top_p);
    sp.min_p = static_cast<float>(*min_p);
    sp.repetition_penalty = static_cast<float>(*rep);
    sp.penalty_last_n = static_cast<int32_t>(*last_n);
    sp.frequency_penalty = static_cast<float>(*freq);
    sp.presence_penalty = static_cast<float>(*pres);
    sp.seed = static_cast<uint64_t>(*seed);
  }
  auto stats = args->GetChoice("stats", "text", {"text", "json"});
  if (!stats.ok()) return ReportError("run", stats.status());
  std::string prompt = args->Get("prompt");
  if (args->Has("file")) {
    auto r = ReadFileToString(args->Get("file"));
    if (!r.ok()) return ReportError("run", r.status());
    prompt = std::move(r).value();
  } else if (!args->Has("prompt") && !args->Has("replay")) {
    return ReportError("run", InvalidArgumentError("give -p TEXT or --file FILE", "cli.usage"));
  }

  int64_t max_tokens = *n_predict;
  bool ignore_eos = args->Has("ignore-eos");
  std::vector<std::string> stop_strings;
  if (args->Has("stop")) {
    for (std::string_view part : StrSplit(args->Get("stop"), ',')) {
      if (!part.empty()) stop_strings.emplace_back(part);
    }
  }
  std::optional<RunRecord> replay;
  if (args->Has("replay")) {
    auto rec = ReadRunRecord(args->Get("replay"));
    if (!rec.ok()) return ReportError("run", rec.status());
    replay = std::move(rec).value();
    prompt = replay->prompt;
    sp = replay->sampling;
    max_tokens = replay->max_tokens;
    ignore_eos = replay->ignore_eos;
    stop_strings = replay->stop;
    if (!args->Has("model")) setup->model_path = replay->model_path;
    setup->session.kv_type = replay->kv_type;
    setup->session.n_ctx = replay->n_ctx;
  }

  auto loaded = LoadModelAndTokenizer(*setup);
  if (!loaded.ok()) return ReportError("run", loaded.status());
  std::string model_sha;
  if (args->Has("record") || replay) {
    auto sha = Sha256FileHex(setup->model_path);
    if (!sha.ok()) return ReportError("run", sha.status());
    model_sha = *sha;
    if (replay && model_sha != replay->model_sha256) {
      return ReportError("run", FailedPreconditionError("the model's sha256 " + model_sha +
                                                            " differs from the "
                                                            "recorded " +
                                                            replay->model_sha256,
                                                        "replay.model_mismatch"));
    }
  }
  const tok::Tokenizer& tokenizer = *loaded->tokenizer;
  std::vector<int32_t> ids = tokenizer.Encode(prompt);
  if (ids.empty()) return ReportError("run", InvalidArgumentError("the prompt has no tokens"));
  auto session = Session::Create(loaded->model, setup->session);
  if (!session.ok()) return ReportError("run", session.status());
  Session& s = **session;
  if (static_cast<int64_t>(ids.size()) + max_tokens > s.n_ctx()) {
    return ReportError("run",
                       OutOfRangeError(StrFormat("prompt (%zu tokens) + -n %lld exceeds the "
                                                 "context of %d (raise --ctx)",
                                                 ids.size(), (long long)max_tokens, s.n_ctx()),
                                       "prompt_too_long"));
  }

  auto stops = runtime::StopMatcher::Create(stop_strings);
  if (!stops.ok()) return ReportError("run", stops.status());
  auto sampler = sampling::Sampler::Create(sp, tokenizer.n_vocab());
  if (!sampler.ok()) return ReportError("run", sampler.status());
  sampling::Rng rng(sp.seed);
  std::vector<int32_t> history = ids;  // the penalties see the prompt and the output
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
  for (int64_t i = 0; i < max_tokens; ++i) {
    auto sampled = sampler->Sample(logits, history, rng);
    if (!sampled.ok()) return ReportError("run", sampled.status());
    const int32_t next = *sampled;
    history.push_back(next);
    if (i == 0) t_first = Clock::now();
    if (tokenizer.IsEog(next) && !ignore_eos) {
      stop_reason = "eos";
      break;
    }
    out.push_back(next);
    runtime::StopMatcher::Step step = stops->Push(detok.Push(next));
    std::fwrite(step.text.data(), 1, step.text.size(), stdout);
    std::fflush(stdout);
    if (step.stopped) {
      stop_reason = "stop_sequence";
      break;
    }
    if (i + 1 == max_tokens) break;
    st = s.Eval(std::span<const int32_t>(&next, 1), false, &logits);
    if (!st.ok()) return ReportError("run", st);
  }
  if (!stops->stopped()) {
    runtime::StopMatcher::Step last = stops->Push(detok.Flush());
    std::string tail = last.text + (last.stopped ? "" : stops->Flush());
    if (last.stopped) stop_reason = "stop_sequence";
    std::fwrite(tail.data(), 1, tail.size(), stdout);
  }
  std::printf("\n");
  const auto t_end = Clock::now();

  if (args->Has("record")) {
    RunRecord rec;
    rec.model_path = setup->model_path;
    rec.model_sha256 = model_sha;
    rec.prompt = prompt;
    rec.sampling = sp;
    rec.max_tokens = max_tokens;
    rec.ignore_eos = ignore_eos;
    rec.stop = stop_strings;
    rec.threads = s.n_threads();
    rec.n_ctx = s.n_ctx();
    rec.kv_type = setup->session.kv_type;
    rec.isa = kernels::IsaName(s.isa());
    rec.prompt_ids = ids;
    rec.output_ids = out;
    rec.stop_reason = stop_reason;
    Status ws = WriteRunRecord(args->Get("record"), rec);
    if (!ws.ok()) return ReportError("run", ws);
  }
  if (replay) {
    int mismatch = -1;
    const size_t n = std::max(out.size(), replay->output_ids.size());
    for (size_t i = 0; i < n && mismatch < 0; ++i) {
      if (i >= out.size() || i >= replay->output_ids.size() || out[i] != replay->output_ids[i]) {
        mismatch = static_cast<int>(i);
      }
    }
    if (ids != replay->prompt_ids) {
      std::fprintf(stderr, "replay: MISMATCH: the prompt tokenizes differently\n");
      return kExitFailure;
    }
    if (mismatch >= 0) {
      std::fprintf(stderr, "replay: MISMATCH at output token %d (%zu recorded, %zu now)\n",
                   mismatch, replay->output_ids.size(), out.size());
      return kExitFailure;
    }
    std::fprintf(stderr, "replay: match (%zu prompt ids, %zu output ids identical)\n", ids.size(),
                 out.size());
  }

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
