// Internal: AVX2 kernels for Q4_0 and Q8_0 weights in the kLanes16 layout
// (repack.h), included by matmul_avx2_q.cc (AVX2) and matmul_avxvnni_q.cc
// (AVX2 + AVX-VNNI) beside the GGUF-layout ones they build on.
//
// A group of 16 blocks is read as two halves of 8 lanes (lane l = 4 code
// bytes of block LaneBlock(l)): every vector gives 8 blocks' partial dots at
// once, where the GGUF-layout kernel (Kernel32) unpacks each block and
// reduces it with hadds. The integer block sums are the same exact integers.
// Lane l = 4i + k holds block 4k + i, so quarter i of the 16 lanes holds
// blocks i, 4 + i, 8 + i, 12 + i: a 4x4 transpose gives the quads
// (4k .. 4k + 3) in the lanes Kernel32's float accumulator has them, and the
// same fma per quad in the same order gives Kernel32's bits
// (Repack.MatmulOverLanes16IsBitIdenticalOnEveryIsa). Blocks past the last
// whole group are in the GGUF layout and go through Kernel32's own steps.
#pragma once

#include <cstring>
#include <vector>

#include "kernels/matmul_avx2_q_impl.h"
#include "kernels/repack.h"

namespace hearth::kernels {
namespace {

// s + the dot of unsigned u with signed a in 8 int32 lanes (each the sum of
// four byte products; the AVX2 int16 pairs never saturate on these operands).
inline __m256i DotAcc(__m256i s, __m256i u, __m256i a) {
#if defined(__AVXVNNI__)
  return _mm256_dpbusd_avx_epi32(s, u, a);
#else
  return _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), _mm256_set1_epi16(1)));
#endif
}

// Q4_0: 4 code vectors per group, the low nibbles values 4j .. 4j + 3 of the
// lane's block, the high ones 16 + 4j ..; offset 8.
struct LanesQ4_0 {
  using Dec = DecQ4_0;
  static constexpr int kOffsetShift = 3;  // 8 * sum(a)
  // Lanes 0..7 (*lo) and 8..15 (*hi) of the group at p against prepared
  // activations a, each 64-byte line read whole before the next.
  static void Sums(const uint8_t* p, const uint8_t* a, __m256i* lo, __m256i* hi) {
    const __m256i m = _mm256_set1_epi8(0x0F);
#if defined(__AVXVNNI__)
    __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
    for (int j = 0; j < 4; ++j) {
      for (int h = 0; h < 2; ++h) {
        const __m256i c = LoadU(p + 64 * j + 32 * h);
        s[2 * h] = DotAcc(s[2 * h], _mm256_and_si256(c, m), LoadU(a + 64 * j + 32 * h));
        s[2 * h + 1] = DotAcc(s[2 * h + 1], _mm256_and_si256(_mm256_srli_epi16(c, 4), m),
                              LoadU(a + 256 + 64 * j + 32 * h));
      }
    }
    *lo = _mm256_add_epi32(s[0], s[1]);
    *hi = _mm256_add_epi32(s[2], s[3]);
#else
    // The int16 pairs of four vectors added before widening: each pair is at
    // most 2 * 15 * 128 in size, four of them 15360 < 32767, so the sums are
    // exact.
    __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
    for (int j = 0; j < 4; ++j) {
      for (int h = 0; h < 2; ++h) {
        const __m256i c = LoadU(p + 64 * j + 32 * h);
        s[2 * h] = _mm256_add_epi16(
            s[2 * h], _mm256_maddubs_epi16(_mm256_and_si256(c, m), LoadU(a + 64 * j + 32 * h)));
        s[2 * h + 1] = _mm256_add_epi16(
            s[2 * h + 1], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(c, 4), m),
                                               LoadU(a + 256 + 64 * j + 32 * h)));
      }
    }
    const __m256i one = _mm256_set1_epi16(1);
    *lo = _mm256_add_epi32(_mm256_madd_epi16(s[0], one), _mm256_madd_epi16(s[1], one));
    *hi = _mm256_add_epi32(_mm256_madd_epi16(s[2], one), _mm256_madd_epi16(s[3], one));
#endif
  }
};

