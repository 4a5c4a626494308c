// `hearth run`: generate text from a prompt, streaming it to stdout, with a
// timing summary on stderr (or JSON with --stats json; --json prints one JSON
// object with ids, text and timings instead). --chat starts the interactive
// REPL (chat_repl.cc); --record / --replay write and check run records.
#include <algorithm>
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
#include "run_options.h"
#include "run_record.h"
#include "runtime/generate.h"

namespace hearth::cli {
namespace {

void WriteTimings(json::Writer& w, const LoadedModel& loaded, const Session& s,
                  const runtime::GenerateResult& g) {
  auto rss = ProcessRss();
  w.Key("load_ms"), w.Double(loaded.load_ms);
  w.Key("prompt_tokens"), w.Uint(g.prompt_tokens);
  w.Key("generated_tokens"), w.Uint(g.output_ids.size());
  w.Key("prefill_ms"), w.Double(g.prefill_ms);
  w.Key("prefill_tokens_per_second"), w.Double(g.PrefillTokensPerSecond());
  w.Key("ttft_ms"), w.Double(g.ttft_ms);
  w.Key("decode_tokens_per_second"), w.Double(g.DecodeTokensPerSecond());
  w.Key("stop_reason"), w.String(g.stop_reason);
  w.Key("peak_rss_bytes"), w.Uint(rss.ok() ? rss->peak_bytes : 0);
  w.Key("isa"), w.String(kernels::IsaName(s.isa()));
  w.Key("repacked_matrices"), w.Int(loaded.model->repacked_matrices());
  w.Key("threads"), w.Int(s.n_threads());
  w.Key("kv_bytes"), w.Uint(s.kv_bytes());
}

// " (N matrices repacked)" after the ISA's name, or nothing.
std::string RepackedNote(const Model& m) {
  const int n = m.repacked_matrices();
  return n == 0 ? std::string() : StrFormat(" (%d matrices repacked)", n);
}

// Compares a replayed run with its record; prints the verdict, returns the exit code.
int CheckReplay(const RunRecord& rec, const std::vector<int32_t>& prompt_ids,
                const std::vector<int32_t>& out) {
  if (prompt_ids != rec.prompt_ids) {
    std::fprintf(stderr, "replay: MISMATCH: the prompt tokenizes differently\n");
    return kExitFailure;
  }
  const size_t n = std::max(out.size(), rec.output_ids.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= out.size() || i >= rec.output_ids.size() || out[i] != rec.output_ids[i]) {
      std::fprintf(stderr, "replay: MISMATCH at output token %zu (%zu recorded, %zu now)\n", i,
                   rec.output_ids.size(), out.size());
      return kExitFailure;
    }
  }
  std::fprintf(stderr, "replay: match (%zu prompt ids, %zu output ids identical)\n",
               prompt_ids.size(), out.size());
  return kExitOk;
}

}  // namespace

