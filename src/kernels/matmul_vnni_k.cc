// AVX-512 VNNI kernels for Q4_K and Q6_K (Q5_K uses the AVX2 kernel).
//
// Same integer math as the AVX2 kernels, 64 codes per instruction: the codes
// are brought into element order (shared by all tokens), each
// 64-byte run is multiplied with maddubs (u8 x s8 -> int16 pairs) and
// accumulated with vpdpwssd against the sub-block scales (int16), exact in int32.
// Per super-block and token the integer vectors are summed to the exact
// S_b (and M_b), then the float steps of k_accumulate.h (shared with the AMX
// kernels, which give the same bits), here four super-blocks at a time:
//   Q4_K: S_b = sumi, M_b = sum_s m_s * bsum_s; Q6_K: S_b = sumi - 32 * sum_s sc_s * bsum_s.
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

inline __m256i LoadBsums(const Act256View& xv, int64_t b) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv.bsum + 2 * 16 * b));
}

// Weights are prefetched into L1 PrefetchAhead() bytes ahead (kernel_table.h;
// rows are contiguous, so it runs on into the next row), past the 4 KiB pages
// the hardware prefetchers stop at. Into L1 (T0): in decode, 2 KiB ahead into
// L1 streamed 5-10% faster than 4 KiB ahead into L2 on a Xeon.

constexpr size_t kQ4KBytes = sizeof(BlockQ4_K);
// ScalesMinsK4 of four consecutive super-blocks at once (q: the first one's
// scale field): 128-bit lane j holds super-block j's eight scales (bytes 0..7)
// and eight mins (bytes 8..15). Bytes 12..15 of each lane's load, the block's
// first codes, are read and dropped.
inline __m512i ScalesMinsK4x4(const uint8_t* q) {
  return ScalesMinsK4Lanes<0>(Load4x16(q, q + kQ4KBytes, q + 2 * kQ4KBytes, q + 3 * kQ4KBytes));
}

// Q4_K, per super-block (144 bytes) and token: the codes come from one plain
// 64-byte load per 128 values (low nibbles, then high: no shuffles, no
// broadcasts), the activations having been put in that order once per call
// (RunQ4K); the scales and mins are decoded four super-blocks at a time
// (ScalesMinsK4x4; the last nb % 4 one at a time by ScalesMinsK4) and each
// scale vector is one byte shuffle of them. The
// mins' term M_b takes one madd per four super-blocks against sums of the
// activations over each 32-value sub-block (also made by RunQ4K). The float
// steps run for 4 super-blocks at once, lane j of a 4-float vector being l[j]
// of KAccumulator: the exact S_b of the 4 are reduced together (one
// transposed reduction instead of 4 horizontal ones), then the same
// fma(d * da, S, l) and fma(-dmin * da, M, l) per lane, so the same bits.
// With warm caches the kernel is bound by its vector instructions (27.6 GB/s
// per core here); in a decode, the order in which it reads its two rows
// matters more than their count (docs/engine.md).
struct KernelQ4K {
  // The activation sums per 32-value sub-block (int16[n_in / 32]) that RunQ4K
  // appends to each prepared row.
  static const int16_t* Bsum32(const uint8_t* x, int64_t n_in) {
    return reinterpret_cast<const int16_t*>(x + ActivationRowBytes(GgmlType::kQ4_K, n_in));
  }

