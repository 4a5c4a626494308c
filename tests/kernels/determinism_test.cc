// Determinism by construction: for every type and ISA, Y[t][r] is bit-identical
// whether token t is computed alone or in a batch (at any position), and
// whatever row range split computes row r.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <span>
#include <string>
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
  const int64_t n_in = bs == 1 ? 333 : (bs == 32 ? 32 * 37 : 256 * 9);
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
    // One token (decode, whose kernels may read rows in pairs) under every
    // two-way row split.
    const int t1 = 4;
    for (int64_t s1 = 0; s1 <= rows; ++s1) {
      std::vector<float> one(static_cast<size_t>(rows), 0.0f);
      for (auto [b, e] : {std::pair{int64_t{0}, s1}, std::pair{s1, rows}}) {
        Matmul({type, w.row(0), w.row_bytes, n_in, x.tok(t1), x.stride, 1, one.data(), rows, b, e},
               isa);
      }
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(Bits(one[static_cast<size_t>(r)]), Bits(full[t1 * rows + r]))
            << "one token, split " << s1 << " r=" << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulDeterminism,
                         ::testing::ValuesIn(testing::AllWeightTypes()),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                           return testing::TypeName(p.param);
                         });

// Batches go through the weight rows in pairs, in tiles of ~32 KiB of weights
// per group of 4 tokens: with enough rows for several tiles and an odd count
// (a row left over), each token of a batch gets the bits it gets alone.
TEST(MatmulBatchTiles, ManyRowsMatchOneTokenAtATime) {
  for (GgmlType type : testing::AllWeightTypes()) {
    SCOPED_TRACE(testing::TypeName(type));
    const uint32_t bs = GetGgmlTypeInfo(type).block_size;
    const int64_t n_in = bs == 1 ? 512 : (bs == 32 ? 32 * 16 : 256 * 2);
    std::mt19937 rng(11 + static_cast<unsigned>(type));
    // Rows for at least three tiles of pairs, and one more.
    const int64_t row_bytes = n_in / bs * GetGgmlTypeInfo(type).type_size;
    const int64_t rows = 2 * 3 * std::max<int64_t>(1, (32 << 10) / row_bytes) + 1;
    Weights big(type, rows, n_in, 3, rng);
    const int n_tok = 7;
    Activations x(type, n_tok, n_in, 1, rng);
    for (Isa isa : testing::Isas()) {
      SCOPED_TRACE(IsaName(isa));
      std::vector<float> batch(static_cast<size_t>(rows * n_tok));
      Matmul({type, big.row(0), big.row_bytes, n_in, x.tok(0), x.stride, n_tok, batch.data(), rows,
              0, rows},
             isa);
      for (int t = 0; t < n_tok; ++t) {
        std::vector<float> one(static_cast<size_t>(rows));
        Matmul({type, big.row(0), big.row_bytes, n_in, x.tok(t), x.stride, 1, one.data(), rows, 0,
                rows},
               isa);
        for (int64_t r = 0; r < rows; ++r) {
          ASSERT_EQ(Bits(batch[t * rows + r]), Bits(one[static_cast<size_t>(r)]))
              << "rows " << rows << " t=" << t << " r=" << r;
        }
      }
    }
  }
}

