// Internal: AMX tile helpers shared by the AMX kernels (compiled with
// -mamx-tile -mamx-int8 and the AVX-512 flags only).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace hearth::kernels {
namespace {

// The 64-byte tile configuration (palette 1). Loaded with inline asm: GCC 12's
// _tile_loadconfig intrinsic copies only 8 of the 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

// tmm0: C, 16 weight rows x 16 tokens int32. tmm1: A, 16 weight rows x 32
// int8 codes (one block of 32). tmm2: B, 8 x (16 tokens x 4 int8), the same
// block of the token tile's activations in VNNI layout.
inline TileConfig MakeConfig() {
  TileConfig c;
  c.rows[0] = 16, c.colsb[0] = 64;
  c.rows[1] = 16, c.colsb[1] = 32;
  c.rows[2] = 8, c.colsb[2] = 64;
  return c;
}

inline void LoadTileConfig(const TileConfig& c) {
  __asm__ volatile("ldtilecfg %0" ::"m"(*reinterpret_cast<const uint8_t(*)[64]>(&c)));
}
inline void ReleaseTiles() {
  __asm__ volatile("tilerelease" ::: "memory");
}
// The tile instructions with memory clobbers, so ordinary stores before a
// load and loads after a store are never moved across them.
#define HEARTH_TILE_LOAD(tmm, base, stride)                                                 \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #tmm ::"r"(static_cast<const void*>(base)), \
                   "r"(static_cast<long>(stride))                                           \
                   : "memory")
#define HEARTH_TILE_STORE(tmm, base, stride)                                              \
  __asm__ volatile("tilestored %%tmm" #tmm ", (%0,%1,1)" ::"r"(static_cast<void*>(base)), \
                   "r"(static_cast<long>(stride))                                         \
                   : "memory")
// C (tmm0) = A (tmm1) x B (tmm2), from zero.
inline void TileProduct() {
  __asm__ volatile("tilezero %%tmm0" ::);
  __asm__ volatile("tdpbssd %%tmm2, %%tmm1, %%tmm0" ::);
}

inline float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// The B tile of 16 tokens (rows x0, x0 + stride, ...) for the k int8 codes at
// byte offset `off` of each: byte 4 t + i of tile row r = code 4 r + i of token t.
inline void GatherTokenTile(const uint8_t* x0, size_t stride, int64_t off, int8_t* out,
                            int k = 32) {
  const __m512i offs =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(stride)));
  for (int r = 0; r < k / 4; ++r)
    _mm512_storeu_si512(out + 64 * r, _mm512_i32gather_epi32(offs, x0 + off + 4 * r, 1));
}

}  // namespace
}  // namespace hearth::kernels
