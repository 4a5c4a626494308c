// AVX-512 VNNI kernels for Q4_K and Q6_K weights repacked into kLanes16
// (repack.h): the same results as the GGUF-layout kernels (matmul_vnni_k.cc),
// bit for bit. Q4_K first; Q6_K below.
//
// A group (two super-blocks, 288 bytes) holds one sub-block per 32-bit lane,
// so per token eight vpdpbusd give the 16 sub-blocks' code . activation sums
// at once: four over the low nibbles, four over the high nibbles kept in
// place (codes x 16, divided back exactly by a shift), then one multiply by
// the sub-block scales. No scale shuffles per super-block and no maddubs: the
// GGUF kernel needs two instructions per 64 codes and token, this one one.
// The integers S_b and M_b are exact, so their order does not matter; the
// float steps are those of k_accumulate.h, four super-blocks at a time, the
// last nb % 4 one at a time, as in the GGUF kernel.
#include <immintrin.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/avx512_util.h"
#include "kernels/k_accumulate.h"
#include "kernels/k_q6_rows_avx512.h"
#include "kernels/k_scales.h"
#include "kernels/k_scales_avx512.h"
#include "kernels/kernel_table.h"
#include "kernels/weight_prefetch.h"

namespace hearth::kernels {
namespace {

constexpr int64_t kGroupBytes = 2 * sizeof(BlockQ4_K);  // 288
constexpr int64_t kGroupPrep = 512;                     // a group's activations, one token

// One token's row as the kernel reads it (made by RunQ4KLanes):
//   [ng groups x 512 bytes: vector v, lane l = values [4v, 4v + 4) of the
//    group's sub-block l] [the Act256View row as given] [int16 sums per
//    32 values (n_in / 32)].
struct Q4KLanesRow {
  const uint8_t* groups = nullptr;
  Act256View xv;
  const int16_t* bs32 = nullptr;
  Q4KLanesRow() = default;
  Q4KLanesRow(const uint8_t* x, int64_t n_in) {
    const int64_t ng = n_in / kQKK / 2;
    groups = x;
    xv = Act256View(x + ng * kGroupPrep, n_in);
    bs32 = reinterpret_cast<const int16_t*>(x + ng * kGroupPrep +
                                            ActivationRowBytes(GgmlType::kQ4_K, n_in));
  }
};

// The 16 sub-block sums of codes . activations of group p against one token's
// prepared group a (exact int32, lane l = sub-block l).
inline __m512i GroupSums(const __m512i lo[4], const __m512i hi[4], const uint8_t* a) {
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  for (int j = 0; j < 4; ++j) {
    s0 = _mm512_dpbusd_epi32(s0, lo[j], _mm512_loadu_si512(a + 64 * j));
    s1 = _mm512_dpbusd_epi32(s1, hi[j], _mm512_loadu_si512(a + 256 + 64 * j));
  }
  // s1 = 16 x the high nibbles' sums (at most 16 * 16 * 15 * 127 in size).
  return _mm512_add_epi32(s0, _mm512_srai_epi32(s1, 4));
}

inline void GroupCodes(const uint8_t* p, __m512i lo[4], __m512i hi[4]) {
  const __m512i m = _mm512_set1_epi8(0x0F);
  for (int j = 0; j < 4; ++j) {
    const __m512i z = LoadWeights64(p + 64 * j);
    lo[j] = _mm512_and_si512(z, m);
    hi[j] = _mm512_andnot_si512(m, z);
  }
}

// prod0 = group of super-blocks (0, 1), prod1 = (2, 3), lanes 8k .. 8k + 7
// = super-block k's sub-blocks: lane j of the result = sum of super-block j's.
inline __m128i SuperBlockSums4(__m512i prod0, __m512i prod1) {
  const __m512i lo = _mm512_shuffle_i32x4(prod0, prod1, _MM_SHUFFLE(2, 0, 2, 0));
  const __m512i hi = _mm512_shuffle_i32x4(prod0, prod1, _MM_SHUFFLE(3, 1, 3, 1));
  __m512i s = _mm512_add_epi32(lo, hi);  // 128-bit lane k: 4 partials of super-block k
  s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
  s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
  return _mm512_castsi512_si128(_mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s));
}

// S_b and M_b of a last odd super-block (GGUF layout) against one token, in
// plain order: the codes of 64 values per vpdpbusd, the partials scaled and
// summed in integers.
void OddSuperBlock(const uint8_t* p, const Q4KLanesRow& x, int64_t b, int32_t* s_out,
                   int32_t* m_out) {
  uint64_t sc8, m8;
  ScalesMinsK4(p + offsetof(BlockQ4_K, scales), &sc8, &m8);
  uint8_t sc[8], mn[8];
  std::memcpy(sc, &sc8, 8);
  std::memcpy(mn, &m8, 8);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  int32_t s = 0, m = 0;
  for (int c = 0; c < 4; ++c) {
    const __m256i z =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + offsetof(BlockQ4_K, qs) + 32 * c));
    const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(z, m4)),
                                             _mm256_and_si256(_mm256_srli_epi16(z, 4), m4),
                                             1);  // values 64c .. 64c + 63
    const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes,
                                          _mm512_loadu_si512(x.xv.q + b * kQKK + 64 * c));
    alignas(64) int32_t part[16];
    _mm512_store_si512(part, d);
    for (int h = 0; h < 2; ++h) {
      int32_t sub = 0;
      for (int i = 0; i < 8; ++i) sub += part[8 * h + i];
      s += static_cast<int32_t>(sc[2 * c + h]) * sub;
    }
  }
  for (int k = 0; k < 8; ++k) m += static_cast<int32_t>(mn[k]) * x.bs32[8 * b + k];
  *s_out = s;
  *m_out = m;
}

