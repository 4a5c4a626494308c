// AVX-VNNI kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: the AVX2 ones
// (matmul_avx2_q_impl.h) with each block's dot as one vpdpbusd on 256-bit
// registers (VEX-encoded, as on CPUs with AVX-VNNI but no AVX-512) instead of
// maddubs + madd. The int32 lanes are the same sums of four byte products, and
// maddubs never saturates on these operands (unsigned codes <= 31, or |w| <=
// 128 for Q8_0, against activations in [-127, 127]: a pair sums to at most
// 32512), so every result is the AVX2 kernel's, bit for bit.
#include "kernels/matmul_avx2_lanes_impl.h"
#include "kernels/matmul_avx2_q_impl.h"

namespace hearth::kernels {

MatmulFn AvxVnniQKernel(GgmlType wtype) {
  return Q32Kernel(wtype);
}

MatmulFn AvxVnniLanesKernel(GgmlType wtype) {
  return Q32LanesKernel(wtype);
}

}  // namespace hearth::kernels
