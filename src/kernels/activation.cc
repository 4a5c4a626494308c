#include "kernels/activation.h"

#include <cmath>

namespace hearth::kernels {

void SwiGluRef(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void SwiGlu(float* g, const float* u, int64_t n, Isa isa) {
  const bool x86 = isa == Isa::kAvx2 || isa == Isa::kAvxVnni || isa == Isa::kAvx512 ||
                   isa == Isa::kAvx512Vnni || isa == Isa::kAmx;
  if (x86) {
    SwiGluAvx2(g, u, n);
  } else {
    SwiGluRef(g, u, n);
  }
}

}  // namespace hearth::kernels
