// StopMatcher: caller-given stop strings over streamed, decoded text.
//
// Fed successive chunks of decoded text (from the streaming detokenizer, so
// each chunk is complete UTF-8), it returns the text that is safe to emit:
//  - text that could still be the start of a stop string is held back: the
//    longest suffix of the unemitted text that is a proper prefix of some
//    stop string;
//  - when a stop string appears, the text before it is emitted and the stop
//    string and everything after it are dropped; the matcher is then done;
//  - emitted text never ends inside a UTF-8 character (an unfinished
//    character at the end of a chunk is held too, so byte-split input is
//    also safe; Flush() returns whatever is left as is).
// Which match wins: the occurrence that ends first in the text (generation
// stops as soon as any stop string is complete); among those ending at the
// same byte, the one that starts first. So the result does not depend on how
// the text was split into chunks.
//
// Cost: a Push is O(held + chunk) per stop string for the search plus
// O(sum of stop lengths^2) for the hold-back; memory is the held text.
// Thread safety: none; one per request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hearth::runtime {

class StopMatcher {
 public:
  struct Step {
    std::string text;      // safe to emit now (possibly empty)
    bool stopped = false;  // a stop string matched (now or earlier)
  };

  // Stop strings must be non-empty valid UTF-8 (else reason
  // "invalid_parameter", naming the parameter "stop"). An empty list is
  // fine: chunks pass through (only an unfinished UTF-8 tail is held).
  static Result<StopMatcher> Create(std::vector<std::string> stop_strings);

  // Appends `chunk` to the text and returns what may be emitted. After a
  // match, returns {"", true} for every further call.
  Step Push(std::string_view chunk);

  // End of generation: returns the held text (empty after a match).
  std::string Flush();

  bool stopped() const { return matched_ >= 0; }
  // Index into the stop strings of the match, or -1.
  int matched_index() const { return matched_; }
  // Bytes received but neither emitted nor dropped yet.
  size_t held_bytes() const { return pending_.size(); }
  const std::vector<std::string>& stop_strings() const { return stops_; }

 private:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Length of the longest suffix of pending_ that is a proper prefix of a stop string.
  size_t HoldLength() const;

  std::vector<std::string> stops_;
  std::string pending_;  // received, not yet emitted
  int matched_ = -1;
};

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace hearth::runtime
