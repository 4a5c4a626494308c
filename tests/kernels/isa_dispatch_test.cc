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

#include <cmath>
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

// Y [n_tok][rows] of w against x on one ISA.
std::vector<float> RunOn(Isa isa, const testing::Weights& w, const testing::Activations& x) {
  std::vector<float> y(static_cast<size_t>(w.rows * x.n_tok));
  const MatmulArgs a{w.type,  w.row(0), w.row_bytes, w.n_in, x.tok(0), x.stride,
                     x.n_tok, y.data(), w.rows,      0,      w.rows};
  Matmul(a, isa);
  return y;
}

// Every code byte of a 32-element block type (not the F16 d and m) at an
// extreme: Q8_0 -128 and 127, the others all ones (Q4 codes 15, Q5 codes 31).
void SetExtremeCodes(testing::Weights& w) {
  const size_t block = GetGgmlTypeInfo(w.type).type_size;
  const size_t head = w.type == GgmlType::kQ4_1 || w.type == GgmlType::kQ5_1 ? 4 : 2;
  for (int64_t r = 0; r < w.rows; ++r) {
    uint8_t* row = w.buf.data() + r * w.row_bytes;
    for (size_t o = 0; o < w.row_bytes; ++o) {
      if (o % block >= head) row[o] = w.type == GgmlType::kQ8_0 ? (o % 3 ? 0x80 : 0x7F) : 0xFF;
    }
  }
}

// kAvxVnni only replaces the AVX2 kernels' block dots (one vpdpbusd instead of
// maddubs + madd, the same int32 lanes): every output must carry kAvx2's bits,
// also for the largest codes (SetExtremeCodes) where maddubs's int16 pairs come
// closest to saturating.
TEST(IsaDispatch, AvxVnniBitIdenticalToAvx2) {
  if (!Available(Isa::kAvxVnni)) GTEST_SKIP() << "no AVX-VNNI here: " << AvailableNames();
  std::mt19937 rng(37);
  for (GgmlType type :
       {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0}) {
    EXPECT_TRUE(HasSimdKernel(type, Isa::kAvxVnni)) << testing::TypeName(type);
    for (int64_t n_in : {int64_t{32}, int64_t{32} * 7, int64_t{32} * 64 + 32 * 3}) {
      for (bool extreme : {false, true}) {
        SCOPED_TRACE(testing::TypeName(type) + " n_in=" + std::to_string(n_in) +
                     (extreme ? " extreme codes" : ""));
        const int64_t rows = 13;
        testing::Weights w(type, rows, n_in, 3, rng);
        if (extreme) SetExtremeCodes(w);
        testing::Activations x(type, 5, n_in, 9, rng);
        const std::vector<float> avx2 = RunOn(Isa::kAvx2, w, x), vnni = RunOn(Isa::kAvxVnni, w, x);
        for (size_t i = 0; i < avx2.size(); ++i) {
          ASSERT_EQ(Bits(avx2[i]), Bits(vnni[i])) << "i=" << i;
          const int t = static_cast<int>(i / rows);
          const int64_t r = static_cast<int64_t>(i % rows);
          const float ref = DotRef(type, w.row(r), x.tok(t), n_in);
          ASSERT_LE(std::fabs(vnni[i] - ref),
                    testing::Tolerance(n_in, testing::Magnitude(type, w.row(r), x.tok(t), n_in)))
              << "i=" << i;
        }
      }
    }
  }
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
      testing::Weights w(type, 11, n_in, 1, rng);
      testing::Activations x(type, 6, n_in, 7, rng);
      const std::vector<float> neon = RunOn(Isa::kNeon, w, x), dot = RunOn(Isa::kNeonDot, w, x);
      for (size_t i = 0; i < neon.size(); ++i) ASSERT_EQ(Bits(neon[i]), Bits(dot[i])) << "i=" << i;
    }
  }
}

}  // namespace
}  // namespace hearth::kernels
