// AMX kernels for Q4_K and Q6_K weights over batches of tokens (prefill).
//
// Bit-identical to the AVX-512 VNNI kernels (matmul_vnni_k.cc): both form the
// exact integers S_b = sum_s sc_s * (codes . activations of sub-block s)
// (Q6_K: minus 32 * sum_s sc_s * activation sum of s) and, for Q4_K,
// M_b = sum_s m_s * (activation sum of sub-block s) per super-block b, and then
// take the float steps of k_accumulate.h, here 16 tokens at a time.
//
// Q4_K, per token tile (16 tokens), panel (16 weight rows) and super-block b:
// the 6-bit scales are folded into the codes as two unsigned bytes (scale
// mod 16 and scale / 16), so eight tdpbusd over 64 values at a time give S_b
// exactly (see PanelQ4K); M_b from the mins and the activation sums with
// vpdpwssd. Q6_K likewise, its int8 scales folded into the codes as the two
// bytes of code * scale (see PanelQ6K).
// Token counts and row ranges that are not multiples of 16 run on the VNNI
// kernels.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/amx_util.h"
#include "kernels/kernel_table.h"

namespace hearth::kernels {
namespace {

// The float accumulators of a 16 rows x 16 tokens tile: acc[row][b % 4] holds
// lane b % 4 of k_accumulate.h for the 16 tokens.
using Lanes = __m512[16][4];

inline void ZeroLanes(Lanes acc) {
  for (int n = 0; n < 16; ++n)
    for (int l = 0; l < 4; ++l) acc[n][l] = _mm512_setzero_ps();
}

// Y[16 tt + t][r0 + n] = (l0 + l1) + (l2 + l3), KAccumulator::Result's order.
inline void StoreLanes(const Lanes acc, const MatmulArgs& a, int tt, int64_t r0) {
  for (int n = 0; n < 16; ++n) {
    alignas(64) float out[16];
    _mm512_store_ps(out, _mm512_add_ps(_mm512_add_ps(acc[n][0], acc[n][1]),
                                       _mm512_add_ps(acc[n][2], acc[n][3])));
    for (int t = 0; t < 16; ++t) a.y[(16 * tt + t) * a.y_stride + r0 + n] = out[t];
  }
}

// 16 weight rows. The 6-bit scales are folded into the codes: with
// sc = 16 hi + lo (lo 0..15, hi 0..3), code * lo <= 225 and code * hi <= 45
// are unsigned bytes, and per super-block
//   S_b = sum_s sc_s * dot_s = dot(codes * lo, a) + 16 * dot(codes * hi, a),
// both sums over all 256 values at once. Per super-block b and pair p of
// sub-blocks (64 values): the A tiles lo and hi (row n's 64 bytes at 64 n);
// the rows' mins as int16 pairs, d and -dmin.
struct PanelQ4K {
  std::vector<uint8_t> lo, hi;  // [nb][4][16][64]
  std::vector<int32_t> mn2;     // [nb][4][16]: mins of sub-blocks 2p, 2p+1 as int16 pairs
  std::vector<float> d;         // [nb][16]
  std::vector<float> ndmin;     // [nb][16], -dmin
  void Fill(const uint8_t* w, size_t row_bytes, int64_t nb) {
    lo.resize(nb * 4 * 1024);
    hi.resize(nb * 4 * 1024);
    mn2.resize(nb * 4 * 16);
    d.resize(nb * 16);
    ndmin.resize(nb * 16);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int n = 0; n < 16; ++n) {
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* p = w + n * row_bytes + b * sizeof(BlockQ4_K);
        d[b * 16 + n] = F16At(p + offsetof(BlockQ4_K, d));
        ndmin[b * 16 + n] = -F16At(p + offsetof(BlockQ4_K, dmin));
        uint8_t scale[8];
        for (int s = 0; s < 8; ++s) {
          uint8_t min;
          GetScaleMinK4(s, p + offsetof(BlockQ4_K, scales), &scale[s], &min);
          uint32_t& pair = reinterpret_cast<uint32_t&>(mn2[(b * 4 + s / 2) * 16 + n]);
          pair = s % 2 == 0 ? min : (pair | (uint32_t{min} << 16));
        }
        for (int c = 0; c < 4; ++c) {  // sub-blocks 2c (low nibbles), 2c+1 (high)
          const __m256i q = _mm256_loadu_si256(
              reinterpret_cast<const __m256i*>(p + offsetof(BlockQ4_K, qs) + 32 * c));
          const __m256i code[2] = {_mm256_and_si256(q, low4),
                                   _mm256_and_si256(_mm256_srli_epi16(q, 4), low4)};
          for (int h = 0; h < 2; ++h) {
            const int sub = 2 * c + h;
            // Bytewise products: no 16-bit lane carries (each product < 256).
            const __m256i vlo = _mm256_mullo_epi16(code[h], _mm256_set1_epi16(scale[sub] & 15));
            const __m256i vhi = _mm256_mullo_epi16(code[h], _mm256_set1_epi16(scale[sub] >> 4));
            const size_t at = ((b * 4 + c) * 16 + n) * 64 + 32 * h;
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(&lo[at]), vlo);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(&hi[at]), vhi);
          }
        }
      }
    }
  }
};

