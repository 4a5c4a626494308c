// The generation loop (used by `hearth run`, its --chat REPL and later the
// server's scheduler for single sequences): evaluate
// new prompt tokens on top of what the session already holds, then sample,
// stream complete UTF-8 text held back from stop strings, and stop on EOG, a
// stop string, max_tokens or cancellation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace hearth::runtime {

struct GenerateConfig {
  int64_t max_tokens = 128;
  bool ignore_eos = false;
  std::vector<std::string> stops;
  const std::atomic<bool>* cancel = nullptr;        // checked before every token
  std::function<void(const std::string&)> on_text;  // streamed text (may be null)
};

struct GenerateResult {
  std::vector<int32_t> output_ids;  // sampled ids, EOG excluded
  std::string text;                 // emitted text (stop string excluded)
  std::string stop_reason;          // eos, stop_sequence, max_tokens, cancelled
  double prefill_ms = 0, ttft_ms = 0, decode_ms = 0;
  size_t prompt_tokens = 0;
  double PrefillTokensPerSecond() const;
  double DecodeTokensPerSecond() const;
};

// `prompt` is evaluated at positions session.pos() onward. `history` (what the
// penalties see) gets the sampled ids appended. On return the session holds
// every id that was fed to it; ids of the result that were not fed (the last
// one) are reported in *unfed (may be null).
Result<GenerateResult> Generate(Session& session, const tok::Tokenizer& tokenizer,
                                const std::vector<int32_t>& prompt, sampling::Sampler& sampler,
                                sampling::Rng& rng, std::vector<int32_t>* history,
                                const GenerateConfig& config);

}  // namespace hearth::runtime
