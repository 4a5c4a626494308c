// Repacked weight layouts (kernels/repack.h): the layout is what the header
// says, Unpack(Repack(w)) == w for any bytes, and Matmul over repacked rows
// gives the bits of the same rows in the GGUF layout on every ISA variant
// (the kLanes16 kernel on avx512-vnni, the unpacking fallback elsewhere).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "format/quant_blocks.h"
#include "format/quant_ref.h"
#include "kernels/matmul.h"
#include "kernels/matmul_test_util.h"
#include "kernels/repack.h"

namespace hearth::kernels {
namespace {

using testing::Activations;
using testing::Buffer;
using testing::Weights;

size_t BlockBytes(GgmlType t) {
  return t == GgmlType::kQ4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
}

TEST(Repack, LayoutIsDefinedForQ4_0Q8_0Q4_KAndQ6_KOnly) {
  for (GgmlType t : testing::AllWeightTypes()) {
    const bool lanes = t == GgmlType::kQ4_0 || t == GgmlType::kQ8_0 || t == GgmlType::kQ4_K ||
                       t == GgmlType::kQ6_K;
    EXPECT_EQ(LayoutDefined(t, WeightLayout::kLanes16), lanes) << testing::TypeName(t);
    EXPECT_TRUE(LayoutDefined(t, WeightLayout::kGguf));
    if (!lanes) {
      EXPECT_EQ(PreferredLayout(t, Isa::kAvx512Vnni), WeightLayout::kGguf);
    }
  }
  // AMX's batch kernels read the GGUF layout, scalar and NEON have no lanes
  // kernel; the AVX2-class variants have one for Q4_0 and Q8_0 only, AVX-512
  // VNNI for all four. A variant this CPU cannot run prefers nothing.
  for (Isa isa : {Isa::kScalar, Isa::kAmx, Isa::kNeon, Isa::kNeonDot})
    EXPECT_EQ(PreferredLayout(GgmlType::kQ4_0, isa), WeightLayout::kGguf) << IsaName(isa);
  Isa all[8];
  const int n = AvailableIsas(all);
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni}) {
    const bool runs = std::find(all, all + n, isa) != all + n;
    const WeightLayout lanes = runs ? WeightLayout::kLanes16 : WeightLayout::kGguf;
    EXPECT_EQ(PreferredLayout(GgmlType::kQ4_0, isa), lanes) << IsaName(isa);
    EXPECT_EQ(PreferredLayout(GgmlType::kQ8_0, isa), lanes) << IsaName(isa);
    EXPECT_EQ(PreferredLayout(GgmlType::kQ4_K, isa),
              isa == Isa::kAvx512Vnni ? lanes : WeightLayout::kGguf)
        << IsaName(isa);
  }
}

// Spot checks of the byte positions against the header's definition, then the
// round trip, over rows with and without a tail past the last whole group.
TEST(Repack, Lanes16PlacesEveryByteAndRoundTrips) {
  std::mt19937 rng(7);
  for (GgmlType t : {GgmlType::kQ4_0, GgmlType::kQ8_0}) {
    const size_t bb = BlockBytes(t);
    const int code_bytes = static_cast<int>(bb) - 2;
    const uint8_t bias = t == GgmlType::kQ8_0 ? 0x80 : 0;
    for (int64_t blocks : {1, 15, 16, 17, 37, 48}) {
      SCOPED_TRACE(testing::TypeName(t) + " blocks=" + std::to_string(blocks));
      const int64_t rows = 3, n_in = 32 * blocks;
      const size_t row_bytes = static_cast<size_t>(blocks) * bb;
      std::vector<uint8_t> orig(rows * row_bytes);
      for (auto& b : orig) b = static_cast<uint8_t>(rng());
      std::vector<uint8_t> w = orig;
      RepackRows(t, WeightLayout::kLanes16, w.data(), rows, row_bytes, n_in);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t g = 0; g < blocks / 16; ++g) {
          const uint8_t* src = orig.data() + r * row_bytes + g * 16 * bb;
          const uint8_t* dst = w.data() + r * row_bytes + g * 16 * bb;
          for (int l = 0; l < 16; ++l) {
            const uint8_t* block = src + LaneBlock(l) * bb;
            for (int j = 0; j < code_bytes / 4; ++j) {
              for (int i = 0; i < 4; ++i)
                ASSERT_EQ(dst[64 * j + 4 * l + i],
                          static_cast<uint8_t>(block[2 + 4 * j + i] + bias))
                    << "r=" << r << " g=" << g << " l=" << l << " j=" << j;
            }
            ASSERT_EQ(std::memcmp(dst + 16 * code_bytes + 2 * l, block, 2), 0) << "scale l=" << l;
          }
        }
        const size_t tail = static_cast<size_t>(blocks / 16 * 16) * bb;
        ASSERT_EQ(std::memcmp(w.data() + r * row_bytes + tail, orig.data() + r * row_bytes + tail,
                              row_bytes - tail),
                  0)
            << "the tail stays in the GGUF layout";
      }
      UnpackRows(t, WeightLayout::kLanes16, w.data(), rows, row_bytes, n_in);
      ASSERT_EQ(w, orig);
    }
  }
}