// Every full token tile's activations: B tiles of 64 values [tile][nb * 4]
// [1024], d_a [tile][nb][16] and the sums of sub-blocks 2p, 2p+1 as int16
// pairs [tile][nb * 4][16] (|sum| <= 32 * 127 fits).
struct TokensQ4K {
  std::vector<int8_t> codes;
  std::vector<float> da;
  std::vector<int32_t> sums2;
  int64_t nb = 0;
  void Fill(const MatmulArgs& a, int n_tiles) {
    nb = a.n_in / kQKK;
    codes.resize(n_tiles * nb * 4 * 1024);
    da.resize(n_tiles * nb * 16);
    sums2.resize(n_tiles * nb * 4 * 16);
    for (int tt = 0; tt < n_tiles; ++tt) {
      const uint8_t* x0 = a.x + 16 * tt * a.x_stride;
      for (int64_t k = 0; k < nb * 4; ++k)
        GatherTokenTile(x0, a.x_stride, 64 * k, &codes[(tt * nb * 4 + k) * 1024], 64);
      for (int t = 0; t < 16; ++t) {
        const Act256View xv(x0 + t * a.x_stride, a.n_in);
        for (int64_t b = 0; b < nb; ++b) da[(tt * nb + b) * 16 + t] = xv.Scale(b);
        for (int64_t p = 0; p < nb * 4; ++p) {
          const auto s0 = static_cast<uint16_t>(xv.BSum(4 * p) + xv.BSum(4 * p + 1));
          const auto s1 = static_cast<uint16_t>(xv.BSum(4 * p + 2) + xv.BSum(4 * p + 3));
          sums2[(tt * nb * 4 + p) * 16 + t] = static_cast<int32_t>(s0 | (uint32_t{s1} << 16));
        }
      }
    }
  }
};

// Tiles for Q4_K and Q6_K: tmm0 / tmm4 the lo / hi sums of the first token
// tile and tmm5 / tmm6 those of the second (16 rows x 16 tokens int32), tmm1 /
// tmm3 the lo / hi A tiles (16 rows x 64 bytes), tmm2 / tmm7 the B tiles of the
// two token tiles (16 x (16 tokens x 4 int8)). Two token tiles share each A
// tile load: the loads, mostly from L2, are what bounds this loop.
TileConfig MakeConfigK() {
  TileConfig c;
  for (int i = 0; i < 8; ++i) c.rows[i] = 16, c.colsb[i] = 64;
  return c;
}

