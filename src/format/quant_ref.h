// Scalar reference quantization and dequantization: the executable spec of
// each weight format. Fast kernels are tested against these.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "format/ggml_types.h"

namespace hearth {

// True if QuantizeRowRef can produce `type`.
bool CanQuantize(GgmlType type);

// Converts n floats (n a multiple of the type's block size) into `type`'s bytes.
Status QuantizeRowRef(GgmlType type, const float* x, int64_t n, void* out);
// Expands n values of `type` into floats. Unimplemented for types without a reference yet.
Status DequantizeRowRef(GgmlType type, const void* in, int64_t n, float* y);

}  // namespace hearth