  // Sum lanes of super-block p's S_b against each of the T tokens (b: its
  // index), scm: its 8 scales (then its 8 mins) as bytes.
  template <int T>
  static inline void Block(const uint8_t* p, const Act256View* xv, int64_t b, const __m512i* sidx,
                           const uint8_t* scm, __m512i* sumi_out, int64_t ahead) {
    PrefetchWeights<sizeof(BlockQ4_K)>(p, ahead);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    // The 16 bytes of scales and mins in every 128-bit lane.
    const __m512i sb =
        _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scm)));
    // Codes of half h (128 values) from one 64-byte load z: v[2h] = low
    // nibbles (sub-blocks 4h, 4h + 2), v[2h + 1] = high (4h + 1, 4h + 3); the
    // activations are in that order (RunQ4K).
    __m512i v[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i z = LoadWeights64(p + offsetof(BlockQ4_K, qs) + 64 * h);
      v[2 * h] = _mm512_and_si512(z, low4);
      v[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(z, 4), low4);
    }
    __m512i scv[4];  // v[i]'s sub-block scales per int32 lane (int16 pairs)
    for (int i = 0; i < 4; ++i) scv[i] = _mm512_shuffle_epi8(sb, sidx[i]);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const int8_t* a = xv[t].q + b * kQKK;
      __m512i sumi = _mm512_setzero_si512();
      for (int i = 0; i < 4; ++i) {
        const __m512i pr = _mm512_maddubs_epi16(v[i], _mm512_loadu_si512(a + 64 * i));
        sumi = _mm512_dpwssd_epi32(sumi, pr, scv[i]);
      }
      sumi_out[t] = sumi;
    }
  }

  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    const int64_t nb = n_in / kQKK;
    const int64_t ahead = PrefetchAhead();
    Act256View xv[T];
    const int16_t* bs32[T];
    for (int t = 0; t < T; ++t) {
      xv[t] = Act256View(x[t], n_in);
      bs32[t] = Bsum32(x[t], n_in);
    }
    // Byte shuffles of the scales (in every 128-bit lane) into the scale
    // vectors: vector 2h + l: 8 x sub-block 4h + l's scale, 8 x sub-block
    // 4h + l + 2's, each in both int16 halves of a dword (the high bytes zero).
    __m512i sidx[4];
    for (int i = 0; i < 4; ++i) {
      alignas(64) int8_t m[64];
      for (int k = 0; k < 64; ++k) {
        const int sub = 4 * (i / 2) + i % 2 + (k < 32 ? 0 : 2);
        m[k] = k % 2 == 0 ? static_cast<int8_t>(sub) : static_cast<int8_t>(-128);
      }
      sidx[i] = _mm512_load_si512(m);
    }
    __m128 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm_setzero_ps();
    }
    const int64_t nb4 = nb / 4 * 4;
    for (int64_t b = 0; b < nb4; b += 4) {
      __m512i mins16[R];
      alignas(64) uint8_t scm_buf[R][64];
      const uint8_t* scm[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i sm = ScalesMinsK4x4(w_rows[r] + b * kQ4KBytes + offsetof(BlockQ4_K, scales));
        // Each super-block's scales are then broadcast from memory (a load, not
        // a shuffle): the empty asm hides the store from the compiler, which
        // would otherwise rebuild the broadcasts from `sm` with shuffles.
        _mm512_store_si512(scm_buf[r], sm);
        scm[r] = scm_buf[r];
        __asm__("" : "+r"(scm[r]));
        mins16[r] = Mins16(sm);
      }
      // The R rows' super-blocks alternate one by one (144 bytes of each
      // stream in turn): the decode's matrices streamed at 89-93% of the read
      // bandwidth this way against 84-87% with four super-blocks of one row,
      // then four of the other (docs/engine.md).
      __m512i s[R][4][T];
      for (int j = 0; j < 4; ++j) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          Block<T>(w_rows[r] + (b + j) * kQ4KBytes, xv, b + j, sidx, scm[r] + 16 * j, s[r][j],
                   ahead);
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        static_assert(offsetof(BlockQ4_K, d) == 0 && offsetof(BlockQ4_K, dmin) == 2);
        const uint8_t* p0 = w_rows[r] + b * kQ4KBytes;
        __m128i dm = _mm_loadu_si32(p0);
        for (int j = 1; j < 4; ++j) {
          dm = _mm_mask_broadcastd_epi32(dm, static_cast<__mmask8>(1u << j),
                                         _mm_loadu_si32(p0 + j * kQ4KBytes));
        }
        dm = _mm_shuffle_epi8(dm,
                              _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
        const __m256 dd = _mm256_cvtph_ps(dm);
        const __m128 d4 = _mm256_castps256_ps128(dd);
        const __m128 ndmin4 = _mm_xor_ps(_mm256_extractf128_ps(dd, 1), _mm_set1_ps(-0.0f));
        for (int t = 0; t < T; ++t) {
          const __m512i si[4] = {s[r][0][t], s[r][1][t], s[r][2][t], s[r][3][t]};
          const __m128 da = _mm_loadu_ps(reinterpret_cast<const float*>(xv[t].d) + b);
          __m128 l = _mm_fmadd_ps(_mm_mul_ps(d4, da), _mm_cvtepi32_ps(Reduce4(si)), acc[r][t]);
          acc[r][t] = _mm_fmadd_ps(_mm_mul_ps(ndmin4, da),
                                   _mm_cvtepi32_ps(MinSums4(mins16[r], bs32[t] + 8 * b)), l);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      KAccumulator kacc[T];
      for (int t = 0; t < T; ++t) _mm_storeu_ps(kacc[t].l, acc[r][t]);
      for (int64_t b = nb4; b < nb; ++b) {  // the last nb % 4 super-blocks, one at a time
        const uint8_t* p = w_rows[r] + b * kQ4KBytes;
        alignas(16) uint8_t scm[16];
        uint64_t sc8, m8;
        ScalesMinsK4(p + offsetof(BlockQ4_K, scales), &sc8, &m8);
        std::memcpy(scm, &sc8, 8);
        std::memcpy(scm + 8, &m8, 8);
        __m512i s[T];
        Block<T>(p, xv, b, sidx, scm, s, ahead);
        const __m128i mins =
            _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scm + 8)));
        const float d = F16At(p + offsetof(BlockQ4_K, d));
        const float dmin = F16At(p + offsetof(BlockQ4_K, dmin));
        for (int t = 0; t < T; ++t) {
          const __m128i m = _mm_madd_epi16(
              mins, _mm_loadu_si128(reinterpret_cast<const __m128i*>(bs32[t] + 8 * b)));
          const __m128i m2 = _mm_add_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
          const int32_t msum =
              _mm_cvtsi128_si32(_mm_add_epi32(m2, _mm_shuffle_epi32(m2, _MM_SHUFFLE(2, 3, 0, 1))));
          const float da = xv[t].Scale(b);
          kacc[t].Add(b, d, da, _mm512_reduce_add_epi32(s[t]));
          kacc[t].Add(b, -dmin, da, msum);
        }
      }
      for (int t = 0; t < T; ++t) out[r * T + t] = kacc[t].Result();
    }
  }
};

