// The SwiGLU variants against the scalar reference (std::exp), over lengths
// that do and do not fill whole vectors, misaligned buffers and extreme
// values; the elements past n are never written.
#include "kernels/activation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace hearth::kernels {
namespace {

TEST(SwiGlu, EveryVariantMatchesTheReference) {
  Isa isas[8];
  const int n_isa = AvailableIsas(isas);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 4.0f);
  const float specials[] = {0.0f,   -0.0f, 1e-30f, -1e-30f, 20.0f,   -20.0f, 87.0f,
                            -87.0f, 88.5f, -88.5f, 100.0f,  -100.0f, 1e30f,  -1e30f};
  for (int i = 0; i < n_isa; ++i) {
    for (int64_t n : {1, 7, 8, 9, 31, 64, 5632 + 3}) {
      for (int misalign : {0, 1, 3}) {
        SCOPED_TRACE(std::string(IsaName(isas[i])) + " n=" + std::to_string(n) +
                     " misalign=" + std::to_string(misalign));
        std::vector<float> g(static_cast<size_t>(n + misalign + 8)), u(g.size());
        for (size_t k = 0; k < g.size(); ++k) {
          g[k] = k % 5 == 4 ? specials[k % std::size(specials)] : nd(rng);
          u[k] = nd(rng);
        }
        std::vector<float> ref = g, got = g;
        SwiGluRef(ref.data() + misalign, u.data() + misalign, n);
        SwiGlu(got.data() + misalign, u.data() + misalign, n, isas[i]);
        for (size_t k = 0; k < g.size(); ++k) {
          const bool inside =
              k >= static_cast<size_t>(misalign) && k < static_cast<size_t>(misalign + n);
          if (!inside) {
            ASSERT_EQ(got[k], g[k]) << "element " << k << " outside [0, n) was written";
            continue;
          }
          const float tol = 2e-6f * std::fabs(ref[k]) + 1e-30f;
          ASSERT_NEAR(got[k], ref[k], tol) << "x=" << g[k] << " u=" << u[k];
        }
      }
    }
  }
}

TEST(SwiGlu, KnownValues) {
  // silu(0) = 0, silu(x) -> x for large x, -> 0 for very negative x; NaN stays NaN.
  float g[5] = {0.0f, 30.0f, -120.0f, 1.0f, std::numeric_limits<float>::quiet_NaN()};
  const float u[5] = {3.0f, 2.0f, 1.0f, 1.0f, 1.0f};
  SwiGlu(g, u, 5, ActiveIsa());
  EXPECT_EQ(g[0], 0.0f);
  EXPECT_NEAR(g[1], 60.0f, 1e-4f);
  EXPECT_NEAR(g[2], 0.0f, 1e-30f);
  EXPECT_NEAR(g[3], 1.0f / (1.0f + std::exp(-1.0f)), 1e-6f);
  EXPECT_TRUE(std::isnan(g[4]));
}

}  // namespace
}  // namespace hearth::kernels
