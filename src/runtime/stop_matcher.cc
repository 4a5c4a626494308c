#include "runtime/stop_matcher.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "base/strings.h"

namespace hearth::runtime {
namespace {

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Bytes at the end of `s` that begin a UTF-8 character but do not finish it
// (0 if `s` ends on a character boundary).
size_t IncompleteTail(std::string_view s) {
  for (size_t back = 1; back <= std::min<size_t>(4, s.size()); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;  // continuation byte, overlong lead C0/C1, or F5..FF
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if (!IsContinuation(s[i + k])) return false;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

Result<StopMatcher> StopMatcher::Create(std::vector<std::string> stop_strings) {
  for (size_t i = 0; i < stop_strings.size(); ++i) {
    if (stop_strings[i].empty()) {
      return InvalidArgumentError(StrFormat("stop[%zu] is empty", i), "invalid_parameter");
    }
    if (!IsValidUtf8(stop_strings[i])) {
      return InvalidArgumentError(StrFormat("stop[%zu] is not valid UTF-8", i),
                                  "invalid_parameter");
    }
  }
  return StopMatcher(std::move(stop_strings));
}

size_t StopMatcher::HoldLength() const {
  const std::string_view text = pending_;
  size_t best = 0;
  for (const std::string& stop : stops_) {
    // Only lengths longer than the best so far can matter.
    for (size_t len = std::min(stop.size() - 1, text.size()); len > best; --len) {
      if (text.ends_with(std::string_view(stop).substr(0, len))) {
        best = len;
        break;
      }
    }
  }
  return best;
}

StopMatcher::Step StopMatcher::Push(std::string_view chunk) {
  Step step;
  if (stopped()) {
    step.stopped = true;
    return step;
  }
  pending_.append(chunk);

  // The earliest-ending occurrence of any stop string. Nothing ends inside
  // the text held before this chunk (it would have matched then), and no
  // occurrence starts in emitted text (its start would have been held).
  size_t best_start = std::string::npos;
  size_t best_end = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t pos = pending_.find(stops_[i]);
    if (pos == std::string::npos) continue;
    const size_t end = pos + stops_[i].size();
    if (end < best_end || (end == best_end && pos < best_start)) {
      best_start = pos;
      best_end = end;
      matched_ = static_cast<int>(i);
    }
  }
  if (matched_ >= 0) {
    step.text.assign(pending_, 0, best_start);
    step.stopped = true;
    pending_.clear();
    return step;
  }

  // Valid UTF-8 stop strings start on a character boundary, so the two
  // adjustments below only act on input that is not valid UTF-8 (or split
  // inside a character): hold more, never split a character.
  size_t cut = std::min(pending_.size() - HoldLength(), pending_.size() - IncompleteTail(pending_));
  while (cut > 0 && cut < pending_.size() && IsContinuation(pending_[cut])) --cut;
  step.text.assign(pending_, 0, cut);
  pending_.erase(0, cut);
  return step;
}

std::string StopMatcher::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace hearth::runtime
