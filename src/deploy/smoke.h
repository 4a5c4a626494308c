// The trial gate of a newly activated bundle: load it with the real engine and
// generate a few greedy tokens (DESIGN §7). Fails on any load error, a
// tokenizer that yields no tokens, or a non-finite logit.
#pragma once

#include <string>

#include "base/status.h"
#include "deploy/manifest.h"

namespace hearth::deploy {

struct SmokeOptions {
  std::string prompt = "Hello";
  int n_tokens = 4;
  int n_threads = 0;  // 0: the engine's default
};

// `bundle_dir` is an installed (extracted) bundle.
Status RunSmokeTest(const std::string& bundle_dir, const Manifest& manifest,
                    const SmokeOptions& options = {});

}  // namespace hearth::deploy
