// AVX-512 VNNI kernels for Q4_0 and Q8_0 (Q4_1/Q5_x use the AVX2 kernels).
//
// Blocks are processed in groups of 16, as 4 quads. The weight codes of a quad
// are loaded in lane-block order (128-bit lane k = 16 codes of block k; unsigned:
// Q4_0 nibbles as they are, Q8_0 codes biased by +128) and the activations are
// rearranged to match once per call. Per quad two vpdpbusd give, in lane k, 4
// int32 partials of block k; a fixed unpack tree reduces the 4 quad vectors to
// 16 exact block sums in lane order l -> block 4 * (l % 4) + l / 4. The offset
// (8 * sum(a) for Q4_0, 128 * sum(a) for Q8_0) is subtracted in integers, then
// one fma per group: acc += (d_w * d_a) * sum, lane-wise. Blocks past the last
// full group (the tail) are summed exactly in integers and added to a scalar in
// block order (tail = fma(d_w * d_a, sum, tail)). Result = hsum(acc) (fixed tree,
// _mm512_reduce_add_ps order) + tail.
//
// Weights repacked into the kLanes16 layout (repack.h) have KernelLanes: the
// same block sums in the same lanes straight from 8 vpdpbusd per group, then
// the same float steps, so the same bits.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/avx512_util.h"
#include "kernels/kernel_table.h"
#include "kernels/repack.h"
#include "kernels/weight_prefetch.h"

namespace hearth::kernels {
namespace {

// Codes of blocks p, p + kBytes, p + 2 * kBytes, p + 3 * kBytes ("a quad") as two
// vectors in lane-block order: 128-bit lane k of *lo holds elements 0..15 of
// block k, lane k of *hi its elements 16..31 (the activations are rearranged to
// match once per call, see Prepare).
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static constexpr int kShift = 3;
  // The 16 blocks at p (288 bytes) as 4 quads: five loads that never reach
  // past the group, one word permute per quad (quad m = bytes [72m, 72m + 72)
  // lies in loads m and m + 1; block k's codes are words [9k + 1, 9k + 9) of
  // its quad).
  static void Group(const uint8_t* p, __m512i lo[4], __m512i hi[4]) {
    static_assert(sizeof(Block) == 18 && offsetof(Block, qs) == 2);
    alignas(64) static constexpr short kIdx[4][32] = {
        {1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12, 13, 14, 15, 16, 17,
         19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 35},
        {5,  6,  7,  8,  9,  10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21,
         23, 24, 25, 26, 27, 28, 29, 30, 32, 33, 34, 35, 36, 37, 38, 39},
        {9,  10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25,
         27, 28, 29, 30, 31, 32, 33, 34, 36, 37, 38, 39, 40, 41, 42, 43},
        {13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 29,
         31, 32, 33, 34, 35, 36, 37, 38, 40, 41, 42, 43, 44, 45, 46, 47}};
    __m512i v[5];
    for (int i = 0; i < 4; ++i) v[i] = LoadWeights64(p + 64 * i);
    v[4] = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 256)));
    const __m512i m = _mm512_set1_epi8(0x0F);
    for (int q = 0; q < 4; ++q) {
      const __m512i z = _mm512_permutex2var_epi16(v[q], _mm512_load_si512(kIdx[q]), v[q + 1]);
      lo[q] = _mm512_and_si512(z, m);
      hi[q] = _mm512_and_si512(_mm512_srli_epi16(z, 4), m);
    }
  }
  // One block's codes in element order (tail).
  static __m256i One(const uint8_t* p) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + offsetof(Block, qs)));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0F));
  }
};

struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kShift = 7;
  static __m512i Half(const uint8_t* p) {
    __m512i z = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + sizeof(Block))),
                           1);
    z = _mm512_inserti32x4(
        z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * sizeof(Block))), 2);
    z = _mm512_inserti32x4(
        z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3 * sizeof(Block))), 3);
    return _mm512_xor_si512(z, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  static void Quad(const uint8_t* p, __m512i* lo, __m512i* hi) {
    *lo = Half(p + offsetof(Block, qs));
    *hi = Half(p + offsetof(Block, qs) + 16);
  }
  static void Group(const uint8_t* p, __m512i lo[4], __m512i hi[4]) {
    for (int m = 0; m < 4; ++m) Quad(p + 4 * m * sizeof(Block), &lo[m], &hi[m]);
  }
  static __m256i One(const uint8_t* p) {
    const __m256i z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + offsetof(Block, qs)));
    return _mm256_xor_si256(z, _mm256_set1_epi8(static_cast<char>(0x80)));
  }
};

// ReduceGroup (avx512_util.h) of quad partials v[m] (lane k: 4 partials of
// block 4m + k) gives the 16 exact block sums in lane order (lane 4k + m =
// block 4m + k).

// Weights are prefetched into L1 PrefetchAhead() bytes ahead of the group
// being read (kernel_table.h), past the 4 KiB pages the hardware prefetchers
// stop at.

// The activation scales and code sums of group g in lane order: float d[16]
// at o + 512, int32 sum[16] << kShift at o + 576 (part of a prepared group).
template <class Dec>
void PrepareScales(const Act32View& xv, int64_t g, uint8_t* o) {
  for (int l = 0; l < 16; ++l) {
    const int64_t b = 16 * g + LaneBlock(l);
    const float d = xv.Scale(b);
    const int32_t s = xv.Sum(b) * (1 << Dec::kShift);
    std::memcpy(o + 512 + 4 * l, &d, 4);
    std::memcpy(o + 576 + 4 * l, &s, 4);
  }
}

// Blocks [b0, n_in / 32) of one row in the GGUF layout (past the last whole
// group: the same in every layout), each summed exactly in integers, then
// tail[t] = fma(d_w * d_a, sum, tail[t]) in block order.
template <class Dec, int T>
void Tail(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, int64_t b0, float* tail) {
  using Block = typename Dec::Block;
  for (int t = 0; t < T; ++t) tail[t] = 0.0f;
  for (int64_t b = b0; b < n_in / kQK; ++b) {
    const uint8_t* p = w_row + b * sizeof(Block);
    const __m256i w = Dec::One(p);
    const float dw = F16At(p + offsetof(Block, d));
    for (int t = 0; t < T; ++t) {
      const Act32View xv(x[t], n_in);
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv.q + b * kQK));
      const __m256i z = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, a);
      const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(z), _mm256_extracti128_si256(z, 1));
      const __m128i h2 = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
      const __m128i h3 = _mm_add_epi32(h2, _mm_shuffle_epi32(h2, _MM_SHUFFLE(2, 3, 0, 1)));
      const int tot = _mm_cvtsi128_si32(h3) - xv.Sum(b) * (1 << Dec::kShift);
      tail[t] = std::fma(dw * xv.Scale(b), static_cast<float>(tot), tail[t]);
    }
  }
}

template <class D>
struct KernelVnni {
  using Dec = D;
  using Block = typename Dec::Block;
  static constexpr int64_t kBytes = sizeof(Block);
  static constexpr int64_t kGroupBytes = 16 * kBytes;
  // Blocks whose F16 scale lies in one 128-byte window starting at the first.
  static constexpr int kChunk = (128 - 2 - static_cast<int>(offsetof(Block, d))) / kBytes + 1;
  static constexpr int kChunks = (16 + kChunk - 1) / kChunk;
  // Prepared group of one token: 4 quads x (64 bytes lo + 64 bytes hi) of
  // codes in lane-block order, then float d[16] and int32 sum[16] << kShift,
  // both in lane order.
  static constexpr int64_t kPrepBytes = 512 + 64 + 64;