// The two plane sums of one super-block for kTT (1 or 2) token tiles:
// clo[j] / chi[j] = A lo / hi (16 rows x 256 values: 4 tiles of 64 at lo, hi)
// times B of token tile j (4 tiles at bt0 + j * next_tile), int32 [row][token].
// The lo plane is unsigned (tdpbusd); the hi plane signed when kSignedHi
// (tdpbssd: Q6_K), unsigned otherwise (Q4_K).
template <int kTT, bool kSignedHi>
inline void PlaneSums(const uint8_t* lo, const void* hi, const int8_t* bt0, int64_t next_tile,
                      int32_t (*clo)[16][16], int32_t (*chi)[16][16]) {
  static_assert(kTT == 1 || kTT == 2);
  const uint8_t* const hib = static_cast<const uint8_t*>(hi);
  const int8_t* const bt1 = bt0 + next_tile;
  __asm__ volatile("tilezero %%tmm0" ::);
  __asm__ volatile("tilezero %%tmm4" ::);
  if constexpr (kTT == 2) {
    __asm__ volatile("tilezero %%tmm5" ::);
    __asm__ volatile("tilezero %%tmm6" ::);
  }
  for (int g = 0; g < 4; ++g) {
    HEARTH_TILE_LOAD(1, lo + g * 1024, 64);
    HEARTH_TILE_LOAD(3, hib + g * 1024, 64);
    HEARTH_TILE_LOAD(2, bt0 + g * 1024, 64);
    __asm__ volatile("tdpbusd %%tmm2, %%tmm1, %%tmm0" ::);
    if constexpr (kSignedHi) {
      __asm__ volatile("tdpbssd %%tmm2, %%tmm3, %%tmm4" ::);
    } else {
      __asm__ volatile("tdpbusd %%tmm2, %%tmm3, %%tmm4" ::);
    }
    if constexpr (kTT == 2) {
      HEARTH_TILE_LOAD(7, bt1 + g * 1024, 64);
      __asm__ volatile("tdpbusd %%tmm7, %%tmm1, %%tmm5" ::);
      if constexpr (kSignedHi) {
        __asm__ volatile("tdpbssd %%tmm7, %%tmm3, %%tmm6" ::);
      } else {
        __asm__ volatile("tdpbusd %%tmm7, %%tmm3, %%tmm6" ::);
      }
    }
  }
  HEARTH_TILE_STORE(0, clo[0], 64);
  HEARTH_TILE_STORE(4, chi[0], 64);
  if constexpr (kTT == 2) {
    HEARTH_TILE_STORE(5, clo[1], 64);
    HEARTH_TILE_STORE(6, chi[1], 64);
  }
}

// Y for token tiles [tt, tt + kTT) x rows [r0, r0 + 16).
template <int kTT>
void TileQ4K(const MatmulArgs& a, const PanelQ4K& pn, const TokensQ4K& tok, int tt, int64_t r0) {
  static_assert(kTT == 1 || kTT == 2);
  const int64_t nb = a.n_in / kQKK;
  alignas(64) int32_t clo[kTT][16][16], chi[kTT][16][16];  // [tile][row][token]
  Lanes acc[kTT];
  for (int j = 0; j < kTT; ++j) ZeroLanes(acc[j]);
  // Raw pointers: the tile asm clobbers memory, so members would be re-read.
  const uint8_t* const plo = pn.lo.data();
  const uint8_t* const phi = pn.hi.data();
  const int8_t* const tcodes = tok.codes.data();
  for (int64_t b = 0; b < nb; ++b) {
    PlaneSums<kTT, false>(plo + b * 4 * 1024, phi + b * 4 * 1024, tcodes + (tt * nb + b) * 4 * 1024,
                          nb * 4 * 1024, clo, chi);
    const int32_t* mn = &pn.mn2[b * 4 * 16];
    const int l = static_cast<int>(b & 3);
    for (int j = 0; j < kTT; ++j) {
      const __m512 da = _mm512_loadu_ps(&tok.da[((tt + j) * nb + b) * 16]);
      const int32_t* ts = &tok.sums2[((tt + j) * nb + b) * 4 * 16];
      for (int n = 0; n < 16; ++n) {
        const __m512i sv = _mm512_add_epi32(_mm512_load_si512(clo[j][n]),
                                            _mm512_slli_epi32(_mm512_load_si512(chi[j][n]), 4));
        __m512i mv = _mm512_setzero_si512();
        for (int p = 0; p < 4; ++p)  // M: min pairs x sum pairs, exact in int32
          mv = _mm512_dpwssd_epi32(mv, _mm512_set1_epi32(mn[p * 16 + n]),
                                   _mm512_loadu_si512(ts + p * 16));
        const __m512 dd = _mm512_mul_ps(_mm512_set1_ps(pn.d[b * 16 + n]), da);
        acc[j][n][l] = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(sv), acc[j][n][l]);
        const __m512 dm = _mm512_mul_ps(_mm512_set1_ps(pn.ndmin[b * 16 + n]), da);
        acc[j][n][l] = _mm512_fmadd_ps(dm, _mm512_cvtepi32_ps(mv), acc[j][n][l]);
      }
    }
  }
  for (int j = 0; j < kTT; ++j) StoreLanes(acc[j], a, tt + j, r0);
}