// The weight prefetch distance is a matter of speed only: decode and batch
// products give the same bits at any distance, and 0 restores the default.
TEST(MatmulPrefetch, DistanceChangesNoBits) {
  const int64_t def = WeightPrefetchBytes();
  EXPECT_GE(def, 64);
  for (GgmlType type : testing::AllWeightTypes()) {
    SCOPED_TRACE(testing::TypeName(type));
    const uint32_t bs = GetGgmlTypeInfo(type).block_size;
    const int64_t n_in = bs == 1 ? 1056 : (bs == 32 ? 32 * 37 : 256 * 9);
    const int64_t rows = 13;
    const int n_tok = 5;
    std::mt19937 rng(7 + static_cast<unsigned>(type));
    Weights w(type, rows, n_in, 1, rng);
    Activations x(type, n_tok, n_in, 2, rng);
    for (Isa isa : testing::Isas()) {
      SCOPED_TRACE(IsaName(isa));
      std::vector<float> ref;
      for (int64_t dist : {int64_t{0}, int64_t{64}, int64_t{6144}, int64_t{65536}}) {
        SetWeightPrefetchBytes(dist);
        EXPECT_EQ(WeightPrefetchBytes(), dist == 0 ? def : dist);
        std::vector<float> y(static_cast<size_t>(rows * (n_tok + 1)));
        Matmul(
            {type, w.row(0), w.row_bytes, n_in, x.tok(0), x.stride, n_tok, y.data(), rows, 0, rows},
            isa);
        Matmul({type, w.row(0), w.row_bytes, n_in, x.tok(2), x.stride, 1, y.data() + rows * n_tok,
                rows, 0, rows},
               isa);
        if (ref.empty()) {
          ref = y;
          continue;
        }
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_EQ(Bits(y[i]), Bits(ref[i])) << "distance " << dist << " i=" << i;
        }
      }
    }
  }
  SetWeightPrefetchBytes(0);
  EXPECT_EQ(WeightPrefetchBytes(), def);
}

// The AMX variant computes batches of 16+ tokens with tiles and must give the
// VNNI variant's bits exactly (and so the reference within tolerance): whole
// and partial 16 x 16 tiles, groups of 16 blocks with and without a tail,
// misaligned weights and activations, odd row ranges.
TEST(MatmulAmx, BitIdenticalToVnni) {
  Isa all[8];
  const int n_isa = AvailableIsas(all);
  const bool has_amx = std::find(all, all + n_isa, Isa::kAmx) != all + n_isa;
  if (!has_amx) GTEST_SKIP() << "this CPU (or OS) has no AMX-INT8: AMX variant not testable here";
  struct Case {
    int64_t n_in, rows;
    int n_tok;
    int64_t row_begin;
  };
  const Case cases[] = {{32 * 16, 16, 16, 0},  {32 * 37, 37, 33, 0}, {32 * 48, 64, 48, 5},
                        {32 * 16, 48, 17, 16}, {32 * 21, 16, 64, 0}, {32 * 15, 32, 32, 0},
                        {32 * 64, 35, 40, 3}};
  const Case k_cases[] = {{256 * 1, 16, 16, 0},
                          {256 * 5, 37, 33, 0},
                          {256 * 8, 48, 40, 5},
                          {256 * 3, 32, 17, 16},
                          {256 * 2, 32, 50, 0}};
  std::mt19937 rng(1234);
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    const bool k = type == GgmlType::kQ4_K || type == GgmlType::kQ6_K;
    for (const Case& c : k ? std::span<const Case>(k_cases) : std::span<const Case>(cases)) {
      SCOPED_TRACE(testing::TypeName(type) + " n_in=" + std::to_string(c.n_in) +
                   " rows=" + std::to_string(c.rows) + " n_tok=" + std::to_string(c.n_tok));
      Weights w(type, c.rows, c.n_in, 3, rng);
      Activations x(type, c.n_tok, c.n_in, 5, rng);
      std::vector<float> amx(static_cast<size_t>(c.rows * c.n_tok), -1.0f), vnni(amx);
      const MatmulArgs a{type,    w.row(0),   w.row_bytes, c.n_in,      x.tok(0), x.stride,
                         c.n_tok, amx.data(), c.rows,      c.row_begin, c.rows};
      Matmul(a, Isa::kAmx);
      MatmulArgs b = a;
      b.y = vnni.data();
      Matmul(b, Isa::kAvx512Vnni);
      for (int t = 0; t < c.n_tok; ++t) {
        for (int64_t r = 0; r < c.rows; ++r) {
          const size_t i = static_cast<size_t>(t * c.rows + r);
          ASSERT_EQ(Bits(amx[i]), Bits(vnni[i])) << "t=" << t << " r=" << r;
          if (r < c.row_begin) {
            ASSERT_EQ(amx[i], -1.0f) << "row outside the range written";
            continue;
          }
          const float ref = DotRef(type, w.row(r), x.tok(t), c.n_in);
          const double tol =
              testing::Tolerance(c.n_in, testing::Magnitude(type, w.row(r), x.tok(t), c.n_in));
          ASSERT_LE(std::fabs(amx[i] - ref), tol) << "t=" << t << " r=" << r;
        }
      }
    }
  }
}