// Q8_0: 8 code vectors, stored plus 128. With AVX-VNNI, the unsigned stored
// codes against a, less 128 * sum(a); with AVX2, the signed codes by
// maddubs(|w|, sign(a, w)), as Kernel32 does.
struct LanesQ8_0 {
  using Dec = DecQ8_0;
#if defined(__AVXVNNI__)
  static constexpr int kOffsetShift = 7;
#else
  static constexpr int kOffsetShift = -1;
#endif
  static void Sums(const uint8_t* p, const uint8_t* a, __m256i* lo, __m256i* hi) {
    __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
    for (int j = 0; j < 8; ++j) {
      for (int h = 0; h < 2; ++h) {
        __m256i u = LoadU(p + 64 * j + 32 * h), x = LoadU(a + 64 * j + 32 * h);
#if !defined(__AVXVNNI__)
        const __m256i w = _mm256_xor_si256(u, _mm256_set1_epi8(static_cast<char>(0x80)));
        u = _mm256_sign_epi8(w, w);
        x = _mm256_sign_epi8(x, w);
#endif
        s[2 * h + (j & 1)] = DotAcc(s[2 * h + (j & 1)], u, x);
      }
    }
    *lo = _mm256_add_epi32(s[0], s[1]);
    *hi = _mm256_add_epi32(s[2], s[3]);
  }
};

// Rows of C x C values (C = 4) in quarters: returns, for lo = quarters 0, 1 and
// hi = quarters 2, 3 of 16 lanes, v[k] = element k of quarters 0, 1, 2, 3.
inline void Transpose4(__m256 lo, __m256 hi, __m128 v[4]) {
  const __m256 a = _mm256_unpacklo_ps(lo, hi);  // q0[0] q2[0] q0[1] q2[1] | q1[0] q3[0] ..
  const __m256 b = _mm256_unpackhi_ps(lo, hi);  // q0[2] q2[2] q0[3] q2[3] | q1[2] q3[2] ..
  const __m128 a0 = _mm256_castps256_ps128(a), a1 = _mm256_extractf128_ps(a, 1);
  const __m128 b0 = _mm256_castps256_ps128(b), b1 = _mm256_extractf128_ps(b, 1);
  v[0] = _mm_unpacklo_ps(a0, a1);
  v[1] = _mm_unpackhi_ps(a0, a1);
  v[2] = _mm_unpacklo_ps(b0, b1);
  v[3] = _mm_unpackhi_ps(b0, b1);
}

template <class L>
struct Lanes32 {
  using Dec = typename L::Dec;
  using Gguf = Kernel32<Dec>;
  static constexpr int64_t kGroupBytes = 16 * sizeof(typename Dec::Block);
  static constexpr int64_t kCodeBytes = kGroupBytes - 32;
  // Prepared group of one token: 8 vectors of 64 bytes, lane l of vector j =
  // values [4j, 4j + 4) of block LaneBlock(l); then the 16 blocks' scales
  // (float) and offsets (int32, sum(a) << kOffsetShift, or 0) in lane order.
  static constexpr int64_t kPrepBytes = 512 + 64 + 64;

  static void Prepare(const uint8_t* x, int64_t n_in, uint8_t* out) {
    const Act32View xv(x, n_in);
    for (int64_t g = 0; g < n_in / kQK / 16; ++g) {
      uint8_t* o = out + g * kPrepBytes;
      for (int l = 0; l < 16; ++l) {
        const int64_t b = 16 * g + LaneBlock(l);
        for (int j = 0; j < 8; ++j) std::memcpy(o + 64 * j + 4 * l, xv.q + b * kQK + 4 * j, 4);
        const float d = xv.Scale(b);
        const int32_t off = L::kOffsetShift >= 0 ? xv.Sum(b) * (1 << L::kOffsetShift) : 0;
        std::memcpy(o + 512 + 4 * l, &d, 4);
        std::memcpy(o + 576 + 4 * l, &off, 4);
      }
    }
  }