// Q6_K: 16 weight rows. Each code (0..63) is multiplied by its sub-block's
// int8 scale, t = q * sc in -8064..8001, and t is split into bytes
// t = lo + 256 hi (lo 0..255 unsigned, hi -32..31 signed), so per super-block
//   S_b = dot(lo, a) + 256 * dot(hi, a) - 32 * sum_s sc_s * (activation sum of s),
// the first two over all 256 values at once (tdpbusd and tdpbssd, as for Q4_K)
// and the last from int16 pairs with vpdpwssd (|sums| <= 16 * 127). Per
// super-block b and group g of 64 values: the A tiles lo and hi (row n's 64
// bytes at 64 n); the rows' scales as int16 pairs, and d.
struct PanelQ6K {
  std::vector<uint8_t> lo;   // [nb][4][16][64]
  std::vector<int8_t> hi;    // [nb][4][16][64]
  std::vector<int32_t> sc2;  // [nb][8][16]: scales of sub-blocks 2p, 2p+1 as int16 pairs
  std::vector<float> d;      // [nb][16]
  void Fill(const uint8_t* w, size_t row_bytes, int64_t nb) {
    lo.resize(nb * 4 * 1024);
    hi.resize(nb * 4 * 1024);
    sc2.resize(nb * 8 * 16);
    d.resize(nb * 16);
    for (int n = 0; n < 16; ++n) {
      for (int64_t b = 0; b < nb; ++b) {
        // Byte offsets, not a struct pointer: blocks need not be aligned.
        const uint8_t* p = w + n * row_bytes + b * sizeof(BlockQ6_K);
        const uint8_t* ql = p + offsetof(BlockQ6_K, ql);
        const uint8_t* qhb = p + offsetof(BlockQ6_K, qh);
        const int8_t* scales = reinterpret_cast<const int8_t*>(p + offsetof(BlockQ6_K, scales));
        d[b * 16 + n] = F16At(p + offsetof(BlockQ6_K, d));
        for (int q = 0; q < 8; ++q) {
          sc2[(b * 8 + q) * 16 + n] =
              static_cast<int32_t>(static_cast<uint16_t>(scales[2 * q]) |
                                   (uint32_t{static_cast<uint16_t>(scales[2 * q + 1])} << 16));
        }
        // Element 128 hf + 32 g + l: 4 bits from ql[64 hf + 32 (g % 2) + l]
        // (low nibble for g < 2), 2 bits from qh[32 hf + l] >> 2 g.
        const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
        for (int hf = 0; hf < 2; ++hf) {
          const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 64 * hf));
          const __m256i ql1 =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 64 * hf + 32));
          const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qhb + 32 * hf));
          for (int g = 0; g < 4; ++g) {
            const __m256i lo4 =
                g < 2 ? (g == 0 ? ql0 : ql1) : _mm256_srli_epi16(g == 2 ? ql0 : ql1, 4);
            const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), m2);
            const __m256i q = _mm256_or_si256(_mm256_and_si256(lo4, m4), _mm256_slli_epi16(hi2, 4));
            // Elements 128 hf + 32 g + (0..31): sub-blocks s0 and s0 + 1.
            const int s0 = 8 * hf + 2 * g;
            const __m512i sc = _mm512_inserti64x4(_mm512_set1_epi16(scales[s0]),
                                                  _mm256_set1_epi16(scales[s0 + 1]), 1);
            const __m512i t = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(q), sc);
            // Group (of 64) and byte offset of these 32 elements.
            const int64_t e = 128 * hf + 32 * g;
            const size_t at = ((b * 4 + e / 64) * 16 + n) * 64 + e % 64;
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(&lo[at]), _mm512_cvtepi16_epi8(t));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(&hi[at]),
                                _mm512_cvtepi16_epi8(_mm512_srai_epi16(t, 8)));
          }
        }
      }
    }
  }
};

