// Internal: the float steps of the AVX-512 VNNI and AMX kernels for Q4_K and
// Q6_K. Both variants first compute, per super-block b of a (row, token), the
// exact integers S_b = sum over sub-blocks of scale * (codes . activations)
// (Q6_K: minus 32 * sum of scale * activation sums) and, for Q4_K,
// M_b = sum of min * activation sums. Only then do floats enter:
//   l[b % 4] = fma(d_b * da_b, S_b, l[b % 4]);  Q4_K also
//   l[b % 4] = fma(-dmin_b * da_b, M_b, l[b % 4]);
//   result = (l[0] + l[1]) + (l[2] + l[3]).
// The VNNI kernel runs these steps one (row, token) at a time, the AMX kernel
// 16 tokens at a time; the operations per element are the same, so are the bits.
#pragma once

#include <cmath>
#include <cstdint>

namespace hearth::kernels {
namespace {

struct KAccumulator {
  float l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  void Add(int64_t b, float d, float da, int32_t s) {
    float& a = l[b & 3];
    a = std::fma(d * da, static_cast<float>(s), a);
  }
  float Result() const { return (l[0] + l[1]) + (l[2] + l[3]); }
};

}  // namespace
}  // namespace hearth::kernels