  // R weight rows in lock step against T tokens; out[r * T + t]. Per group:
  // each row's scales, then per token the two halves' sums, products and
  // the four quads' fmas, as Kernel32::Quad takes them.
  template <int T, int R>
  static void GroupRows(const uint8_t* const* w_rows, const uint8_t* const* prep,
                        const uint8_t* const* x, int64_t n_in, float* out) {
    const int64_t nb = n_in / kQK, ng = nb / 16;
    const int64_t ahead = PrefetchAhead();
    __m128 acc[R][T], macc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = macc[r][t] = _mm_setzero_ps();
    }
    for (int64_t g = 0; g < ng; ++g) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w_rows[r] + g * kGroupBytes;
        PrefetchWeights<kGroupBytes>(p, ahead);
        const __m128i* sc = reinterpret_cast<const __m128i*>(p + kCodeBytes);
        const __m256 dw_lo = _mm256_cvtph_ps(_mm_loadu_si128(sc));
        const __m256 dw_hi = _mm256_cvtph_ps(_mm_loadu_si128(sc + 1));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const uint8_t* a = prep[t] + g * kPrepBytes;
          const __m256i* off = reinterpret_cast<const __m256i*>(a + 576);
          __m256i lo, hi;
          L::Sums(p, a, &lo, &hi);
          const __m256 s_lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(lo, _mm256_loadu_si256(off)));
          const __m256 s_hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(hi, _mm256_loadu_si256(off + 1)));
          const float* da = reinterpret_cast<const float*>(a + 512);
          __m128 pv[4], sv[4];
          Transpose4(_mm256_mul_ps(dw_lo, _mm256_loadu_ps(da)),
                     _mm256_mul_ps(dw_hi, _mm256_loadu_ps(da + 8)), pv);
          Transpose4(s_lo, s_hi, sv);
          for (int k = 0; k < 4; ++k) acc[r][t] = _mm_fmadd_ps(pv[k], sv[k], acc[r][t]);
        }
      }
    }
    // Blocks past the last whole group: the GGUF layout, Kernel32's steps.
    Act32View xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Act32View(x[t], n_in);
    for (int r = 0; r < R; ++r) {
      int64_t b = 16 * ng;
      for (; b + 4 <= nb; b += 4)
        Gguf::template Quad<T>(w_rows[r] + b * Gguf::kBytes, b, xv, acc[r], macc[r]);
      for (; b < nb; ++b)
        Gguf::template Single<T>(w_rows[r] + b * Gguf::kBytes, b, xv, acc[r], macc[r]);
      for (int t = 0; t < T; ++t) out[r * T + t] = Hsum4(acc[r][t]);
    }
  }

  // Prepares every token once per call, then decode's row streams in lock
  // step, or a batch's tiles of up to 4 tokens x 2 rows (as DriveRows).
  static void Run(const MatmulArgs& a) {
    const size_t per_tok = static_cast<size_t>(a.n_in / kQK / 16 * kPrepBytes);
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < per_tok * static_cast<size_t>(a.n_tok)) buf.resize(per_tok * a.n_tok);
    for (int t = 0; t < a.n_tok; ++t)
      Prepare(a.x + t * a.x_stride, a.n_in, buf.data() + t * per_tok);
    const uint8_t* prep[4] = {buf.data()};
    const uint8_t* x[4] = {a.x};
    if (a.n_tok == 1) {
      constexpr int N = kDecodeRowsX86;
      ForRowStreams<N>(
          a.row_begin, a.row_end,
          [&](const int64_t* r) {
            const uint8_t* w[N];
            for (int k = 0; k < N; ++k) w[k] = a.w + r[k] * a.row_bytes;
            float o[N];
            GroupRows<1, N>(w, prep, x, a.n_in, o);
            for (int k = 0; k < N; ++k) a.y[r[k]] = o[k];
          },
          [&](int64_t r) {
            const uint8_t* w = a.w + r * a.row_bytes;
            float o[1];
            GroupRows<1, 1>(&w, prep, x, a.n_in, o);
            a.y[r] = o[0];
          });
      return;
    }
    // Token blocks whose prepared rows stay in L2 while the rows pass.
    const int64_t per_block = per_tok > 0 ? static_cast<int64_t>(per_tok) : 1;
    const int tok_block =
        static_cast<int>(std::max<int64_t>(4, (int64_t{256} << 10) / per_block / 4 * 4));
    for (int tb = 0; tb < a.n_tok; tb += tok_block) {
      const int tb_end = a.n_tok - tb < tok_block ? a.n_tok : tb + tok_block;
      ForBatchTiles(a, tb, tb_end, [&](const uint8_t* const* w, int nr, int t, int n, float* y) {
        for (int i = 0; i < n; ++i) {
          prep[i] = buf.data() + (t + i) * per_tok;
          x[i] = a.x + (t + i) * a.x_stride;
        }
        WithTokensRows(n, nr, [&]<int T, int R>() { GroupRows<T, R>(w, prep, x, a.n_in, y); });
      });
    }
  }
};

// The kernel for Q4_0 or Q8_0 weights in kLanes16, or nullptr.
MatmulFn Q32LanesKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &Lanes32<LanesQ4_0>::Run;
    case GgmlType::kQ8_0:
      return &Lanes32<LanesQ8_0>::Run;
    default:
      return nullptr;
  }
}

}  // namespace
}  // namespace hearth::kernels