struct KernelQ4KLanes {
  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x_rows, int64_t n_in,
                   float* out) {
    const int64_t nb = n_in / kQKK;
    const int64_t ahead = PrefetchAhead();
    Q4KLanesRow xs[T];
    for (int t = 0; t < T; ++t) xs[t] = Q4KLanesRow(x_rows[t], n_in);
    __m128 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm_setzero_ps();
    }
    const int64_t nb4 = nb / 4 * 4;
    for (int64_t b = 0; b < nb4; b += 4) {
      const int64_t g = b / 2;
      __m512i prod[R][2][T];
      __m512i mins16[R];
      __m128 d4[R], ndmin4[R];
      __m512i sc[R][2];  // the sub-block scales of each group as int32
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w_rows[r] + g * kGroupBytes;
        // Each super-block's 16-byte head (d, dmin, scales) in a 128-bit lane.
        const __m512i head =
            Load4x16(p + 256, p + 272, p + kGroupBytes + 256, p + kGroupBytes + 272);
        const __m512i sm = ScalesMinsK4Lanes<4>(head);
        mins16[r] = Mins16(sm);
        // d and dmin (dword 0 of each lane) of the four super-blocks.
        const __m128i dm = _mm_shuffle_epi8(
            _mm512_castsi512_si128(_mm512_permutexvar_epi32(
                _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), head)),
            _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
        const __m256 dd = _mm256_cvtph_ps(dm);
        d4[r] = _mm256_castps256_ps128(dd);
        ndmin4[r] = _mm_xor_ps(_mm256_extractf128_ps(dd, 1), _mm_set1_ps(-0.0f));
        // Scales of the four super-blocks (bytes 0..7 of each lane).
        const __m256i sc4 = _mm512_castsi512_si256(
            _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 0, 0, 0, 0), sm));
        sc[r][0] = _mm512_cvtepu8_epi32(_mm256_castsi256_si128(sc4));
        sc[r][1] = _mm512_cvtepu8_epi32(_mm256_extracti128_si256(sc4, 1));
      }
      // The R rows' groups alternate one by one (288 bytes of each stream in
      // turn; the GGUF kernel's reason for alternating its super-blocks).
      for (int q = 0; q < 2; ++q) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const uint8_t* pq = w_rows[r] + (g + q) * kGroupBytes;
          PrefetchWeights<kGroupBytes>(pq, ahead);
          __m512i lo[4], hi[4];
          GroupCodes(pq, lo, hi);
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            prod[r][q][t] = _mm512_mullo_epi32(
                GroupSums(lo, hi, xs[t].groups + (g + q) * kGroupPrep), sc[r][q]);
          }
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        for (int t = 0; t < T; ++t) {
          const __m128 da = _mm_loadu_ps(reinterpret_cast<const float*>(xs[t].xv.d) + b);
          const __m128 l = _mm_fmadd_ps(
              _mm_mul_ps(d4[r], da), _mm_cvtepi32_ps(SuperBlockSums4(prod[r][0][t], prod[r][1][t])),
              acc[r][t]);
          acc[r][t] = _mm_fmadd_ps(_mm_mul_ps(ndmin4[r], da),
                                   _mm_cvtepi32_ps(MinSums4(mins16[r], xs[t].bs32 + 8 * b)), l);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      KAccumulator kacc[T];
      for (int t = 0; t < T; ++t) _mm_storeu_ps(kacc[t].l, acc[r][t]);
      int64_t b = nb4;
      if (b + 2 <= nb) {  // a last whole group after the fours
        const uint8_t* p = w_rows[r] + b / 2 * kGroupBytes;
        uint64_t sc8[2], m8[2];
        float d[2], dmin[2];
        for (int k = 0; k < 2; ++k) {
          const uint8_t* h = p + 256 + 16 * k;  // a GGUF super-block's first 16 bytes
          ScalesMinsK4(h + offsetof(BlockQ4_K, scales), &sc8[k], &m8[k]);
          d[k] = F16At(h + offsetof(BlockQ4_K, d));
          dmin[k] = F16At(h + offsetof(BlockQ4_K, dmin));
        }
        alignas(16) uint8_t scb[16];
        std::memcpy(scb, sc8, 16);
        const __m512i sc = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<__m128i*>(scb)));
        __m512i lo[4], hi[4];
        GroupCodes(p, lo, hi);
        for (int t = 0; t < T; ++t) {
          alignas(64) int32_t part[16];
          _mm512_store_si512(
              part, _mm512_mullo_epi32(GroupSums(lo, hi, xs[t].groups + b / 2 * kGroupPrep), sc));
          for (int k = 0; k < 2; ++k) {
            int32_t s = 0, m = 0;
            for (int i = 0; i < 8; ++i) {
              s += part[8 * k + i];
              m += static_cast<int32_t>((m8[k] >> (8 * i)) & 0xFF) * xs[t].bs32[8 * (b + k) + i];
            }
            const float da = xs[t].xv.Scale(b + k);
            kacc[t].Add(b + k, d[k], da, s);
            kacc[t].Add(b + k, -dmin[k], da, m);
          }
        }
        b += 2;
      }
      if (b < nb) {  // a last odd super-block, in the GGUF layout
        const uint8_t* p = w_rows[r] + b / 2 * kGroupBytes;
        const float d = F16At(p + offsetof(BlockQ4_K, d));
        const float dmin = F16At(p + offsetof(BlockQ4_K, dmin));
        for (int t = 0; t < T; ++t) {
          int32_t s, m;
          OddSuperBlock(p, xs[t], b, &s, &m);
          const float da = xs[t].xv.Scale(b);
          kacc[t].Add(b, d, da, s);
          kacc[t].Add(b, -dmin, da, m);
        }
      }
      for (int t = 0; t < T; ++t) out[r * T + t] = kacc[t].Result();
    }
  }
};

