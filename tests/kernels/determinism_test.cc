// Determinism by construction: for every type and ISA, Y[t][r] is bit-identical
// whether token t is computed alone or in a batch (at any position), and
// whatever row range split computes row r.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/matmul_test_util.h"

namespace hearth::kernels {
namespace {

using testing::Activations;
using testing::Weights;

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

class MatmulDeterminism : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatmulDeterminism, BatchAndSplitInvariant) {
  const GgmlType type = GetParam();
  const uint32_t bs = GetGgmlTypeInfo(type).block_size;
  const int64_t n_in = bs == 1 ? 333 : (bs == 32 ? 32 * 37 : 256 * 5);
  const int64_t rows = 29;
  const int n_tok = 9;
  std::mt19937 rng(99 + static_cast<unsigned>(type));
  Weights w(type, rows, n_in, 3, rng);
  Activations x(type, n_tok, n_in, 5, rng);
  for (Isa isa : testing::Isas()) {
    SCOPED_TRACE(IsaName(isa));
    std::vector<float> full(static_cast<size_t>(rows * n_tok));
    Matmul(
        {type, w.row(0), w.row_bytes, n_in, x.tok(0), x.stride, n_tok, full.data(), rows, 0, rows},
        isa);
    // Each token alone, and each token inside every sub-batch [t0, t1).
    for (int t0 = 0; t0 < n_tok; ++t0) {
      for (int t1 = t0 + 1; t1 <= n_tok; ++t1) {
        const int n = t1 - t0;
        std::vector<float> part(static_cast<size_t>(rows * n));
        Matmul(
            {type, w.row(0), w.row_bytes, n_in, x.tok(t0), x.stride, n, part.data(), rows, 0, rows},
            isa);
        for (int t = 0; t < n; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            ASSERT_EQ(Bits(part[t * rows + r]), Bits(full[(t0 + t) * rows + r]))
                << "tokens [" << t0 << "," << t1 << ") t=" << t << " r=" << r;
          }
        }
      }
    }
    // Row splits: every two-way and a few three-way splits.
    for (int64_t s1 = 0; s1 <= rows; ++s1) {
      for (int64_t s2 : {s1, std::min(rows, s1 + 1), std::min(rows, s1 + 7), rows}) {
        std::vector<float> split(full.size(), 0.0f);
        for (auto [b, e] : {std::pair{int64_t{0}, s1}, std::pair{s1, s2}, std::pair{s2, rows}}) {
          Matmul({type, w.row(0), w.row_bytes, n_in, x.tok(0), x.stride, n_tok, split.data(), rows,
                  b, e},
                 isa);
        }
        for (size_t i = 0; i < full.size(); ++i) {
          ASSERT_EQ(Bits(split[i]), Bits(full[i])) << "split " << s1 << "," << s2 << " i=" << i;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulDeterminism,
                         ::testing::ValuesIn(testing::AllWeightTypes()),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                           return testing::TypeName(p.param);
                         });

// QuantizeActivations: per block d = amax/127 and q = round(x/d) within half a
// step, q in [-127, 127], sums equal to the sums of q; identical for every isa.
TEST(QuantizeActivations, BlocksScalesAndSums) {
  std::mt19937 rng(7);
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kF16}) {
    const int64_t n_in = 1024;
    const std::vector<float> v = testing::RandomValues(rng, n_in);
    const size_t bytes = ActivationRowBytes(type, n_in);
    std::vector<uint8_t> ref(bytes);
    QuantizeActivations(type, v.data(), n_in, ref.data(), Isa::kScalar);
    for (Isa isa : testing::Isas()) {
      std::vector<uint8_t> got(bytes);
      QuantizeActivations(type, v.data(), n_in, got.data(), isa);
      EXPECT_EQ(got, ref) << IsaName(isa);
    }
    const uint32_t bs = GetGgmlTypeInfo(type).block_size;
    if (bs == 1) {
      EXPECT_EQ(std::memcmp(ref.data(), v.data(), bytes), 0);
      continue;
    }
    for (int64_t b = 0; b < n_in / bs; ++b) {
      float d;
      std::memcpy(&d, ref.data() + n_in + 4 * b, 4);
      float amax = 0.0f;
      for (uint32_t j = 0; j < bs; ++j) amax = std::max(amax, std::fabs(v[b * bs + j]));
      EXPECT_FLOAT_EQ(d, amax / 127.0f);
      for (uint32_t j = 0; j < bs; ++j) {
        const int q = static_cast<int8_t>(ref[b * bs + j]);
        EXPECT_LE(std::abs(q), 127);
        EXPECT_LE(std::fabs(q * d - v[b * bs + j]), 0.5001f * d);
      }
    }
    // Sums: per block of 32 (int32) or per 16 (int16).
    const int64_t group = bs == 32 ? 32 : 16;
    const size_t sum_off = n_in + 4 * (n_in / bs);
    for (int64_t g = 0; g < n_in / group; ++g) {
      int sum = 0;
      for (int64_t j = 0; j < group; ++j) sum += static_cast<int8_t>(ref[g * group + j]);
      if (group == 32) {
        int32_t s;
        std::memcpy(&s, ref.data() + sum_off + 4 * g, 4);
        EXPECT_EQ(s, sum);
      } else {
        int16_t s;
        std::memcpy(&s, ref.data() + sum_off + 2 * g, 2);
        EXPECT_EQ(s, sum);
      }
    }
  }
}

TEST(QuantizeActivations, ZeroBlockIsAllZero) {
  std::vector<float> v(256, 0.0f);
  std::vector<uint8_t> out(ActivationRowBytes(GgmlType::kQ4_K, 256), 0xAB);
  QuantizeActivations(GgmlType::kQ4_K, v.data(), 256, out.data(), ActiveIsa());
  for (uint8_t b : out) EXPECT_EQ(b, 0);
}

}  // namespace
}  // namespace hearth::kernels
