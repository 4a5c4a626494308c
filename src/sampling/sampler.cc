#include "sampling/sampler.h"

#include <cmath>
#include <utility>

#include "base/check.h"
#include "base/strings.h"

namespace hearth::sampling {

Result<Sampler> Sampler::Create(const SamplingParams& params, int32_t n_vocab) {
  if (n_vocab <= 0) {
    return InvalidArgumentError(StrFormat("sampler needs a vocabulary, got n_vocab %d", n_vocab),
                                "invalid_parameter");
  }
  HEARTH_RETURN_IF_ERROR(ValidateSamplingParams(params, n_vocab));
  return Sampler(params, n_vocab);
}

Sampler::Sampler(SamplingParams params, int32_t n_vocab)
    : params_(std::move(params)), n_vocab_(n_vocab), counts_(static_cast<size_t>(n_vocab), 0) {
  candidates_.items.reserve(static_cast<size_t>(n_vocab));
}

Result<int32_t> Sampler::Sample(std::span<const float> logits, std::span<const int32_t> history,
                                Rng& rng) {
  HEARTH_CHECK(logits.size() == static_cast<size_t>(n_vocab_), "logits has %zu entries, want %d",
               logits.size(), n_vocab_);
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]) || logits[i] == INFINITY) {
      return InvalidArgumentError(
          StrFormat("logit of token %zu is %g; the model produced a non-finite value", i,
                    static_cast<double>(logits[i])),
          "sampling.non_finite_logit");
    }
  }
  std::span<const int32_t> window = history;
  if (params_.penalty_last_n >= 0 && window.size() > static_cast<size_t>(params_.penalty_last_n)) {
    window = window.last(static_cast<size_t>(params_.penalty_last_n));
  }
  for (int32_t id : window) {
    if (id < 0 || id >= n_vocab_) {
      return InvalidArgumentError(
          StrFormat("history token %d is outside the vocabulary [0, %d)", id, n_vocab_),
          "sampling.bad_history_token");
    }
  }

  Candidates& c = candidates_;
  FillCandidates(logits, c);
  ApplyLogitBias(params_.logit_bias, c);
  ApplyPenalties(params_.repetition_penalty, params_.frequency_penalty, params_.presence_penalty,
                 window, counts_, c);
  DropImpossible(c);
  if (c.items.empty()) {
    return InvalidArgumentError("every token has probability 0 (all banned by logit_bias?)",
                                "sampling.no_candidates");
  }
  if (params_.temperature == 0.0f) return Argmax(c);

  TopK(params_.top_k, c);
  TopP(params_.top_p, c);
  MinP(params_.min_p, c);
  Temperature(params_.temperature, c);
  return DrawFromSoftmax(c, rng.NextDouble());
}

}  // namespace hearth::sampling
