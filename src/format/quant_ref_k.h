// Scalar reference (de)quantization of the k-quant super-block formats.
// `nb` counts super-blocks of 256 values. The quantizers pick scales from each
// sub-block's range (a simple, valid choice; not a search for the best scales).
#pragma once

#include <cstdint>

#include "format/quant_blocks.h"

namespace hearth {

void QuantizeQ4_K(const float* x, int64_t nb, BlockQ4_K* y);
void DequantizeQ4_K(const BlockQ4_K* x, int64_t nb, float* y);
void QuantizeQ5_K(const float* x, int64_t nb, BlockQ5_K* y);
void DequantizeQ5_K(const BlockQ5_K* x, int64_t nb, float* y);
void QuantizeQ6_K(const float* x, int64_t nb, BlockQ6_K* y);
void DequantizeQ6_K(const BlockQ6_K* x, int64_t nb, float* y);

}  // namespace hearth