// The AMX K-quant kernels fold the sub-block scales into the codes (Q4_K:
// code * (scale mod 16) and code * (scale / 16); Q6_K: the two bytes of
// code * scale) and sum the planes in int32. Extreme codes and scales (Q6_K:
// codes 0 / 63 with scales -128 / 127; any byte pattern in the code and scale
// fields) must still give the VNNI bits, which form the same integers directly.
TEST(MatmulAmx, ExtremeKQuantCodesAndScales) {
  Isa all[8];
  const int n_isa = AvailableIsas(all);
  if (std::find(all, all + n_isa, Isa::kAmx) == all + n_isa)
    GTEST_SKIP() << "this CPU (or OS) has no AMX-INT8: AMX variant not testable here";
  std::mt19937 rng(99);
  constexpr int64_t kRows = 32, kIn = 256 * 3;
  constexpr int kTok = 32;
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    SCOPED_TRACE(testing::TypeName(type));
    const bool q6 = type == GgmlType::kQ6_K;
    const size_t block = q6 ? 210 : 144;
    // Q6_K: ql 0..127, qh 128..191, scales 192..207, d at 208. Q4_K: d, dmin
    // at 0 and 2, scales 4..15, qs 16..143.
    const size_t code_end = q6 ? 192 : 144, scale_begin = q6 ? 192 : 4, scale_end = q6 ? 208 : 16;
    Weights w(type, kRows, kIn, 1, rng);
    for (int64_t r = 0; r < kRows; ++r) {
      for (int64_t b = 0; b < kIn / 256; ++b) {
        uint8_t* p = w.buf.data() + r * w.row_bytes + b * block;
        const int pattern = static_cast<int>((r + b) % 4);
        for (size_t i = q6 ? 0 : 16; i < code_end; ++i) {
          p[i] = pattern == 0 ? 0xFF : pattern == 1 ? 0x00 : static_cast<uint8_t>(rng());
        }
        for (size_t i = scale_begin; i < scale_end; ++i) {
          // Q6_K: 0x80 = -128, 0x7F = 127; Q4_K: all-ones = scales and mins 63.
          p[i] = pattern == 0   ? (q6 ? 0x80 : 0xFF)
                 : pattern == 1 ? 0x7F
                                : static_cast<uint8_t>(rng());
        }
      }
    }
    Activations x(type, kTok, kIn, 3, rng);
    std::vector<float> amx(static_cast<size_t>(kRows * kTok)), vnni(amx.size());
    const MatmulArgs a{type, w.row(0),   w.row_bytes, kIn, x.tok(0), x.stride,
                       kTok, amx.data(), kRows,       0,   kRows};
    Matmul(a, Isa::kAmx);
    MatmulArgs b = a;
    b.y = vnni.data();
    Matmul(b, Isa::kAvx512Vnni);
    for (size_t i = 0; i < amx.size(); ++i) {
      ASSERT_TRUE(std::isfinite(vnni[i])) << i;
      ASSERT_EQ(Bits(amx[i]), Bits(vnni[i])) << "t=" << i / kRows << " r=" << i % kRows;
    }
  }
}