// Every full token tile's activations for Q6_K: B tiles of 64 values [tile]
// [nb * 4][1024] (as for Q4_K), d_a [tile][nb][16] and the sums of
// sub-blocks 2p, 2p+1 (16 values each) as int16 pairs [tile][nb * 8][16].
struct TokensQ6K {
  std::vector<int8_t> codes;
  std::vector<float> da;
  std::vector<int32_t> sums2;
  void Fill(const MatmulArgs& a, int n_tiles) {
    const int64_t nb = a.n_in / kQKK;
    codes.resize(n_tiles * nb * 4 * 1024);
    da.resize(n_tiles * nb * 16);
    sums2.resize(n_tiles * nb * 8 * 16);
    for (int tt = 0; tt < n_tiles; ++tt) {
      const uint8_t* x0 = a.x + 16 * tt * a.x_stride;
      for (int64_t k = 0; k < nb * 4; ++k)
        GatherTokenTile(x0, a.x_stride, 64 * k, &codes[(tt * nb * 4 + k) * 1024], 64);
      for (int t = 0; t < 16; ++t) {
        const Act256View xv(x0 + t * a.x_stride, a.n_in);
        for (int64_t b = 0; b < nb; ++b) da[(tt * nb + b) * 16 + t] = xv.Scale(b);
        for (int64_t p = 0; p < nb * 8; ++p) {
          const auto s0 = static_cast<uint16_t>(xv.BSum(2 * p));
          const auto s1 = static_cast<uint16_t>(xv.BSum(2 * p + 1));
          sums2[(tt * nb * 8 + p) * 16 + t] = static_cast<int32_t>(s0 | (uint32_t{s1} << 16));
        }
      }
    }
  }
};

// Y for token tiles [tt, tt + kTT) x rows [r0, r0 + 16).
template <int kTT>
void TileQ6K(const MatmulArgs& a, const PanelQ6K& pn, const TokensQ6K& tok, int tt, int64_t r0) {
  static_assert(kTT == 1 || kTT == 2);
  const int64_t nb = a.n_in / kQKK;
  alignas(64) int32_t clo[kTT][16][16], chi[kTT][16][16];  // [tile][row][token]
  Lanes acc[kTT];
  for (int j = 0; j < kTT; ++j) ZeroLanes(acc[j]);
  const uint8_t* const plo = pn.lo.data();
  const int8_t* const phi = pn.hi.data();
  const int8_t* const tcodes = tok.codes.data();
  for (int64_t b = 0; b < nb; ++b) {
    PlaneSums<kTT, true>(plo + b * 4 * 1024, phi + b * 4 * 1024, tcodes + (tt * nb + b) * 4 * 1024,
                         nb * 4 * 1024, clo, chi);
    const int32_t* sc = &pn.sc2[b * 8 * 16];
    const int l = static_cast<int>(b & 3);
    for (int j = 0; j < kTT; ++j) {
      const __m512 da = _mm512_loadu_ps(&tok.da[((tt + j) * nb + b) * 16]);
      const int32_t* ts = &tok.sums2[((tt + j) * nb + b) * 8 * 16];
      for (int n = 0; n < 16; ++n) {
        __m512i corr = _mm512_setzero_si512();
        for (int p = 0; p < 8; ++p)  // scale pairs x sum pairs, exact in int32
          corr = _mm512_dpwssd_epi32(corr, _mm512_set1_epi32(sc[p * 16 + n]),
                                     _mm512_loadu_si512(ts + p * 16));
        const __m512i sv =
            _mm512_sub_epi32(_mm512_add_epi32(_mm512_load_si512(clo[j][n]),
                                              _mm512_slli_epi32(_mm512_load_si512(chi[j][n]), 8)),
                             _mm512_slli_epi32(corr, 5));
        const __m512 dd = _mm512_mul_ps(_mm512_set1_ps(pn.d[b * 16 + n]), da);
        acc[j][n][l] = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(sv), acc[j][n][l]);
      }
    }
  }
  for (int j = 0; j < kTT; ++j) StoreLanes(acc[j], a, tt + j, r0);
}

