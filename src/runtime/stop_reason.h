// StopReason: why a generation ended. One vocabulary everywhere (DESIGN §5):
// the engine, the server's footers and logs, the CLI's stats.
#pragma once

#include <optional>
#include <string_view>

namespace hearth::runtime {

enum class StopReason : unsigned char {
  kEos,           // the model produced an end-of-generation / end-of-turn token
  kStopSequence,  // a caller-given stop string appeared in the decoded text
  kMaxTokens,     // the max_tokens budget ran out
  kCancelled,     // the client went away or asked to stop
  kTimeout,       // the request deadline or the stall timeout passed
  kMemory,        // the memory budget forced a stop (partial output)
  kError,         // generation failed (the error travels separately as a Status)
};

// "eos", "stop_sequence", "max_tokens", "cancelled", "timeout", "memory", "error".
std::string_view StopReasonName(StopReason reason);

// Inverse of StopReasonName; nullopt for anything else (case-sensitive).
std::optional<StopReason> ParseStopReason(std::string_view name);

// OpenAI `finish_reason`: eos and stop_sequence -> "stop"; max_tokens ->
// "length". The others have no OpenAI value; they map to "length" (the
// output was cut short by a limit, not finished by the model: cancelled,
// timeout, memory) and "error" for kError (non-standard; servers normally send
// the error envelope instead of a finish_reason then).
std::string_view OpenAiFinishReason(StopReason reason);

}  // namespace hearth::runtime