  static void Prepare(const uint8_t* x, int64_t n_in, uint8_t* out) {
    const Act32View xv(x, n_in);
    const int64_t ng = n_in / kQK / 16;
    for (int64_t g = 0; g < ng; ++g) {
      uint8_t* o = out + g * kPrepBytes;
      const int8_t* q = xv.q + g * 16 * kQK;
      for (int m = 0; m < 4; ++m) {
        for (int k = 0; k < 4; ++k) {
          std::memcpy(o + 128 * m + 16 * k, q + (4 * m + k) * kQK, 16);
          std::memcpy(o + 128 * m + 64 + 16 * k, q + (4 * m + k) * kQK + 16, 16);
        }
      }
      PrepareScales<Dec>(xv, g, o);
    }
  }

  struct ScaleIdx {
    __m512i idx[kChunks];
    __mmask32 mask[kChunks];
    ScaleIdx() {
      for (int c = 0; c < kChunks; ++c) {
        alignas(64) int16_t v[32] = {};
        mask[c] = 0;
        for (int l = 0; l < 16; ++l) {
          const int b = LaneBlock(l);
          if (b / kChunk != c) continue;
          v[l] = static_cast<int16_t>(((b - c * kChunk) * kBytes + offsetof(Block, d)) / 2);
          mask[c] |= 1u << l;
        }
        idx[c] = _mm512_load_si512(v);
      }
    }
  };

  // The 16 weight scales of the group at p in lane order (no gather: permutes
  // of cache lines the codes come from anyway; never reads past the group).
  static __m512 Scales(const uint8_t* p, const ScaleIdx& si) {
    __m512i r = _mm512_setzero_si512();
    for (int c = 0; c < kChunks; ++c) {
      const uint8_t* base = p + c * kChunk * kBytes;
      const __m512i v = _mm512_permutex2var_epi16(_mm512_loadu_si512(base), si.idx[c],
                                                  _mm512_loadu_si512(base + 64));
      r = c == 0 ? v : _mm512_mask_mov_epi16(r, si.mask[c], v);
    }
    return _mm512_cvtph_ps(_mm512_castsi512_si256(r));
  }

  // The group at p: codes in c (lo[m] = c[m], hi[m] = c[4 + m], see Dec::Group)
  // and its 16 scales.
  static void Load(const uint8_t* p, const ScaleIdx& si, __m512i c[8], __m512* dw) {
    Dec::Group(p, c, c + 4);
    *dw = Scales(p, si);
  }
  // The 16 exact block sums (lane order) of codes c against prepared group a.
  static __m512i Sums(const __m512i c[8], const uint8_t* a) {
    __m512i v[4];
    for (int m = 0; m < 4; ++m) {
      v[m] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), c[m], _mm512_loadu_si512(a + 128 * m));
      v[m] = _mm512_dpbusd_epi32(v[m], c[4 + m], _mm512_loadu_si512(a + 128 * m + 64));
    }
    return ReduceGroup(v);
  }
};

// The kLanes16 layout (repack.h): code vector j of a group holds, in lane l,
// 4 bytes of block LaneBlock(l); Codes gives them as 8 unsigned vectors c[j]
// whose lane l meets activation values [4j, 4j + 4) of that block, vectors
// 4..7 times 2^kHiShift (Q4_0: low nibbles of vectors 0..3 are values 0..15;
// values 16..31 are the high nibbles, left in place, so 16 times the code).
struct LanesQ4_0 : DecQ4_0 {
  static constexpr int kHiShift = 4;
  static void Codes(const uint8_t* p, __m512i c[8]) {
    const __m512i lo = _mm512_set1_epi8(0x0F), hi = _mm512_set1_epi8(static_cast<char>(0xF0));
    for (int j = 0; j < 4; ++j) {
      const __m512i v = LoadWeights64(p + 64 * j);
      c[j] = _mm512_and_si512(v, lo);
      c[4 + j] = _mm512_and_si512(v, hi);
    }
  }
};
struct LanesQ8_0 : DecQ8_0 {
  static constexpr int kHiShift = 0;
  static void Codes(const uint8_t* p, __m512i c[8]) {
    for (int j = 0; j < 8; ++j) c[j] = LoadWeights64(p + 64 * j);
  }
};