// F32/F16/BF16 batches run over packed operands (n_in % 16 == 0): 6-127 tokens
// as a blocked GEMM, 128+ with the tokens in the lanes. Every token must get the
// bits it gets alone (the matvec path), across K blocks (odd chunk counts, a
// short last block), token blocks and partial token groups, n_in % 32 == 16,
// row tiles with rows left over, row offsets and misaligned buffers.
TEST(MatmulFloatBatch, BlockedGemmEqualsTokensAlone) {
  struct Case {
    int64_t n_in, rows;
    int n_tok;
    int64_t row_begin;
  };
  // K blocks of 128 chunks: 37 chunks, one short odd block; 134: one plus 6;
  // 263: two plus an odd 7; 200 tokens of 2048: more than one token block;
  // 50 rows from 3: row blocks of 16 + 15. With the tokens in the lanes (128+
  // tokens): 37 and 263 chunks (n_in % 32 == 16), 141 tokens (4 groups of 32
  // and one of 13), 29 rows (2 tiles of 12 and 5 rows), 200 tokens of 2048
  // (two token blocks), 405 rows (row blocks of 32 tiles and 1, 9 rows left).
  const Case cases[] = {{16 * 37, 37, 13, 0},  {16 * 134, 50, 103, 3}, {16 * 263, 9, 7, 2},
                        {16, 8, 6, 0},         {2048, 20, 200, 1},     {16 * 33, 4, 12, 0},
                        {16 * 37, 30, 141, 1}, {16 * 263, 13, 128, 0}, {16, 25, 129, 0},
                        {32, 410, 130, 5}};
  std::mt19937 rng(77);
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(testing::TypeName(type) + " n_in=" + std::to_string(c.n_in) +
                   " rows=" + std::to_string(c.rows) + " n_tok=" + std::to_string(c.n_tok));
      Weights w(type, c.rows, c.n_in, 3, rng);
      Activations x(type, c.n_tok, c.n_in, 5, rng);
      for (Isa isa : testing::Isas()) {
        SCOPED_TRACE(IsaName(isa));
        // Room for 6 more tokens: a padded last token group must not be stored.
        std::vector<float> batch(static_cast<size_t>(c.rows * (c.n_tok + 6)), -1.0f);
        Matmul({type, w.row(0), w.row_bytes, c.n_in, x.tok(0), x.stride, c.n_tok, batch.data(),
                c.rows, c.row_begin, c.rows},
               isa);
        for (size_t i = static_cast<size_t>(c.rows * c.n_tok); i < batch.size(); ++i)
          ASSERT_EQ(batch[i], -1.0f) << "written past the last token";
        for (int t = 0; t < c.n_tok; ++t) {
          std::vector<float> alone(static_cast<size_t>(c.rows), -1.0f);
          Matmul({type, w.row(0), w.row_bytes, c.n_in, x.tok(t), x.stride, 1, alone.data(), c.rows,
                  c.row_begin, c.rows},
                 isa);
          for (int64_t r = 0; r < c.rows; ++r) {
            const float got = batch[static_cast<size_t>(t * c.rows + r)];
            ASSERT_EQ(Bits(got), Bits(alone[r])) << "t=" << t << " r=" << r;
            if (r < c.row_begin) {
              ASSERT_EQ(got, -1.0f) << "row outside the range written";
              continue;
            }
            const float ref = DotRef(type, w.row(r), x.tok(t), c.n_in);
            const double tol =
                testing::Tolerance(c.n_in, testing::Magnitude(type, w.row(r), x.tok(t), c.n_in));
            ASSERT_LE(std::fabs(got - ref), tol) << "t=" << t << " r=" << r;
          }
        }
      }
    }
  }
}