int RunRun(int argc, char** argv) {
  ArgParser p("hearth run",
              "Generate text from a prompt with a GGUF model. Text streams to stdout; a summary\n"
              "(load time, prefill and decode speed, TTFT, peak RSS, ISA, KV bytes) goes to "
              "stderr.\nWith --chat: an interactive conversation using the model's chat template.");
  AddEngineOptions(p);
  AddGenerationOptions(p);
  p.Option("prompt", 'p', "TEXT", "the prompt (or --file)");
  p.Option("file", 'f', "FILE", "read the prompt from a file");
  p.Option("stats", 0, "FORMAT", "summary format: text or json", "text");
  p.Flag("json", 0, "print one JSON object (prompt and output ids, text, timings), no streaming");
  p.Option("record", 0, "RUN.json",
           "write a run record: model sha256, version, seed, parameters, prompt and output ids");
  p.Option("replay", 0, "RUN.json",
           "regenerate a recorded run and report whether the output ids match (exit 1 if not)");
  AddChatOptions(p);
  p.Epilog(
      "Examples:\n"
      "  hearth run -m model.gguf -p \"Once upon a time\" -n 64\n"
      "  hearth run -m model.gguf --chat --system \"You answer briefly.\"");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("run", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  if (args->Has("chat")) return RunChat(*args);

  auto setup = ParseEngineOptions(*args, /*require_model=*/!args->Has("replay"));
  if (!setup.ok()) return ReportError("run", setup.status());
  auto gen = ParseGenerationOptions(*args);
  if (!gen.ok()) return ReportError("run", gen.status());
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

  std::optional<RunRecord> replay;
  if (args->Has("replay")) {
    auto rec = ReadRunRecord(args->Get("replay"));
    if (!rec.ok()) return ReportError("run", rec.status());
    replay = std::move(rec).value();
    prompt = replay->prompt;
    gen->sampling = replay->sampling;
    gen->config.max_tokens = replay->max_tokens;
    gen->config.ignore_eos = replay->ignore_eos;
    gen->config.stops = replay->stop;
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
      return ReportError(
          "run", FailedPreconditionError("the model's sha256 " + model_sha +
                                             " differs from the recorded " + replay->model_sha256,
                                         "replay.model_mismatch"));
    }
  }
  const tok::Tokenizer& tokenizer = *loaded->tokenizer;
  std::vector<int32_t> ids = tokenizer.Encode(prompt);
  if (ids.empty()) return ReportError("run", InvalidArgumentError("the prompt has no tokens"));
  auto session = Session::Create(loaded->model, setup->session);
  if (!session.ok()) return ReportError("run", session.status());
  Session& s = **session;
  const int64_t max_tokens = gen->config.max_tokens;
  if (static_cast<int64_t>(ids.size()) + max_tokens > s.n_ctx()) {
    return ReportError("run",
                       OutOfRangeError(StrFormat("prompt (%zu tokens) + -n %lld exceeds the "
                                                 "context of %d (raise --ctx)",
                                                 ids.size(), (long long)max_tokens, s.n_ctx()),
                                       "prompt_too_long"));
  }
  auto sampler = sampling::Sampler::Create(gen->sampling, tokenizer.n_vocab());
  if (!sampler.ok()) return ReportError("run", sampler.status());
  sampling::Rng rng(gen->sampling.seed);
  std::vector<int32_t> history = ids;  // the penalties see the prompt and the output

  const bool as_json = args->Has("json");
  runtime::GenerateConfig cfg = gen->config;
  if (!as_json) {
    cfg.on_text = [](const std::string& t) {
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
    };
  }
  auto g = runtime::Generate(s, tokenizer, ids, *sampler, rng, &history, cfg);
  if (!g.ok()) return ReportError("run", g.status());
  if (!as_json) std::printf("\n");

  if (args->Has("record")) {
    RunRecord rec;
    rec.model_path = setup->model_path;
    rec.model_sha256 = model_sha;
    rec.prompt = prompt;
    rec.sampling = gen->sampling;
    rec.max_tokens = max_tokens;
    rec.ignore_eos = cfg.ignore_eos;
    rec.stop = cfg.stops;
    rec.threads = s.n_threads();
    rec.n_ctx = s.n_ctx();
    rec.kv_type = setup->session.kv_type;
    rec.isa = kernels::IsaName(s.isa());
    rec.prompt_ids = ids;
    rec.output_ids = g->output_ids;
    rec.stop_reason = g->stop_reason;
    Status ws = WriteRunRecord(args->Get("record"), rec);
    if (!ws.ok()) return ReportError("run", ws);
  }
  int exit_code = replay ? CheckReplay(*replay, ids, g->output_ids) : kExitOk;

  if (as_json) {
    json::Writer w(2);
    w.BeginObject();
    w.Key("prompt_ids");
    w.BeginArray();
    for (int32_t id : ids) w.Int(id);
    w.EndArray();
    w.Key("output_ids");
    w.BeginArray();
    for (int32_t id : g->output_ids) w.Int(id);
    w.EndArray();
    w.Key("text"), w.String(g->text);
    w.Key("timings");
    w.BeginObject();
    WriteTimings(w, *loaded, s, *g);
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else if (*stats == "json") {
    json::Writer w;
    w.BeginObject();
    WriteTimings(w, *loaded, s, *g);
    w.EndObject();
    std::fprintf(stderr, "%s\n", w.str().c_str());
  } else {
    auto rss = ProcessRss();
    std::fprintf(stderr,
                 "\nload %.0f ms | prompt %zu tokens, prefill %.1f tok/s | TTFT %.0f ms | "
                 "%zu tokens, decode %.1f tok/s | stop: %s\n"
                 "peak RSS %s | %s%s, %d threads | KV cache %s\n",
                 loaded->load_ms, ids.size(), g->PrefillTokensPerSecond(), g->ttft_ms,
                 g->output_ids.size(), g->DecodeTokensPerSecond(), g->stop_reason.c_str(),
                 HumanBytes(rss.ok() ? rss->peak_bytes : 0).c_str(), kernels::IsaName(s.isa()),
                 RepackedNote(*loaded->model).c_str(), s.n_threads(),
                 HumanBytes(s.kv_bytes()).c_str());
  }
  return exit_code;
}

}  // namespace hearth::cli