// Same results as KernelVnni<Dec> (bit for bit) from kLanes16 weights: the
// dot products give the block sums in lane order directly (no reduction tree,
// no permutes; the scales are one load).
template <class D>
struct KernelLanes {
  using Dec = D;
  static constexpr int64_t kGroupBytes = 16 * sizeof(typename Dec::Block);
  static constexpr int64_t kCodeBytes = kGroupBytes - 32;
  // Prepared group of one token: 8 vectors, lane l of vector j = values
  // [4j, 4j + 4) of block LaneBlock(l); then PrepareScales.
  static constexpr int64_t kPrepBytes = 512 + 64 + 64;
  struct ScaleIdx {};

  static void Prepare(const uint8_t* x, int64_t n_in, uint8_t* out) {
    const Act32View xv(x, n_in);
    alignas(64) int32_t idx[16];
    for (int l = 0; l < 16; ++l) idx[l] = 8 * LaneBlock(l);  // the block's first 4 values
    const __m512i first = _mm512_load_si512(idx);
    for (int64_t g = 0; g < n_in / kQK / 16; ++g) {
      uint8_t* o = out + g * kPrepBytes;
      const int8_t* q = xv.q + g * 16 * kQK;
      for (int j = 0; j < 8; ++j) {
        const __m512i at = _mm512_add_epi32(first, _mm512_set1_epi32(j));
        _mm512_storeu_si512(o + 64 * j, _mm512_i32gather_epi32(at, q, 4));
      }
      PrepareScales<Dec>(xv, g, o);
    }
  }

  static void Load(const uint8_t* p, const ScaleIdx&, __m512i c[8], __m512* dw) {
    Dec::Codes(p, c);
    *dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kCodeBytes)));
  }
  // s1 sums codes times 2^kHiShift: a multiple of it, so the shift is exact
  // (|s1| <= 16 * 240 * 128, far from overflow).
  static __m512i Sums(const __m512i c[8], const uint8_t* a) {
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      s0 = _mm512_dpbusd_epi32(s0, c[j], _mm512_loadu_si512(a + 64 * j));
      s1 = _mm512_dpbusd_epi32(s1, c[4 + j], _mm512_loadu_si512(a + 256 + 64 * j));
    }
    if constexpr (Dec::kHiShift > 0) s1 = _mm512_srai_epi32(s1, Dec::kHiShift);
    return _mm512_add_epi32(s0, s1);
  }
};

// R weight rows (one per row stream: far apart in memory) in lock step, each
// against T tokens, with kernel K (KernelVnni or KernelLanes: how a group's
// codes and scales are loaded and its block sums formed); out[r * T + t].
// Every (row, token) result is computed by the same instruction sequence
// whatever T and R are. Decode reads two rows in lock step: both streams then
// advance together, which streamed 10-15% faster than alternating whole rows
// (docs/engine.md).
template <class K, int T, int R>
void GroupRows(const uint8_t* const* w_rows, const uint8_t* const* prep, const uint8_t* const* x,
               int64_t n_in, const typename K::ScaleIdx& si, float* out) {
  const int64_t ng = n_in / kQK / 16;
  const int64_t ahead = PrefetchAhead();
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < ng; ++g) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const uint8_t* p = w_rows[r] + g * K::kGroupBytes;
      PrefetchWeights<K::kGroupBytes>(p, ahead);
      __m512i c[8];
      __m512 dw;
      K::Load(p, si, c, &dw);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const uint8_t* a = prep[t] + g * K::kPrepBytes;
        const __m512i tot = _mm512_sub_epi32(K::Sums(c, a), _mm512_loadu_si512(a + 576));
        const __m512 da = _mm512_loadu_ps(reinterpret_cast<const float*>(a + 512));
        acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, da), _mm512_cvtepi32_ps(tot), acc[r][t]);
      }
    }
  }
  // Rows of whole groups (every TinyLlama-sized one) have no tail: no call
  // (Tail would give 0.0f; a call per row was 0.5% of a decode's samples).
  const bool has_tail = ng * 16 < n_in / kQK;
  for (int r = 0; r < R; ++r) {
    float tail[T] = {};
    if (has_tail) Tail<typename K::Dec, T>(w_rows[r], x, n_in, ng * 16, tail);
    for (int t = 0; t < T; ++t) out[r * T + t] = _mm512_reduce_add_ps(acc[r][t]) + tail[t];
  }
}

