// AMX kernels for Q4_0 and Q8_0 weights over batches of tokens (prefill).
//
// Results are bit-identical to the AVX-512 VNNI kernels (matmul_vnni_q.cc), so
// batching, the thread split and the choice between the two never change a
// bit. The VNNI order of Y[t][r] is: per group g of 16 blocks, lane l of a
// float accumulator takes acc_l = fma(d_w * d_a, S_b, acc_l) for block
// b = 16 g + LaneBlock(l), where S_b is the exact integer dot product of
// block b; then hsum(acc) in _mm512_reduce_add_ps's tree, plus a tail (blocks
// past the last full group) summed in block order.
//
// Here a tile step computes S_b exactly for 16 tokens x 16 rows at once:
// tdpbssd of the token tile (16 x 32 int8 activations) with the row panel's
// block b (16 rows x 32 signed int8 codes, pre-arranged in the VNNI tile
// layout once per panel). The float steps are the same operations on the same
// operands, vectorized over the 16 rows instead of over the lanes: for lane
// position j, acc_j[t] (16 rows) = fma(d_w * d_a, S_b, acc_j[t]) over g in
// order, and the lanes are then summed in the same tree as vectors. Token
// counts and row ranges that are not multiples of 16 run on the VNNI kernel.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/amx_util.h"
#include "kernels/kernel_table.h"
#include "kernels/repack.h"

namespace hearth::kernels {
namespace {

// Signed codes of one block in element order.
struct CodesQ4_0 {
  using Block = BlockQ4_0;
  static void Decode(const uint8_t* p, int8_t out[32]) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + offsetof(Block, qs)));
    const __m128i m = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_sub_epi8(_mm_and_si128(x, m), eight));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16),
                     _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), m), eight));
  }
};
struct CodesQ8_0 {
  using Block = BlockQ8_0;
  static void Decode(const uint8_t* p, int8_t out[32]) {
    std::memcpy(out, p + offsetof(Block, qs), 32);
  }
};

// Lane vectors V[l] (16 rows each) -> their sums in _mm512_reduce_add_ps's
// tree: ((V[8+i] + V[i]) pairs, then +4 apart, then +2 apart, then +1).
inline __m512 TreeSum(const __m512 v[16]) {
  __m512 t3[8], t6[4];
  for (int i = 0; i < 8; ++i) t3[i] = _mm512_add_ps(v[8 + i], v[i]);
  for (int i = 0; i < 4; ++i) t6[i] = _mm512_add_ps(t3[4 + i], t3[i]);
  return _mm512_add_ps(_mm512_add_ps(t6[0], t6[2]), _mm512_add_ps(t6[1], t6[3]));
}

// Where block b's data goes in the prepared panels and token tiles: the
// blocks of full groups in the order the tile loop reads them (lane position
// j = b % 16 outer, group g = b / 16 inner), so it reads memory sequentially;
// the tail blocks after them.
inline int64_t Slot(int64_t b, int64_t ng) {
  return b < 16 * ng ? (b % 16) * ng + b / 16 : b;
}

template <class Codes>
struct KernelAmx {
  using Block = typename Codes::Block;
  static constexpr int64_t kBytes = sizeof(Block);

