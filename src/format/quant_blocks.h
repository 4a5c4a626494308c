// Block layouts of the quantized GGUF weight types. Each struct is the exact
// on-disk layout (little-endian); sizes are asserted against the type table.
#pragma once

#include <cstdint>

namespace hearth {

constexpr int kQK8_0 = 32;

// Q8_0: 32 weights = d * q[i], d an F16 scale, q int8.
struct BlockQ8_0 {
  uint16_t d;  // F16 scale
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

}  // namespace hearth
