// Renders a parsed template. One Evaluator per render (it holds the variable
// frames and the output); the tree it walks is shared and read-only.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "tokenizer/chat/ast.h"
#include "tokenizer/chat/value.h"

namespace hearth::chat {

// Bounds that keep hostile templates (they come from model files) from
// hanging or exhausting memory. Exceeding one is a ResourceExhausted error
// with reason "template.limit".
struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;
  uint64_t max_steps = 2'000'000;  // statements + expressions evaluated (~1 s)
  int max_call_depth = 64;         // macro calls
  int64_t max_range = 100'000;     // range() length
};

// `context` must be a dict (its members become the template's variables).
// raise_exception("msg") fails with exactly "msg" (reason "template.raise").
Result<std::string> RenderBody(const Body& body, const Value& context, const RenderLimits& limits);

}  // namespace hearth::chat
