// SamplingParams: the per-request sampling settings and their validation.
//
// Names and ranges follow the OpenAI API where it defines them (temperature,
// top_p, frequency_penalty, presence_penalty, logit_bias, seed) and llama.cpp
// otherwise (top_k, min_p, repetition_penalty, penalty_last_n). Out-of-range
// values are rejected, never clamped; NaN and infinities are rejected (except
// a -inf logit bias, which bans a token). Every validation error has reason
// "invalid_parameter" and a message that starts with the parameter name.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"

namespace hearth::sampling {

// Ranges (inclusive unless noted). Named so servers can quote them.
inline constexpr float kMaxTemperature = 2.0f;       // OpenAI: 0..2
inline constexpr float kMaxAbsOpenAiPenalty = 2.0f;  // OpenAI: frequency/presence -2..2
inline constexpr float kMaxRepetitionPenalty =
    2.0f;                                          // (0, 2]; 1 = off. Above 2 output degenerates.
inline constexpr float kMaxAbsLogitBias = 100.0f;  // OpenAI: -100..100 (plus -inf = ban)
inline constexpr int32_t kMaxPenaltyLastN = 1 << 20;  // sanity bound on the window

struct LogitBias {
  int32_t id = 0;
  float bias = 0.0f;  // added to the logit; -inf bans the token
};

struct SamplingParams {
  // Divides the logits just before the draw. 0 = greedy: argmax after bias
  // and penalties, ties to the lowest id, and no random number is drawn.
  float temperature = 1.0f;
  int32_t top_k = 0;   // keep the k most likely; 0 = off
  float top_p = 1.0f;  // (0, 1]: smallest set with cumulative probability >= top_p; 1 = off
  float min_p = 0.0f;  // [0, 1]: keep p >= min_p * p_max; 0 = off
  float repetition_penalty = 1.0f;  // llama/CTRL: positive logits / r, negative * r
  float frequency_penalty = 0.0f;   // OpenAI: logit -= count * frequency_penalty
  float presence_penalty = 0.0f;    // OpenAI: logit -= (count > 0) * presence_penalty
  // The penalties look at the last `penalty_last_n` tokens of the history the
  // caller passes; 0 disables them, -1 uses the whole history.
  int32_t penalty_last_n = 64;
  // Applied in order; an id listed twice gets both biases added.
  std::vector<LogitBias> logit_bias;
  uint64_t seed = 0;  // seeds the request's Rng (see rng.h); unused here
};

// Checks every range above. n_vocab > 0 also checks logit_bias ids are in
// [0, n_vocab); pass 0 when the vocabulary is not known yet.
Status ValidateSamplingParams(const SamplingParams& params, int32_t n_vocab = 0);

}  // namespace hearth::sampling
