// Sampler: the per-request chain that turns one step's logits into a token.
//
// Fixed stage order (llama.cpp's default order; temperature last, so top_p
// and min_p see the untempered distribution):
//   logit_bias -> penalties -> drop -inf -> top_k -> top_p -> min_p
//     -> temperature -> draw
// Temperature 0 is greedy: argmax after logit_bias and penalties (the
// truncation stages never remove the argmax), ties to the lowest id, and the
// Rng is not touched. Otherwise exactly one Rng::NextDouble() is drawn per
// token, so the Rng's position depends only on how many tokens were sampled.
//
// Deterministic: the token depends only on (params, logits, history, Rng
// state). No hash maps, no threads, no uninitialized state.
//
// Cost: O(n_vocab) per call plus the sorting the truncation stages need
// (partial sorts when top_k or a peaked top_p bounds it). Buffers are sized
// for n_vocab at Create(); Sample() does not allocate.
//
// Thread safety: one Sampler per request; Sample() mutates scratch buffers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "sampling/rng.h"
#include "sampling/sampling_params.h"
#include "sampling/stages.h"

namespace hearth::sampling {

class Sampler {
 public:
  // Validates `params` (reason "invalid_parameter") for a vocabulary of
  // n_vocab > 0 tokens.
  static Result<Sampler> Create(const SamplingParams& params, int32_t n_vocab);

  Sampler(Sampler&&) noexcept = default;
  Sampler& operator=(Sampler&&) noexcept = default;
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // logits: [n_vocab] (a size mismatch is a programmer bug and aborts).
  // history: previous tokens, oldest first (prompt and/or generated, the
  // caller's choice); the penalties see its last penalty_last_n entries.
  // Errors (reason in parentheses): a NaN or +inf logit
  // ("sampling.non_finite_logit"), a history id outside the vocabulary
  // ("sampling.bad_history_token"), every token banned ("sampling.no_candidates").
  Result<int32_t> Sample(std::span<const float> logits, std::span<const int32_t> history, Rng& rng);

  // The candidates that reached the draw in the last Sample() (after the
  // truncation stages and temperature; in id order for greedy). For tests.
  const Candidates& last_candidates() const { return candidates_; }
  const SamplingParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  Sampler(SamplingParams params, int32_t n_vocab);

  SamplingParams params_;
  int32_t n_vocab_;
  Candidates candidates_;        // capacity n_vocab
  std::vector<int32_t> counts_;  // [n_vocab], zero between calls (penalty scratch)
};

}  // namespace hearth::sampling
