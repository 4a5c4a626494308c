// Internal: where the parts of one prepared activation row live (the layouts
// documented at ActivationRowBytes in matmul.h) and the weight-type families.
// ISA-neutral; safe to include from any variant's translation unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "format/ggml_types.h"
#include "format/quant_blocks.h"

namespace hearth::kernels {

enum class ActKind { kF32, kQ8Blocks32, kQ8Super256, kUnsupported };

inline ActKind ActKindFor(GgmlType t) {
  switch (t) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return ActKind::kF32;
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
      return ActKind::kQ8Blocks32;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return ActKind::kQ8Super256;
    default:
      return ActKind::kUnsupported;
  }
}

// Q8 blocks of 32: int8 q[n_in]; float d[nb]; int32 sum[nb].
struct Act32View {
  const int8_t* q = nullptr;
  const uint8_t* d = nullptr;    // float[nb], possibly unaligned
  const uint8_t* sum = nullptr;  // int32[nb], possibly unaligned
  Act32View() = default;
  Act32View(const uint8_t* x, int64_t n_in)
      : q(reinterpret_cast<const int8_t*>(x)), d(x + n_in), sum(x + n_in + 4 * (n_in / kQK)) {}
  float Scale(int64_t b) const {
    float v;
    std::memcpy(&v, d + 4 * b, 4);
    return v;
  }
  int32_t Sum(int64_t b) const {
    int32_t v;
    std::memcpy(&v, sum + 4 * b, 4);
    return v;
  }
};

// Q8 super-blocks of 256: int8 q[n_in]; float d[n_in/256]; int16 bsum[n_in/16].
struct Act256View {
  const int8_t* q = nullptr;
  const uint8_t* d = nullptr;     // float[nsb]
  const uint8_t* bsum = nullptr;  // int16[n_in/16]
  Act256View() = default;
  Act256View(const uint8_t* x, int64_t n_in)
      : q(reinterpret_cast<const int8_t*>(x)), d(x + n_in), bsum(x + n_in + 4 * (n_in / kQKK)) {}
  float Scale(int64_t b) const {
    float v;
    std::memcpy(&v, d + 4 * b, 4);
    return v;
  }
  int16_t BSum(int64_t s) const {
    int16_t v;
    std::memcpy(&v, bsum + 2 * s, 2);
    return v;
  }
};

}  // namespace hearth::kernels
