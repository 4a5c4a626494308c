// Stand-ins for the AArch64 NEON variants on targets that are not AArch64
// (only compiled there; see CMakeLists.txt). CanRun never selects kNeon or
// kNeonDot on such a target, so these are never reached.
#include "kernels/attention.h"
#include "kernels/kernel_table.h"

namespace hearth::kernels {

MatmulFn NeonKernel(GgmlType, bool) {
  return nullptr;
}

void AttendHeadNeon(const AttnArgs& a) {
  AttendHeadRef(a);
}

}  // namespace hearth::kernels
