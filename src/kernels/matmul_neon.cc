// NEON (armv8-a baseline) kernels for the quantized types, and NeonKernel, the
// AArch64 kernel table used by SelectKernel for kNeon and kNeonDot.
// Reduction orders: matmul_neon_q_impl.h (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0),
// matmul_neon_k_impl.h (Q4_K Q5_K Q6_K), matmul_neon_f.cc (F32 F16 BF16). The
// dotprod kernels (matmul_neondot.cc) follow the same orders and give
// bit-identical results.
#include "kernels/kernel_table.h"
#include "kernels/matmul_neon_k_impl.h"
#include "kernels/matmul_neon_q_impl.h"

namespace hearth::kernels {

MatmulFn NeonKernel(GgmlType wtype, bool dotprod) {
  if (dotprod) {
    if (MatmulFn f = NeonDotKernel(wtype)) return f;
  }
  if (MatmulFn f = NeonQTable(wtype)) return f;
  if (MatmulFn f = NeonKTable(wtype)) return f;
  return NeonFKernel(wtype);
}

}  // namespace hearth::kernels