// QuantizeActivations: per block d = amax/127 and q = round(x/d) within half a
// step, q in [-127, 127], sums equal to the sums of q; identical for every isa.
TEST(QuantizeActivations, BlocksScalesAndSums) {
  std::mt19937 rng(7);
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kF16}) {
    const int64_t n_in = 1024;
    std::vector<float> v = testing::RandomValues(rng, n_in);
    // Exact ties (x * 127 / amax = k + 0.5 round to even) and a block of zeros.
    for (int j = 0; j < 32; ++j) v[32 + j] = (j % 2 ? 0.5f : 1.5f) + j;
    v[32 + 31] = 127.0f;  // amax 127: x * (127 / amax) = x, the others ties
    for (int j = 0; j < 32; ++j) v[64 + j] = 0.0f;
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

// Blocks with an infinity are all zero; a NaN is ignored for amax; every
// variant writes the reference's bytes for them.
TEST(QuantizeActivations, NonFiniteValuesMatchReference) {
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ6_K}) {
    const int64_t n_in = 512;
    std::vector<float> v(n_in);
    for (int64_t j = 0; j < n_in; ++j) v[j] = std::sin(0.37f * static_cast<float>(j)) * 3.0f;
    v[5] = INFINITY;
    v[40] = -INFINITY;
    v[300] = NAN;
    v[301] = 1e30f;
    const size_t bytes = ActivationRowBytes(type, n_in);
    std::vector<uint8_t> ref(bytes);
    QuantizeActivations(type, v.data(), n_in, ref.data(), Isa::kScalar);
    for (Isa isa : testing::Isas()) {
      std::vector<uint8_t> got(bytes, 0xCD);
      QuantizeActivations(type, v.data(), n_in, got.data(), isa);
      EXPECT_EQ(got, ref) << IsaName(isa);
    }
    // The block holding the infinity is all zero with d = 0.
    for (int j = 0; j < 32; ++j) EXPECT_EQ(ref[j], 0);
  }
}

// A row prepared in parts (as threads prepare a decode step's down-projection
// input): every part writes exactly the whole-row call's bytes for its values
// and leaves every other byte alone, on every isa.
TEST(QuantizeActivations, RangesWriteOnlyTheirOwnBytes) {
  std::mt19937 rng(11);
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kF16}) {
    const int64_t n_in = 1536, block = ActivationBlock(type);
    EXPECT_EQ(block,
              type == GgmlType::kF16 ? 1 : static_cast<int64_t>(GetGgmlTypeInfo(type).block_size));
    const std::vector<float> v = testing::RandomValues(rng, n_in);
    const size_t bytes = ActivationRowBytes(type, n_in);
    std::vector<uint8_t> whole(bytes);
    QuantizeActivations(type, v.data(), n_in, whole.data(), Isa::kScalar);
    // Cuts at block multiples, including an empty part and one block alone.
    const int64_t cuts[] = {0, block, block, 3 * block, n_in / 2 / block * block, n_in};
    for (Isa isa : testing::Isas()) {
      std::vector<uint8_t> parts(bytes, 0xCD);
      std::vector<int> writer(bytes, -1);  // which part wrote each byte
      for (int c = 0; c + 1 < 6; ++c) {
        // A byte the part writes is the same over two different fills.
        std::vector<uint8_t> fill_a(bytes, 0xCD), fill_b(bytes, 0x32);
        QuantizeActivationRange(type, v.data(), n_in, cuts[c], cuts[c + 1], fill_a.data(), isa);
        QuantizeActivationRange(type, v.data(), n_in, cuts[c], cuts[c + 1], fill_b.data(), isa);
        QuantizeActivationRange(type, v.data(), n_in, cuts[c], cuts[c + 1], parts.data(), isa);
        for (size_t i = 0; i < bytes; ++i) {
          if (fill_a[i] == 0xCD && fill_b[i] == 0x32) continue;  // untouched
          EXPECT_EQ(fill_a[i], whole[i]) << IsaName(isa) << " part " << c << " byte " << i;
          EXPECT_EQ(fill_b[i], whole[i]) << IsaName(isa) << " part " << c << " byte " << i;
          EXPECT_EQ(writer[i], -1)
              << "byte " << i << " written by parts " << writer[i] << " and " << c;
          writer[i] = c;
        }
      }
      EXPECT_EQ(parts, whole) << IsaName(isa);
      EXPECT_EQ(std::count(writer.begin(), writer.end(), -1), 0) << IsaName(isa);
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
