// Every weight type x every ISA variant this CPU runs: Matmul against DotRef
// over sizes from one block to many, misaligned weights and activations, and
// 1..9 tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/matmul_test_util.h"

namespace hearth::kernels {
namespace {

using testing::Activations;
using testing::Weights;

std::vector<int64_t> SizesFor(GgmlType t) {
  const uint32_t bs = GetGgmlTypeInfo(t).block_size;
  if (bs == 1) return {1, 7, 8, 15, 16, 17, 32, 33, 100, 256, 512, 4096 + 32, 4096 + 5};
  if (bs == 32) return {32, 64, 96, 256, 512, 4096 + 32};
  return {256, 512, 768, 4096 + 256};
}

struct Case {
  int64_t n_in;
  int64_t rows;
  int n_tok;
  size_t w_misalign, x_misalign;
};

// Runs one case on one ISA; returns the worst |err| / tolerance seen.
double CheckCase(GgmlType type, Isa isa, const Case& c, std::mt19937& rng) {
  Weights w(type, c.rows, c.n_in, c.w_misalign, rng);
  Activations x(type, c.n_tok, c.n_in, c.x_misalign, rng);
  const int64_t y_stride = c.rows + 3;
  std::vector<float> y(static_cast<size_t>(y_stride * c.n_tok), -12345.0f);
  MatmulArgs a{type,    w.row(0), w.row_bytes, c.n_in, x.tok(0), x.stride,
               c.n_tok, y.data(), y_stride,    0,      c.rows};
  Matmul(a, isa);
  double worst = 0.0;
  for (int t = 0; t < c.n_tok; ++t) {
    for (int64_t r = 0; r < c.rows; ++r) {
      const float ref = DotRef(type, w.row(r), x.tok(t), c.n_in);
      const float got = y[t * y_stride + r];
      const double tol =
          testing::Tolerance(c.n_in, testing::Magnitude(type, w.row(r), x.tok(t), c.n_in));
      const double err = std::fabs(static_cast<double>(got) - ref);
      EXPECT_LE(err, tol) << testing::TypeName(type) << " " << IsaName(isa) << " n_in=" << c.n_in
                          << " rows=" << c.rows << " n_tok=" << c.n_tok << " r=" << r << " t=" << t
                          << " got=" << got << " ref=" << ref;
      if (err > tol) return err / tol;
      worst = std::max(worst, err / tol);
    }
    // Padding columns untouched.
    for (int64_t r = c.rows; r < y_stride; ++r) EXPECT_EQ(y[t * y_stride + r], -12345.0f);
  }
  return worst;
}

class MatmulVsRef : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatmulVsRef, SizesAlignmentsTokens) {
  const GgmlType type = GetParam();
  std::mt19937 rng(1234 + static_cast<unsigned>(type));
  std::uniform_int_distribution<int> misalign(1, 63);
  for (Isa isa : testing::Isas()) {
    double worst = 0.0;
    int cases = 0;
    for (int64_t n_in : SizesFor(type)) {
      const bool big = n_in > 1024;
      // Rows 1..67 and tokens 1..9, aligned and misaligned buffers (one token
      // over 9 or 67 rows: whole groups of four decode streams and rows left over).
      const std::vector<Case> cs = {
          {n_in, 1, 1, 0, 0},
          {n_in, big ? 9 : 67, 1, static_cast<size_t>(misalign(rng)),
           static_cast<size_t>(misalign(rng))},
          {n_in, big ? 5 : 13, big ? 5 : 9, static_cast<size_t>(misalign(rng)), 0},
          {n_in, 7, big ? 2 : 4, 0, static_cast<size_t>(misalign(rng))},
          {n_in, 2, 3, static_cast<size_t>(misalign(rng)), static_cast<size_t>(misalign(rng))},
      };
      for (const Case& c : cs) {
        worst = std::max(worst, CheckCase(type, isa, c, rng));
        ++cases;
        if (HasFailure()) return;
      }
    }
    RecordProperty(std::string("worst_err_over_tol_") + IsaName(isa), std::to_string(worst));
    std::printf("  %-5s %-12s %2d cases, worst |err|/tol = %.3g\n", testing::TypeName(type).c_str(),
                IsaName(isa), cases, worst);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulVsRef, ::testing::ValuesIn(testing::AllWeightTypes()),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                           return testing::TypeName(p.param);
                         });

TEST(MatmulIsa, NamesAndAvailability) {
  Isa all[8];
  const int n = AvailableIsas(all);
  ASSERT_GE(n, 1);
  EXPECT_EQ(all[0], Isa::kScalar);
  EXPECT_STREQ(IsaName(Isa::kScalar), "scalar");
  EXPECT_STREQ(IsaName(Isa::kAvx2), "avx2");
  EXPECT_STREQ(IsaName(Isa::kAvxVnni), "avx-vnni");
  EXPECT_STREQ(IsaName(Isa::kAvx512), "avx512");
  EXPECT_STREQ(IsaName(Isa::kAvx512Vnni), "avx512-vnni");
  EXPECT_STREQ(IsaName(Isa::kNeon), "neon");
  EXPECT_STREQ(IsaName(Isa::kNeonDot), "neon-dotprod");
  bool active_listed = false;
  for (int i = 0; i < n; ++i) active_listed |= all[i] == ActiveIsa();
  EXPECT_TRUE(active_listed);
}

TEST(MatmulIsa, SupportsExactlyTheEngineTypes) {
  for (GgmlType t : testing::AllWeightTypes())
    EXPECT_TRUE(MatmulSupports(t)) << testing::TypeName(t);
  EXPECT_FALSE(MatmulSupports(GgmlType::kQ2_K));
  EXPECT_FALSE(MatmulSupports(GgmlType::kIQ4_NL));
}

// The row visiting order is a permutation of the range, and its first rows
// are taken from kStreams different parts of it (for the default and others).
TEST(MatmulRowOrder, StreamRowVisitsEveryRowOnce) {
  for (int64_t begin : {0, 3, 1000}) {
    for (int64_t n : {0, 1, 3, 4, 5, 17, 64, 1023}) {
      std::vector<int> seen(static_cast<size_t>(n), 0);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = StreamRow<4>(begin, begin + n, i);
        ASSERT_GE(r, begin);
        ASSERT_LT(r, begin + n);
        ++seen[static_cast<size_t>(r - begin)];
        EXPECT_EQ(StreamRow<1>(begin, begin + n, i), begin + i);
      }
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "n=" << n;
      std::vector<int> seen2(static_cast<size_t>(n), 0);
      for (int64_t i = 0; i < n; ++i)
        ++seen2[static_cast<size_t>(StreamRow<2>(begin, begin + n, i) - begin)];
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen2[static_cast<size_t>(i)], 1) << "n=" << n;
    }
  }
  EXPECT_EQ(StreamRow<4>(0, 64, 1), 16);  // the second row comes from the second part
  EXPECT_EQ(StreamRow<4>(0, 64, 4), 1);
  EXPECT_EQ(StreamRow<2>(0, 64, 1), 32);
  EXPECT_EQ(StreamRow<2>(0, 64, 2), 1);
  EXPECT_EQ(StreamRow<2>(0, 65, 64), 64);  // the row left over by the cut comes last
  EXPECT_GE(kRowStreams, 1);
}

// ForRowStreams<N> covers the rows StreamRow<N> visits, in its order: row i
// of each of the N parts together, then the rows left over by the cut.
template <int N>
void CheckRowStreams() {
  for (int64_t begin : {0, 3, 1000}) {
    for (int64_t n : {0, 1, 2, 3, 4, 5, 7, 17, 64, 1023}) {
      std::vector<int64_t> order;
      ForRowStreams<N>(
          begin, begin + n,
          [&](const int64_t* r) {
            for (int k = 0; k < N; ++k) {
              EXPECT_EQ(r[k] - r[0], k * (n / N)) << "n=" << n;
              order.push_back(r[k]);
            }
          },
          [&](int64_t r) { order.push_back(r); });
      ASSERT_EQ(static_cast<int64_t>(order.size()), n);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(order[static_cast<size_t>(i)], StreamRow<N>(begin, begin + n, i))
            << "N=" << N << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(MatmulRowOrder, RowStreamsFollowStreamRow) {
  CheckRowStreams<2>();
  CheckRowStreams<4>();
  CheckRowStreams<kDecodeRowsX86>();
}

}  // namespace
}  // namespace hearth::kernels
