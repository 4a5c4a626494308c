// Element-wise activations of the feed-forward block.
//
// SwiGlu: g[i] = silu(g[i]) * u[i], silu(x) = x / (1 + e^-x), i < n.
// SwiGluRef is the specification (std::exp, index order); the AVX2 variant
// computes e^-|x| with the polynomial of Exp8 (relative error below 3e-7) and
// the logistic from it, 8 values at a time. Each variant is deterministic: a
// value's result depends only on g[i] and u[i].
#pragma once

#include <cstdint>

#include "kernels/matmul.h"

namespace hearth::kernels {

void SwiGluRef(float* g, const float* u, int64_t n);
// Dispatches to the best variant `isa` allows.
void SwiGlu(float* g, const float* u, int64_t n, Isa isa);

// Internal: the AVX2+FMA variant (activation_avx2.cc); on a target without it a
// stand-in that runs SwiGluRef (never reached: SwiGlu dispatches by the ISA).
void SwiGluAvx2(float* g, const float* u, int64_t n);

}  // namespace hearth::kernels
