// `hearth synth`: write a deterministic random-weight model of a real shape.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "args.h"
#include "base/strings.h"
#include "commands.h"
#include "format/ggml_types.h"
#include "model/synth.h"

namespace hearth::cli {

int RunSynth(int argc, char** argv) {
  std::string presets;
  for (const auto& n : SynthPresetNames()) presets += (presets.empty() ? "" : ", ") + n;
  ArgParser p("hearth synth",
              "Write a model with deterministic random weights in the shape of a real one, for\n"
              "benchmarks and tests. Same options and seed => identical bytes. 2-D weights get\n"
              "--type; norms and biases stay F32. Weights are scaled so that logits are not flat.");
  p.Option("preset", 'p', "NAME", "model shape: " + presets, "tiny");
  p.Option("dims", 0, "K=V,...",
           "override dimensions: arch, n_embd, n_ff, n_layer, n_head, n_head_kv, head_dim, "
           "n_vocab, n_ctx, rope_base, norm_eps, tied");
  p.Option("type", 't', "TYPE",
           "weight type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, q4_k_m",
           "f32");
  p.Option("vocab-from", 0, "VOCAB.gguf",
           "copy the tokenizer from this GGUF (padded with unused tokens to the preset's "
           "vocabulary size)",
           "a built-in byte-level vocabulary");
  p.Option("output", 'o', "OUT.gguf", "file to write (required)");
  p.Option("seed", 's', "S", "random seed", "1");
  p.Option("name", 0, "NAME", "general.name", "hearth-synth-<preset>");
  p.Option("threads", 'j', "N", "threads generating weights", "all cores");
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog(
      "Examples:\n"
      "  hearth synth --preset tiny -o tiny.gguf\n"
      "  hearth synth --preset tinyllama-1.1b --type q8_0 \\\n"
      "      --vocab-from ggml-vocab-llama-spm.gguf -o tinyllama-q8_0.gguf");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("synth", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  const std::string preset = args->Get("preset", "tiny");
  auto dims = SynthPreset(preset);
  if (!dims) {
    return ReportError("synth", InvalidArgumentError(
                                    "unknown preset '" + preset + "' (available: " + presets + ")",
                                    "cli.bad_value"));
  }
  SynthOptions o;
  o.dims = *dims;
  if (args->Has("dims")) {
    Status st = ApplyDimsOverrides(args->Get("dims"), &o.dims);
    if (!st.ok()) return ReportError("synth", st);
  }
  auto type_name = args->GetChoice("type", "f32",
                                   {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
                                    "q4_k", "q5_k", "q6_k", "q4_k_m"});
  if (!type_name.ok()) return ReportError("synth", type_name.status());
  o.type = *ParseSynthType(*type_name);
  auto seed = args->GetInt("seed", 1, 0, INT64_MAX);
  if (!seed.ok()) return ReportError("synth", seed.status());
  o.seed = static_cast<uint64_t>(*seed);
  auto threads = args->GetInt("threads", 0, 0, 1024);
  if (!threads.ok()) return ReportError("synth", threads.status());
  o.threads = static_cast<int>(*threads);
  o.vocab_from = args->Get("vocab-from");
  o.name = args->Get("name", "hearth-synth-" + preset);
  const std::string out = args->Get("output");
  if (out.empty()) {
    return ReportError("synth", InvalidArgumentError("missing --output OUT.gguf (see 'hearth "
                                                     "synth --help')",
                                                     "cli.usage"));
  }
  const bool show_progress = !args->Has("quiet") && isatty(STDERR_FILENO);
  int last_pct = -1;
  if (show_progress) {
    o.progress = [&](uint64_t done, uint64_t total) {
      int pct = total ? static_cast<int>(done * 100 / total) : 100;
      if (pct == last_pct) return;
      last_pct = pct;
      std::fprintf(stderr, "\rsynth: writing %s  %3d%%  (%s of %s)", out.c_str(), pct,
                   HumanBytes(done).c_str(), HumanBytes(total).c_str());
      std::fflush(stderr);
    };
  }
  auto t0 = std::chrono::steady_clock::now();
  Status st = WriteSynthModel(o, out);
  if (show_progress && last_pct >= 0) std::fprintf(stderr, "\n");
  if (!st.ok()) return ReportError("synth", st);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!args->Has("quiet")) {
    std::fprintf(stderr, "synth: wrote %s (%s %s, seed %llu) in %.1f s\n", out.c_str(),
                 preset.c_str(), type_name->c_str(), static_cast<unsigned long long>(o.seed), secs);
  }
  return kExitOk;
}

}  // namespace hearth::cli