// Q6_K, per super-block (210 bytes) and token: codes as before; the scale
// vectors by vpermd from int16 pairs; as for Q4_K the float steps run for 4
// super-blocks at once (same bits as one at a time).
struct KernelQ6K {
  template <int T>
  static inline void Block(const uint8_t* p, const Act256View* xv, int64_t b, const __m512i* sidx,
                           __m512i* out, int64_t ahead) {
    PrefetchWeights<sizeof(BlockQ6_K)>(p, ahead);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    // High-bit masks and shifts: lower 32 bytes / upper 32 bytes of a run.
    const __m512i m01 = _mm512_inserti64x4(_mm512_set1_epi8(0x03), _mm256_set1_epi8(0x0C), 1);
    const __m512i m23 =
        _mm512_inserti64x4(_mm512_set1_epi8(0x30), _mm256_set1_epi8(static_cast<char>(0xC0)), 1);
    const __m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m128i sc8 =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + offsetof(BlockQ6_K, scales)));
    const __m256i sc16y = _mm256_cvtepi8_epi16(sc8);
    // Lane s: scale s in both int16 halves.
    const __m512i sc32 = _mm512_cvtepi8_epi32(sc8);
    const __m512i sc2 = _mm512_or_si512(_mm512_and_si512(sc32, _mm512_set1_epi32(0xFFFF)),
                                        _mm512_slli_epi32(sc32, 16));
    __m512i v[4];  // codes of elements 64j .. 64j+63
    for (int n = 0; n < 2; ++n) {
      const __m512i ql = LoadWeights64(p + offsetof(BlockQ6_K, ql) + 64 * n);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(p + offsetof(BlockQ6_K, qh) + 32 * n)));
      v[2 * n] = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                 _mm512_sllv_epi16(_mm512_and_si512(qh, m01), sh01));
      v[2 * n + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                     _mm512_srlv_epi16(_mm512_and_si512(qh, m23), sh23));
    }
    __m512i scv[4];
    for (int j = 0; j < 4; ++j) scv[j] = _mm512_permutexvar_epi32(sidx[j], sc2);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const int8_t* a = xv[t].q + b * kQKK;
      __m512i sumi = _mm512_setzero_si512();
      for (int j = 0; j < 4; ++j) {
        const __m512i pr = _mm512_maddubs_epi16(v[j], _mm512_loadu_si512(a + 64 * j));
        sumi = _mm512_dpwssd_epi32(sumi, pr, scv[j]);
      }
      const __m256i corr = _mm256_madd_epi16(LoadBsums(xv[t], b), sc16y);
      out[t] = _mm512_sub_epi32(sumi, _mm512_zextsi256_si512(_mm256_slli_epi32(corr, 5)));
    }
  }

  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    const int64_t ahead = PrefetchAhead();
    Act256View xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Act256View(x[t], n_in);
    __m512i sidx[4];  // run j covers sub-blocks 4j .. 4j+3: 4 int32 lanes each
    for (int j = 0; j < 4; ++j) {
      alignas(64) int32_t idx[16];
      for (int i = 0; i < 16; ++i) idx[i] = 4 * j + i / 4;
      sidx[j] = _mm512_load_si512(idx);
    }
    // The R rows' super-blocks alternate (see KernelQ4K::Rows).
    Q6KRows<T, R>(w_rows, xv, n_in, out, [&](const uint8_t* p, int64_t b, __m512i* s) {
      Block<T>(p, xv, b, sidx, s, ahead);
    });
  }
};

