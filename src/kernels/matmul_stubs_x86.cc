// Stand-ins for the x86-64 variants on targets that are not x86-64 (only
// compiled there; see CMakeLists.txt). CanRun never selects an x86 ISA on such
// a target, so these are never reached; they keep SelectKernel and AttendHead
// free of preprocessor branches. A new x86 kernel entry point in kernel_table.h,
// attention.h or activation.h needs a stand-in here.
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/kernel_table.h"

namespace hearth::kernels {

MatmulFn Avx2QKernel(GgmlType) {
  return nullptr;
}
MatmulFn AvxVnniQKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx2LanesKernel(GgmlType) {
  return nullptr;
}
MatmulFn AvxVnniLanesKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx2KKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx2FKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx512FKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx512VnniQKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx512VnniKKernel(GgmlType) {
  return nullptr;
}
MatmulFn Avx512VnniLanesKernel(GgmlType) {
  return nullptr;
}
MatmulFn AmxKernel(GgmlType) {
  return nullptr;
}
MatmulFn AmxKKernel(GgmlType) {
  return nullptr;
}

void AttendHeadAvx2(const AttnArgs& a) {
  AttendHeadRef(a);
}

void AttendHeadAvx512(const AttnArgs& a) {
  AttendHeadRef(a);
}

float AttentionSoftmaxFromAvx2(float*, int, int, float, const float*) {
  return 0.0f;
}

void SwiGluAvx2(float* g, const float* u, int64_t n) {
  SwiGluRef(g, u, n);
}

}  // namespace hearth::kernels