// Q4_K: code k of sub-block s of a GGUF super-block, from the block format's
// definition (sub-blocks 2c and 2c + 1 are the low and high nibbles of qs[32c ..]).
int Q4KCode(const uint8_t* sb, int s, int k) {
  const uint8_t q = sb[offsetof(BlockQ4_K, qs) + 32 * (s / 2) + k];
  return s % 2 == 0 ? q & 0x0F : q >> 4;
}

TEST(Repack, Lanes16Q4KPlacesEveryCodeAndRoundTrips) {
  std::mt19937 rng(8);
  const GgmlType t = GgmlType::kQ4_K;
  constexpr size_t bb = sizeof(BlockQ4_K);
  for (int64_t sbs : {1, 2, 3, 5, 8}) {
    SCOPED_TRACE("super-blocks=" + std::to_string(sbs));
    const int64_t rows = 3, n_in = 256 * sbs;
    const size_t row_bytes = static_cast<size_t>(sbs) * bb;
    std::vector<uint8_t> orig(rows * row_bytes);
    for (auto& b : orig) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> w = orig;
    RepackRows(t, WeightLayout::kLanes16, w.data(), rows, row_bytes, n_in);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t g = 0; g < sbs / 2; ++g) {
        const uint8_t* src = orig.data() + r * row_bytes + g * 2 * bb;
        const uint8_t* dst = w.data() + r * row_bytes + g * 2 * bb;
        for (int l = 0; l < 16; ++l) {
          const uint8_t* sb = src + (l / 8) * bb;
          for (int j = 0; j < 4; ++j) {
            for (int i = 0; i < 4; ++i) {
              const uint8_t byte = dst[64 * j + 4 * l + i];
              ASSERT_EQ(byte & 0x0F, Q4KCode(sb, l % 8, 4 * j + i)) << "l=" << l << " j=" << j;
              ASSERT_EQ(byte >> 4, Q4KCode(sb, l % 8, 16 + 4 * j + i)) << "l=" << l << " j=" << j;
            }
          }
        }
        ASSERT_EQ(std::memcmp(dst + 256, src, 16), 0) << "first head, g=" << g;
        ASSERT_EQ(std::memcmp(dst + 272, src + bb, 16), 0) << "second head, g=" << g;
      }
      const size_t tail = static_cast<size_t>(sbs / 2 * 2) * bb;
      ASSERT_EQ(std::memcmp(w.data() + r * row_bytes + tail, orig.data() + r * row_bytes + tail,
                            row_bytes - tail),
                0)
          << "an odd last super-block stays in the GGUF layout";
    }
    UnpackRows(t, WeightLayout::kLanes16, w.data(), rows, row_bytes, n_in);
    ASSERT_EQ(w, orig);
  }
}

