#include "runtime/stop_reason.h"

#include <array>
#include <utility>

#include "base/check.h"

namespace hearth::runtime {
namespace {

constexpr std::array<std::pair<StopReason, std::string_view>, 7> kNames = {{
    {StopReason::kEos, "eos"},
    {StopReason::kStopSequence, "stop_sequence"},
    {StopReason::kMaxTokens, "max_tokens"},
    {StopReason::kCancelled, "cancelled"},
    {StopReason::kTimeout, "timeout"},
    {StopReason::kMemory, "memory"},
    {StopReason::kError, "error"},
}};

}  // namespace

std::string_view StopReasonName(StopReason reason) {
  for (const auto& [r, name] : kNames) {
    if (r == reason) return name;
  }
  HEARTH_CHECK(false, "unknown StopReason %d", static_cast<int>(reason));
}

std::optional<StopReason> ParseStopReason(std::string_view name) {
  for (const auto& [r, n] : kNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::string_view OpenAiFinishReason(StopReason reason) {
  switch (reason) {
    case StopReason::kEos:
    case StopReason::kStopSequence:
      return "stop";
    case StopReason::kMaxTokens:
    case StopReason::kCancelled:
    case StopReason::kTimeout:
    case StopReason::kMemory:
      return "length";
    case StopReason::kError:
      return "error";
  }
  HEARTH_CHECK(false, "unknown StopReason %d", static_cast<int>(reason));
}

}  // namespace hearth::runtime