// Prepares each token's row once per call (Q4KLanesRow; O(n_tok * n_in),
// identical in every thread), then runs the rows as DriveRows orders them.
void RunQ4KLanes(const MatmulArgs& a) {
  const int64_t ng = a.n_in / kQKK / 2;
  const size_t act = ActivationRowBytes(GgmlType::kQ4_K, a.n_in);
  const size_t row2 =
      static_cast<size_t>(ng * kGroupPrep) + act + static_cast<size_t>(a.n_in / 32) * 2;
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < row2 * static_cast<size_t>(a.n_tok)) buf.resize(row2 * a.n_tok);
  alignas(64) int32_t idx[16];
  for (int l = 0; l < 16; ++l) idx[l] = 64 * (l / 8) + 8 * (l % 8);  // sub-block l's first dword
  const __m512i first = _mm512_load_si512(idx);
  for (int t = 0; t < a.n_tok; ++t) {
    const uint8_t* x = a.x + t * a.x_stride;
    uint8_t* o = buf.data() + t * row2;
    for (int64_t g = 0; g < ng; ++g) {
      const uint8_t* q = x + g * 2 * kQKK;
      for (int v = 0; v < 8; ++v) {
        const __m512i at = _mm512_add_epi32(first, _mm512_set1_epi32(v));
        _mm512_storeu_si512(o + g * kGroupPrep + 64 * v, _mm512_i32gather_epi32(at, q, 4));
      }
    }
    uint8_t* row = o + ng * kGroupPrep;
    std::memcpy(row, x, act);
    StoreSums32(Act256View(x, a.n_in), a.n_in, row + act);
  }
  MatmulArgs b = a;
  b.x = buf.data();
  b.x_stride = row2;
  DriveRows<KernelQ4KLanes, kRowStreams, kDecodeRowsX86>(b);
}

// Q6_K: one super-block per group (210 bytes). Per token four vpdpbusd give
// the 16 sub-blocks' sums of codes (0..63) . activations, from which 32 x the
// activations' 16-value sums are subtracted (the codes' offset) before one
// multiply by the signed sub-block scales: S_b, exact, as the GGUF kernel's.
constexpr int64_t kQ6KPrep = 256 + 64;  // a super-block's activations, then 32 x its sums

