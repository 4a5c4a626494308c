// Internal: the regex stages of each GGUF `tokenizer.ggml.pre` family.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/unicode/fast_split.h"

namespace hearth::unicode::internal {

struct Family {
  std::vector<std::string_view> names;     // tokenizer.ggml.pre values
  std::vector<std::string_view> patterns;  // stages, applied in order
  FastPattern fast = FastPattern::kNone;   // equivalent hand-written splitter, if any
  bool custom = false;                     // llama.cpp uses custom code we do not reproduce
};

const std::vector<Family>& Families();

// The hand-written splitter equivalent to a single tokenizer.json pattern, if any.
FastPattern FastPatternFor(std::string_view pattern);

}  // namespace hearth::unicode::internal