template <class K>
void Run(const MatmulArgs& a) {
  DriveRows<K, kRowStreams, kDecodeRowsX86>(a);
}

// Q4_K: the activations with each 128 values' codes in the order of the
// kernel's 64-byte weight loads, [0, 32) [64, 96) [32, 64) [96, 128); scales
// and 16-value sums as they are (the layout stays Act256View's; this kernel no
// longer reads the 16-value sums); then the sums per 32 values (int16, exact:
// at most 32 x 127), which the mins' term uses. Made once per call
// (O(n_tok * n_in)).
void RunQ4K(const MatmulArgs& a) {
  const size_t row = ActivationRowBytes(GgmlType::kQ4_K, a.n_in);
  const size_t row2 = row + static_cast<size_t>(a.n_in / 32) * 2;
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < row2 * static_cast<size_t>(a.n_tok)) buf.resize(row2 * a.n_tok);
  for (int t = 0; t < a.n_tok; ++t) {
    const uint8_t* x = a.x + t * a.x_stride;
    uint8_t* o = buf.data() + t * row2;
    std::memcpy(o + a.n_in, x + a.n_in, row - static_cast<size_t>(a.n_in));
    for (int64_t h = 0; h < a.n_in; h += 128) {
      for (int k = 0; k < 4; ++k) {
        std::memcpy(o + h + 32 * k, x + h + 32 * ((k & 1) * 2 + (k >> 1)), 32);
      }
    }
    StoreSums32(Act256View(x, a.n_in), a.n_in, o + row);
  }
  MatmulArgs b = a;
  b.x = buf.data();
  b.x_stride = row2;
  DriveRows<KernelQ4K, kRowStreams, kDecodeRowsX86>(b);
}

}  // namespace

MatmulFn Avx512VnniKKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_K:
      return &RunQ4K;
    case GgmlType::kQ6_K:
      return &Run<KernelQ6K>;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
