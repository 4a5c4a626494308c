// NEON + dotprod kernels for the quantized types (sdot for the integer block
// dots). Compiled with -march=armv8.2-a+dotprod and run only when the CPU
// reports dotprod (HWCAP_ASIMDDP). Reduction orders as the baseline NEON
// kernels (matmul_neon_q_impl.h, matmul_neon_k_impl.h); results are
// bit-identical to kNeon because every integer block sum is exact.
#if !defined(__ARM_FEATURE_DOTPROD)
#error "matmul_neondot.cc must be compiled with -march=armv8.2-a+dotprod"
#endif

#include "kernels/kernel_table.h"
#include "kernels/matmul_neon_k_impl.h"
#include "kernels/matmul_neon_q_impl.h"

namespace hearth::kernels {

MatmulFn NeonDotKernel(GgmlType wtype) {
  if (MatmulFn f = NeonQTable(wtype)) return f;
  return NeonKTable(wtype);
}

}  // namespace hearth::kernels
