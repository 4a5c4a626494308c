#include "engine_cli.h"

#include <chrono>

#include "model/vocab_gguf.h"

namespace hearth::cli {

void AddLoadOptions(ArgParser& p) {
  p.Option(
      "load", 0, "MODE",
      "mmap: map the file (pages shared with the page cache); memory: read the weights into "
      "huge-page memory (faster decode, never evicted; no second copy is kept) and repack "
      "them where this CPU's kernels read another layout faster (Q4_0, Q8_0, Q4_K, Q6_K on AVX-512 "
      "VNNI CPUs without AMX; same results); memory-plain: the same without repacking",
      "mmap");
  p.Option("prefetch", 0, "auto|BYTES",
           "how far ahead decode steps prefetch the weights: auto chooses it for this machine "
           "while decoding (16 trial steps, again after every 512); BYTES fixes it "
           "(64..1048576)",
           "auto");
}

Result<ModelLoadOptions> ParseLoadOption(const Args& a) {
  HEARTH_ASSIGN_OR_RETURN(std::string load,
                          a.GetChoice("load", "mmap", {"mmap", "memory", "memory-plain"}));
  ModelLoadOptions lo;
  lo.mlock = a.Has("mlock");
  lo.in_memory = load != "mmap";
  lo.repack = load == "memory";
  return lo;
}

Result<int64_t> ParsePrefetchOption(const Args& a) {
  if (!a.Has("prefetch") || a.Get("prefetch") == "auto") return int64_t{0};
  Result<int64_t> bytes = a.GetInt("prefetch", 0, 64, 1 << 20);
  if (!bytes.ok()) {
    return InvalidArgumentError(
        "--prefetch expects auto or a number of bytes from 64 to 1048576, "
        "got '" +
            a.Get("prefetch") + "'",
        "cli.usage");
  }
  return *bytes;
}

void AddEngineOptions(ArgParser& p, ThreadsOption threads) {
  p.Option("model", 'm', "MODEL.gguf", "the model (required)");
  const bool list = threads == ThreadsOption::kList;
  p.Option("threads", 't', list ? "N,..." : "N",
           list ? "worker threads; several counts are run one after another" : "worker threads",
           "physical cores");
  p.Option("ctx", 'c', "N", "context length (KV cache positions)", "min(n_ctx_train, 4096)");
  p.Option("kv-type", 0, "TYPE", "KV cache element type: f16 or f32", "f16");
  p.Option("batch", 'b', "N", "prefill micro-batch (tokens per forward pass)", "256");
  p.Flag("mlock", 0, "lock the model's pages in RAM");
  AddLoadOptions(p);
}

Result<EngineSetup> ParseEngineOptions(const Args& a, bool require_model,
                                       ThreadsOption threads_option) {
  EngineSetup s;
  s.model_path = a.Get("model");
  if (s.model_path.empty() && require_model) {
    return InvalidArgumentError("missing -m MODEL.gguf", "cli.usage");
  }
  int64_t threads = 0;
  if (threads_option == ThreadsOption::kOne) {
    HEARTH_ASSIGN_OR_RETURN(threads, a.GetInt("threads", 0, 1, 1024));
  }
  HEARTH_ASSIGN_OR_RETURN(int64_t ctx, a.GetInt("ctx", 0, 1, 1 << 20));
  HEARTH_ASSIGN_OR_RETURN(int64_t batch, a.GetInt("batch", 256, 1, 8192));
  HEARTH_ASSIGN_OR_RETURN(std::string kv, a.GetChoice("kv-type", "f16", {"f16", "f32"}));
  s.session.n_threads = static_cast<int>(threads);
  s.session.n_ctx = static_cast<int>(ctx);
  s.session.n_batch = static_cast<int>(batch);
  s.session.kv_type = *ParseKvType(kv);
  HEARTH_ASSIGN_OR_RETURN(s.load, ParseLoadOption(a));
  HEARTH_ASSIGN_OR_RETURN(s.session.prefetch_bytes, ParsePrefetchOption(a));
  return s;
}

Result<LoadedModel> LoadModelAndTokenizer(const EngineSetup& setup) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel out;
  HEARTH_ASSIGN_OR_RETURN(out.model, Model::Load(setup.model_path, setup.load));
  auto tok = LoadTokenizer(out.model->file());
  if (!tok.ok())
    return tok.status().WithContext("loading the tokenizer of '" + setup.model_path + "'");
  out.tokenizer = std::move(tok).value();
  if (out.tokenizer->n_vocab() != static_cast<int32_t>(out.model->hparams().n_vocab)) {
    return InvalidArgumentError("the tokenizer's vocabulary does not match the model's output size",
                                "model.vocab_mismatch");
  }
  out.load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace hearth::cli
