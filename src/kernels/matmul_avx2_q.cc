// AVX2 kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (matmul_avx2_q_impl.h; the
// block dots as maddubs + madd).
#include "kernels/matmul_avx2_lanes_impl.h"
#include "kernels/matmul_avx2_q_impl.h"

namespace hearth::kernels {

MatmulFn Avx2QKernel(GgmlType wtype) {
  return Q32Kernel(wtype);
}

MatmulFn Avx2LanesKernel(GgmlType wtype) {
  return Q32LanesKernel(wtype);
}

}  // namespace hearth::kernels
