// The dispatch itself: the expected ISA variant is detected and active (so a
// detection or dispatch regression cannot pass silently by running the scalar
// reference everywhere), every SIMD variant has a kernel for every engine
// type, and variants documented as bit-identical are.
//
// HEARTH_EXPECT_ISA=<IsaName> (set by scripts/test-aarch64 per emulated CPU
// model) makes ExpectedIsaIsActive require ActiveIsa() to be exactly that
// variant, e.g. "neon" under qemu -cpu cortex-a72 (no dotprod) and
// "neon-dotprod" under -cpu max.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/matmul_test_util.h"

namespace hearth::kernels {
namespace {

bool Available(const char* name) {
  Isa all[8];
  const int n = AvailableIsas(all);
  for (int i = 0; i < n; ++i) {
    if (std::strcmp(IsaName(all[i]), name) == 0) return true;
  }
  return false;
}
bool Available(Isa isa) {
  return Available(IsaName(isa));
}

std::string AvailableNames() {
  Isa all[8];
  const int n = AvailableIsas(all);
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(i == 0 ? "" : " ") + IsaName(all[i]);
  return s;
}

TEST(IsaDispatch, ExpectedIsaIsActive) {
#if defined(__aarch64__)
  // Advanced SIMD is mandatory on AArch64: HWCAP_ASIMD must be detected.
  EXPECT_TRUE(Available(Isa::kNeon)) << "available: " << AvailableNames();
#endif
  const char* expect = std::getenv("HEARTH_EXPECT_ISA");
  if (expect == nullptr || *expect == '\0') GTEST_SKIP() << "HEARTH_EXPECT_ISA not set";
  const char* forced = std::getenv("HEARTH_ISA");
  if (forced != nullptr && *forced != '\0') {
    // A forced variant may be lower than the best: only require availability.
    EXPECT_TRUE(Available(expect)) << expect << " not among: " << AvailableNames();
    return;
  }
  EXPECT_STREQ(IsaName(ActiveIsa()), expect) << "available: " << AvailableNames();
}

TEST(IsaDispatch, EverySimdVariantHasEveryTypesKernel) {
  Isa all[8];
  const int n = AvailableIsas(all);
  for (GgmlType t : testing::AllWeightTypes()) {
    EXPECT_FALSE(HasSimdKernel(t, Isa::kScalar)) << testing::TypeName(t);
    for (int i = 0; i < n; ++i) {
      const Isa isa = all[i];
      if (isa == Isa::kScalar) continue;
      EXPECT_TRUE(HasSimdKernel(t, isa))
          << testing::TypeName(t) << " on " << IsaName(isa) << " falls back to scalar";
    }
  }
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// kNeonDot only replaces the integer block dots (sdot instead of smull/sadalp),
// whose sums are exact: every output must carry kNeon's bits.
TEST(IsaDispatch, NeonDotBitIdenticalToNeon) {
  if (!Available(Isa::kNeonDot)) GTEST_SKIP() << "no NEON dotprod here: " << AvailableNames();
  std::mt19937 rng(31);
  for (GgmlType type : testing::AllWeightTypes()) {
    const uint32_t bs = GetGgmlTypeInfo(type).block_size;
    for (int64_t n_in : {bs == 1 ? int64_t{100} : int64_t{bs}, int64_t{256} * 7}) {
      SCOPED_TRACE(testing::TypeName(type) + " n_in=" + std::to_string(n_in));
      const int64_t rows = 11;
      const int n_tok = 6;
      testing::Weights w(type, rows, n_in, 1, rng);
      testing::Activations x(type, n_tok, n_in, 7, rng);
      std::vector<float> neon(static_cast<size_t>(rows * n_tok)), dot(neon.size());
      MatmulArgs a{type,  w.row(0),    w.row_bytes, n_in, x.tok(0), x.stride,
                   n_tok, neon.data(), rows,        0,    rows};
      Matmul(a, Isa::kNeon);
      a.y = dot.data();
      Matmul(a, Isa::kNeonDot);
      for (size_t i = 0; i < neon.size(); ++i) ASSERT_EQ(Bits(neon[i]), Bits(dot[i])) << "i=" << i;
    }
  }
}

}  // namespace
}  // namespace hearth::kernels
