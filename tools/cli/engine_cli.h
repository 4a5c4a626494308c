// Options shared by the commands that run the engine (run, logits, bench):
// model path, threads, context, KV cache type, mlock.
#pragma once

#include <memory>
#include <string>

#include "args.h"
#include "model/model.h"
#include "model/session.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {

// How -t/--threads is read: one count (run, logits, chat), or a comma-separated
// list of counts to sweep (bench, which parses the list itself).
enum class ThreadsOption { kOne, kList };

// --load mmap|memory|memory-plain and --prefetch auto|BYTES (engine commands
// and serve).
void AddLoadOptions(ArgParser& p);
// --load (and --mlock) as load options: memory reads into memory and repacks,
// memory-plain only reads.
Result<ModelLoadOptions> ParseLoadOption(const Args& a);
// --prefetch: 0 for auto (tuned while decoding), else the bytes.
Result<int64_t> ParsePrefetchOption(const Args& a);

// Adds -m/--model, -t/--threads, -c/--ctx, --kv-type, --batch, --mlock,
// AddLoadOptions.
void AddEngineOptions(ArgParser& p, ThreadsOption threads = ThreadsOption::kOne);

struct EngineSetup {
  std::string model_path;
  SessionOptions session;
  ModelLoadOptions load;
};
// With ThreadsOption::kList, session.n_threads is left 0 (the caller reads the list).
Result<EngineSetup> ParseEngineOptions(const Args& a, bool require_model = true,
                                       ThreadsOption threads = ThreadsOption::kOne);

struct LoadedModel {
  std::shared_ptr<const Model> model;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  double load_ms = 0;
};
// Loads the model and its tokenizer (from the same GGUF).
Result<LoadedModel> LoadModelAndTokenizer(const EngineSetup& setup);

}  // namespace hearth::cli