// Q6_K: with d = 1 and every scale 1 the reference dequantization gives each
// value's code minus 32, the oracle for the repacked bytes.
TEST(Repack, Lanes16Q6KPlacesEveryCodeAndRoundTrips) {
  std::mt19937 rng(9);
  const GgmlType t = GgmlType::kQ6_K;
  constexpr size_t bb = sizeof(BlockQ6_K);
  for (int64_t sbs : {1, 3, 8}) {
    SCOPED_TRACE("super-blocks=" + std::to_string(sbs));
    const int64_t rows = 2, n_in = 256 * sbs;
    const size_t row_bytes = static_cast<size_t>(sbs) * bb;
    std::vector<uint8_t> orig(rows * row_bytes);
    for (auto& b : orig) b = static_cast<uint8_t>(rng());
    for (size_t b = 0; b < orig.size() / bb; ++b) {
      BlockQ6_K* blk = reinterpret_cast<BlockQ6_K*>(orig.data() + b * bb);
      for (int8_t& sc : blk->scales) sc = 1;
      blk->d = 0x3C00;  // 1.0
    }
    std::vector<uint8_t> w = orig;
    RepackRows(t, WeightLayout::kLanes16, w.data(), rows, row_bytes, n_in);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> y(static_cast<size_t>(n_in));
      ASSERT_TRUE(DequantizeRowRef(t, orig.data() + r * row_bytes, n_in, y.data()).ok());
      for (int64_t b = 0; b < sbs; ++b) {
        const uint8_t* dst = w.data() + r * row_bytes + b * bb;
        for (int n = 0; n < 256; ++n) {
          const int l = n / 16, v = n % 16, i = v % 4;
          const uint8_t lo_byte = dst[(v % 8 < 4 ? 0 : 64) + 4 * l + i];
          const int lo = v < 8 ? lo_byte & 0x0F : lo_byte >> 4;
          const int hi = (dst[128 + 4 * l + i] >> (2 * (v / 4))) & 3;
          ASSERT_EQ(static_cast<float>((lo | hi << 4) - 32), y[256 * b + n])
              << "r=" << r << " b=" << b << " n=" << n;
        }
        ASSERT_EQ(std::memcmp(dst + 192, orig.data() + r * row_bytes + b * bb + 192, 18), 0)
            << "scales and d";
      }
    }
    UnpackRows(t, WeightLayout::kLanes16, w.data(), rows, row_bytes, n_in);
    ASSERT_EQ(w, orig);
  }
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(Repack, MatmulOverLanes16IsBitIdenticalOnEveryIsa) {
  struct Case {
    int64_t blocks, rows;
    int n_tok;
    int64_t row_begin;
  };
  const Case cases[] = {{16, 2, 1, 0},  {16, 5, 1, 1},  {48, 9, 1, 0},  {37, 6, 1, 2},
                        {17, 4, 3, 0},  {64, 7, 4, 1},  {32, 10, 9, 3}, {15, 3, 2, 0},
                        {176, 4, 1, 0}, {16, 33, 17, 0}};
  // Q4_K and Q6_K: blocks of 32 values, 8 per super-block; 1 to 22 super-blocks
  // (every remainder of 4; for Q4_K an odd last one).
  const Case k_cases[] = {{16, 2, 1, 0},  {32, 5, 1, 1},   {48, 9, 1, 0},  {56, 6, 1, 2},
                          {88, 4, 3, 0},  {64, 7, 4, 1},   {24, 10, 9, 3}, {8, 3, 2, 0},
                          {176, 4, 1, 0}, {72, 33, 17, 0}, {40, 3, 5, 1}};
  std::mt19937 rng(99);
  for (GgmlType t : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    const bool k = t == GgmlType::kQ4_K || t == GgmlType::kQ6_K;
    for (const Case& c : k ? std::span<const Case>(k_cases) : std::span<const Case>(cases)) {
      const int64_t n_in = 32 * c.blocks;
      Weights w(t, c.rows, n_in, 3, rng);
      Activations x(t, c.n_tok, n_in, 5, rng);
      const size_t bytes = static_cast<size_t>(c.rows) * w.row_bytes;
      Buffer packed(bytes, 11);
      std::memcpy(packed.data(), w.row(0), bytes);
      RepackRows(t, WeightLayout::kLanes16, packed.data(), c.rows, w.row_bytes, n_in);
      for (Isa isa : testing::Isas()) {
        SCOPED_TRACE(testing::TypeName(t) + " " + IsaName(isa) +
                     " blocks=" + std::to_string(c.blocks) + " n_tok=" + std::to_string(c.n_tok));
        std::vector<float> want(static_cast<size_t>(c.rows * c.n_tok), -1.0f), got(want);
        MatmulArgs a{t,       w.row(0),    w.row_bytes, n_in,        x.tok(0), x.stride,
                     c.n_tok, want.data(), c.rows,      c.row_begin, c.rows};
        Matmul(a, isa);
        a.w = packed.data();
        a.y = got.data();
        a.layout = WeightLayout::kLanes16;
        Matmul(a, isa);
        for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(Bits(got[i]), Bits(want[i])) << i;
      }
    }
  }
}

}  // namespace
}  // namespace hearth::kernels