struct KindQ4K {
  using Panel = PanelQ4K;
  using Tokens = TokensQ4K;
  static TileConfig Config() { return MakeConfigK(); }
  static constexpr int64_t kTileBytesPerSuper = 4 * 1024;
  // Token tiles [tt, tt + n), n <= 2.
  static void Tiles(const MatmulArgs& a, const Panel& p, const Tokens& t, int tt, int n,
                    int64_t r0) {
    if (n == 2) {
      TileQ4K<2>(a, p, t, tt, r0);
    } else {
      TileQ4K<1>(a, p, t, tt, r0);
    }
  }
};
struct KindQ6K {
  using Panel = PanelQ6K;
  using Tokens = TokensQ6K;
  static TileConfig Config() { return MakeConfigK(); }
  static constexpr int64_t kTileBytesPerSuper = 4 * 1024;
  static void Tiles(const MatmulArgs& a, const Panel& p, const Tokens& t, int tt, int n,
                    int64_t r0) {
    if (n == 2) {
      TileQ6K<2>(a, p, t, tt, r0);
    } else {
      TileQ6K<1>(a, p, t, tt, r0);
    }
  }
};

template <class Kind>
void Run(const MatmulArgs& a) {
  const int64_t nb = a.n_in / kQKK;
  const WholeTiles whole = RunOutsideWholeTiles(a, 16, 16, Avx512VnniKKernel(a.wtype));
  if (whole.n_tok == 0) return;
  const int full_tok = whole.n_tok;
  const int64_t full_rows = whole.n_rows;
  thread_local typename Kind::Panel panel;
  thread_local typename Kind::Tokens tok;
  const int n_tiles = full_tok / 16;
  tok.Fill(a, n_tiles);
  static const TileConfig kConfig = Kind::Config();
  LoadTileConfig(kConfig);
  // Token tiles in blocks whose prepared activations (~1 MiB) stay in L2
  // while every panel of this call's rows passes over them.
  const int tiles_per_block =
      static_cast<int>(std::max<int64_t>(1, (int64_t{1} << 20) / (nb * Kind::kTileBytesPerSuper)));
  for (int tb = 0; tb < n_tiles; tb += tiles_per_block) {
    const int tb_end = std::min(n_tiles, tb + tiles_per_block);
    for (int64_t r0 = a.row_begin; r0 < a.row_begin + full_rows; r0 += 16) {
      panel.Fill(a.w + r0 * a.row_bytes, a.row_bytes, nb);
      for (int tt = tb; tt < tb_end; tt += 2) {
        Kind::Tiles(a, panel, tok, tt, std::min(2, tb_end - tt), r0);
      }
    }
  }
  ReleaseTiles();
}

}  // namespace

MatmulFn AmxKKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_K:
      return &Run<KindQ4K>;
    case GgmlType::kQ6_K:
      return &Run<KindQ6K>;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