// One token's row: [nb x 320 bytes: vector j, lane l = values [16l + 4j,
// 16l + 4j + 4); then int32 32 x the sum of values 16l .. 16l + 15] [the
// Act256View row as given].
struct Q6KLanesRow {
  const uint8_t* sbs = nullptr;
  Act256View xv;
  Q6KLanesRow() = default;
  Q6KLanesRow(const uint8_t* x, int64_t n_in) : sbs(x), xv(x + n_in / kQKK * kQ6KPrep, n_in) {}
};

struct KernelQ6KLanes {
  // The 16 lanes of super-block p's sub-block sums S (scaled, exact) per token.
  template <int T>
  static inline void Block(const uint8_t* p, const Q6KLanesRow* xs, int64_t b, __m512i* out,
                           int64_t ahead) {
    PrefetchWeights<sizeof(BlockQ6_K)>(p, ahead);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i a = LoadWeights64(p), bv = LoadWeights64(p + 64), c = LoadWeights64(p + 128);
    __m512i v[4];
    v[0] = _mm512_or_si512(_mm512_and_si512(a, m4),
                           _mm512_slli_epi16(_mm512_and_si512(c, _mm512_set1_epi8(0x03)), 4));
    v[1] = _mm512_or_si512(_mm512_and_si512(bv, m4),
                           _mm512_slli_epi16(_mm512_and_si512(c, _mm512_set1_epi8(0x0C)), 2));
    v[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(a, 4), m4),
                           _mm512_and_si512(c, _mm512_set1_epi8(0x30)));
    v[3] = _mm512_or_si512(
        _mm512_and_si512(_mm512_srli_epi16(bv, 4), m4),
        _mm512_srli_epi16(_mm512_and_si512(c, _mm512_set1_epi8(static_cast<char>(0xC0))), 2));
    const __m512i sc =
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 192)));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const uint8_t* x = xs[t].sbs + b * kQ6KPrep;
      __m512i s = _mm512_setzero_si512();
      for (int j = 0; j < 4; ++j) s = _mm512_dpbusd_epi32(s, v[j], _mm512_loadu_si512(x + 64 * j));
      out[t] = _mm512_mullo_epi32(_mm512_sub_epi32(s, _mm512_loadu_si512(x + 256)), sc);
    }
  }

  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x_rows, int64_t n_in,
                   float* out) {
    const int64_t ahead = PrefetchAhead();
    Q6KLanesRow xs[T];
    Act256View xv[T];
    for (int t = 0; t < T; ++t) xs[t] = Q6KLanesRow(x_rows[t], n_in), xv[t] = xs[t].xv;
    // The R rows' super-blocks alternate (as in the GGUF kernel).
    Q6KRows<T, R>(w_rows, xv, n_in, out,
                  [&](const uint8_t* p, int64_t b, __m512i* s) { Block<T>(p, xs, b, s, ahead); });
  }
};

void RunQ6KLanes(const MatmulArgs& a) {
  const int64_t nb = a.n_in / kQKK;
  const size_t act = ActivationRowBytes(GgmlType::kQ6_K, a.n_in);
  const size_t row2 = static_cast<size_t>(nb * kQ6KPrep) + act;
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < row2 * static_cast<size_t>(a.n_tok)) buf.resize(row2 * a.n_tok);
  alignas(64) int32_t idx[16];
  for (int l = 0; l < 16; ++l) idx[l] = 4 * l;  // sub-block l's first dword
  const __m512i first = _mm512_load_si512(idx);
  for (int t = 0; t < a.n_tok; ++t) {
    const uint8_t* x = a.x + t * a.x_stride;
    uint8_t* o = buf.data() + t * row2;
    const Act256View xv(x, a.n_in);
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* ob = o + b * kQ6KPrep;
      for (int j = 0; j < 4; ++j) {
        const __m512i at = _mm512_add_epi32(first, _mm512_set1_epi32(j));
        _mm512_storeu_si512(ob + 64 * j, _mm512_i32gather_epi32(at, x + b * kQKK, 4));
      }
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv.bsum + 32 * b));
      _mm512_storeu_si512(ob + 256, _mm512_slli_epi32(_mm512_cvtepi16_epi32(bs), 5));
    }
    std::memcpy(o + nb * kQ6KPrep, x, act);
  }
  MatmulArgs b = a;
  b.x = buf.data();
  b.x_stride = row2;
  DriveRows<KernelQ6KLanes, kRowStreams, kDecodeRowsX86>(b);
}

}  // namespace

MatmulFn Avx512VnniKLanesKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_K:
      return &RunQ4KLanes;
    case GgmlType::kQ6_K:
      return &RunQ6KLanes;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
