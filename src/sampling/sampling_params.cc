#include "sampling/sampling_params.h"

#include <cmath>
#include <string>

#include "base/strings.h"

namespace hearth::sampling {
namespace {

constexpr char kReason[] = "invalid_parameter";

Status Invalid(std::string message) {
  return InvalidArgumentError(std::move(message), kReason);
}

// `name` must be finite and in [lo, hi] (lo excluded if `lo_open`).
Status CheckRange(const char* name, float v, float lo, float hi, bool lo_open = false) {
  if (!std::isfinite(v)) return Invalid(StrFormat("%s must be a finite number, got %g", name, v));
  if ((lo_open ? v <= lo : v < lo) || v > hi) {
    return Invalid(StrFormat("%s must be in %c%g, %g], got %g", name, lo_open ? '(' : '[',
                             static_cast<double>(lo), static_cast<double>(hi),
                             static_cast<double>(v)));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateSamplingParams(const SamplingParams& p, int32_t n_vocab) {
  HEARTH_RETURN_IF_ERROR(CheckRange("temperature", p.temperature, 0.0f, kMaxTemperature));
  if (p.top_k < 0) return Invalid(StrFormat("top_k must be >= 0 (0 = off), got %d", p.top_k));
  HEARTH_RETURN_IF_ERROR(CheckRange("top_p", p.top_p, 0.0f, 1.0f, /*lo_open=*/true));
  HEARTH_RETURN_IF_ERROR(CheckRange("min_p", p.min_p, 0.0f, 1.0f));
  HEARTH_RETURN_IF_ERROR(CheckRange("repetition_penalty", p.repetition_penalty, 0.0f,
                                    kMaxRepetitionPenalty, /*lo_open=*/true));
  HEARTH_RETURN_IF_ERROR(CheckRange("frequency_penalty", p.frequency_penalty, -kMaxAbsOpenAiPenalty,
                                    kMaxAbsOpenAiPenalty));
  HEARTH_RETURN_IF_ERROR(CheckRange("presence_penalty", p.presence_penalty, -kMaxAbsOpenAiPenalty,
                                    kMaxAbsOpenAiPenalty));
  if (p.penalty_last_n < -1 || p.penalty_last_n > kMaxPenaltyLastN) {
    return Invalid(StrFormat("penalty_last_n must be in [-1, %d] (-1 = whole history), got %d",
                             kMaxPenaltyLastN, p.penalty_last_n));
  }
  for (const LogitBias& b : p.logit_bias) {
    if (b.id < 0 || (n_vocab > 0 && b.id >= n_vocab)) {
      return Invalid(n_vocab > 0 ? StrFormat("logit_bias token id %d is outside the vocabulary "
                                             "[0, %d)",
                                             b.id, n_vocab)
                                 : StrFormat("logit_bias token id %d is negative", b.id));
    }
    if (std::isinf(b.bias) && b.bias < 0) continue;  // -inf bans the token
    const std::string name = StrFormat("logit_bias[%d]", b.id);
    HEARTH_RETURN_IF_ERROR(CheckRange(name.c_str(), b.bias, -kMaxAbsLogitBias, kMaxAbsLogitBias));
  }
  return Status::Ok();
}

}  // namespace hearth::sampling