// Prepares every token's groups once per call (O(n_tok * n_in), identical in
// every thread), then runs rows x groups of up to 4 tokens; one token (decode)
// runs the rows in stream pairs.
template <class K>
void Run(const MatmulArgs& a) {
  const int64_t ng = a.n_in / kQK / 16;
  const size_t per_tok = static_cast<size_t>(ng * K::kPrepBytes);
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < per_tok * static_cast<size_t>(a.n_tok)) buf.resize(per_tok * a.n_tok);
  for (int t = 0; t < a.n_tok; ++t)
    K::Prepare(a.x + t * a.x_stride, a.n_in, buf.data() + t * per_tok);
  const typename K::ScaleIdx si;
  const uint8_t* prep[4] = {buf.data()};
  const uint8_t* x[4] = {a.x};
  float out[4];
  if (a.n_tok == 1) {
    constexpr int N = kDecodeRowsX86;
    ForRowStreams<N>(
        a.row_begin, a.row_end,
        [&](const int64_t* r) {
          const uint8_t* w[N];
          for (int k = 0; k < N; ++k) w[k] = a.w + r[k] * a.row_bytes;
          float o[N];
          GroupRows<K, 1, N>(w, prep, x, a.n_in, si, o);
          for (int k = 0; k < N; ++k) a.y[r[k]] = o[k];
        },
        [&](int64_t r) {
          const uint8_t* w = a.w + r * a.row_bytes;
          GroupRows<K, 1, 1>(&w, prep, x, a.n_in, si, out);
          a.y[r] = out[0];
        });
    return;
  }
  // Tokens in blocks whose prepared activations stay in L2 while every row of
  // this thread's range passes over them (a row pass over all 512 tokens of a
  // prefill would stream ~2.5 MB of activations from L3 for every weight row).
  const int64_t per_block_bytes = per_tok > 0 ? static_cast<int64_t>(per_tok) : 1;
  const int tok_block =
      static_cast<int>(std::max<int64_t>(4, (int64_t{256} << 10) / per_block_bytes / 4 * 4));
  for (int tb = 0; tb < a.n_tok; tb += tok_block) {
    const int tb_end = a.n_tok - tb < tok_block ? a.n_tok : tb + tok_block;
    ForBatchTiles(a, tb, tb_end, [&](const uint8_t* const* w, int nr, int t, int n, float* y) {
      for (int i = 0; i < n; ++i) {
        prep[i] = buf.data() + (t + i) * per_tok;
        x[i] = a.x + (t + i) * a.x_stride;
      }
      WithTokensRows(n, nr, [&]<int T, int R>() { GroupRows<K, T, R>(w, prep, x, a.n_in, si, y); });
    });
  }
}

}  // namespace

MatmulFn Avx512VnniQKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &Run<KernelVnni<DecQ4_0>>;
    case GgmlType::kQ8_0:
      return &Run<KernelVnni<DecQ8_0>>;
    default:
      return nullptr;
  }
}

MatmulFn Avx512VnniLanesKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &Run<KernelLanes<LanesQ4_0>>;
    case GgmlType::kQ8_0:
      return &Run<KernelLanes<LanesQ8_0>>;
    default:
      return Avx512VnniKLanesKernel(wtype);
  }
}

}  // namespace hearth::kernels