  // One panel of 16 weight rows: per block (at its Slot) the A tile, 16 rows
  // x 32 signed codes (row n at 32 n), and d_w[16].
  struct Panel {
    std::vector<int8_t> codes;
    std::vector<float> dw;
    void Fill(const uint8_t* w, size_t row_bytes, int64_t nb) {
      const int64_t ng = nb / 16;
      if (codes.size() < static_cast<size_t>(nb) * 512) codes.resize(nb * 512);
      if (dw.size() < static_cast<size_t>(nb) * 16) dw.resize(nb * 16);
      for (int n = 0; n < 16; ++n) {
        const uint8_t* row = w + n * row_bytes;
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* p = row + b * kBytes;
          const int64_t s = Slot(b, ng);
          Codes::Decode(p, codes.data() + s * 512 + 32 * n);
          dw[s * 16 + n] = F16At(p + offsetof(Block, d));
        }
      }
    }
  };

  // The activations of every full token tile: per tile and block (at its
  // Slot), the B tile (8 x 64 bytes: byte 4 t + i of row k = code 4 k + i of
  // token t) and d_a[16] (one per token).
  struct TokenTiles {
    std::vector<int8_t> codes;
    std::vector<float> da;
    int64_t nb = 0;
    void Fill(const MatmulArgs& a, int n_tiles) {
      nb = a.n_in / kQK;
      const int64_t ng = nb / 16;
      const size_t per = static_cast<size_t>(nb) * 512;
      if (codes.size() < per * n_tiles) codes.resize(per * n_tiles);
      if (da.size() < static_cast<size_t>(nb) * 16 * n_tiles) da.resize(nb * 16 * n_tiles);
      for (int tt = 0; tt < n_tiles; ++tt) {
        const uint8_t* x0 = a.x + 16 * tt * a.x_stride;
        int8_t* out = codes.data() + tt * per;
        float* d = da.data() + static_cast<size_t>(tt) * nb * 16;
        for (int64_t b = 0; b < nb; ++b) {
          const int64_t s = Slot(b, ng);
          GatherTokenTile(x0, a.x_stride, b * kQK, out + s * 512);
          for (int t = 0; t < 16; ++t)
            d[s * 16 + t] = Act32View(x0 + t * a.x_stride, a.n_in).Scale(b);
        }
      }
    }
    const int8_t* TileCodes(int tt) const { return codes.data() + tt * nb * 512; }
    const float* Da(int tt) const { return da.data() + tt * nb * 16; }
  };

  // Y for tokens [16 tt, 16 tt + 16) x rows [r0, r0 + 16). For each lane
  // position j, the blocks b = 16 g + j in order of g (consecutive slots),
  // accumulated in registers: acc[n] holds row n for the 16 tokens.
  static void Tile(const MatmulArgs& a, const Panel& panel, const TokenTiles& tok, int tt,
                   int64_t r0) {
    const int64_t nb = a.n_in / kQK, ng = nb / 16;
    const int8_t* a_codes = panel.codes.data();
    const float* dw = panel.dw.data();
    const int8_t* b_codes = tok.TileCodes(tt);
    const float* da = tok.Da(tt);
    alignas(64) int32_t c[16][16];
    alignas(64) float lanes[16][16][16];  // [lane position j][row n][token t]
    for (int j = 0; j < 16; ++j) {
      __m512 acc[16];
      for (int n = 0; n < 16; ++n) acc[n] = _mm512_setzero_ps();
      for (int64_t g = 0; g < ng; ++g) {
        HEARTH_TILE_LOAD(1, a_codes, 32);
        HEARTH_TILE_LOAD(2, b_codes, 64);
        TileProduct();
        HEARTH_TILE_STORE(0, c, 64);
        const __m512 dav = _mm512_loadu_ps(da);
#pragma GCC unroll 16
        for (int n = 0; n < 16; ++n) {
          const __m512 s = _mm512_mul_ps(_mm512_set1_ps(dw[n]), dav);
          acc[n] = _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(_mm512_load_si512(c[n])), acc[n]);
        }
        a_codes += 512, b_codes += 512, dw += 16, da += 16;
      }
      for (int n = 0; n < 16; ++n) _mm512_store_ps(lanes[j][n], acc[n]);
    }
    // The lanes in _mm512_reduce_add_ps's tree, plus the tail in block order.
    const int t0 = 16 * tt;
    for (int n = 0; n < 16; ++n) {
      __m512 v[16];
      for (int l = 0; l < 16; ++l) v[l] = _mm512_load_ps(lanes[LaneBlock(l)][n]);
      alignas(64) float out[16];
      _mm512_store_ps(out, TreeSum(v));
      for (int t = 0; t < 16; ++t) {
        float tail = 0.0f;
        const Act32View xv(a.x + (t0 + t) * a.x_stride, a.n_in);
        for (int64_t b = ng * 16; b < nb; ++b) {
          int32_t tot = 0;
          const int8_t* w = panel.codes.data() + b * 512 + 32 * n;
          const int8_t* q = xv.q + b * kQK;
          for (int i = 0; i < kQK; ++i) tot += int32_t{w[i]} * q[i];
          tail = std::fma(panel.dw[b * 16 + n] * xv.Scale(b), static_cast<float>(tot), tail);
        }
        a.y[(t0 + t) * a.y_stride + r0 + n] = out[t] + tail;
      }
    }
  }

  static void Run(const MatmulArgs& a) {
    const MatmulFn vnni = Avx512VnniQKernel(a.wtype);
    const int64_t nb = a.n_in / kQK;
    if (nb < 16) {
      vnni(a);
      return;
    }
    const WholeTiles whole = RunOutsideWholeTiles(a, 16, 16, vnni);
    if (whole.n_tok == 0) return;
    const int full_tok = whole.n_tok;
    const int64_t full_rows = whole.n_rows;
    thread_local Panel panel;
    thread_local TokenTiles tok;
    const int n_tiles = full_tok / 16;
    tok.Fill(a, n_tiles);
    LoadTileConfig(kConfig);
    // Token tiles in blocks whose prepared activations (~1 MiB) stay in L2
    // while every panel of this call's rows passes over them.
    const int tiles_per_block =
        static_cast<int>(std::max<int64_t>(1, (int64_t{1} << 20) / (nb * 512)));
    for (int tb = 0; tb < n_tiles; tb += tiles_per_block) {
      const int tb_end = std::min(n_tiles, tb + tiles_per_block);
      for (int64_t r0 = a.row_begin; r0 < a.row_begin + full_rows; r0 += 16) {
        panel.Fill(a.w + r0 * a.row_bytes, a.row_bytes, nb);
        for (int tt = tb; tt < tb_end; ++tt) Tile(a, panel, tok, tt, r0);
      }
    }
    ReleaseTiles();
  }

  static const TileConfig kConfig;
};

template <class Codes>
const TileConfig KernelAmx<Codes>::kConfig = MakeConfig();

}  // namespace

MatmulFn AmxKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &KernelAmx<CodesQ4_0>::Run;
    case GgmlType::kQ8_0:
      return &KernelAmx<CodesQ8_0>::Run;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
