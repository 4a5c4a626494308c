// Internal: AVX2 kernels for the 32-element block types Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, included by matmul_avx2_q.cc (AVX2) and matmul_avxvnni_q.cc
// (AVX2 + AVX-VNNI); the two differ only in DotUS (avx2_util.h).
//
// Per block: the exact integer dot of the 32 weight codes with the 32 int8
// activations (DotUS, four blocks' lanes summed by two rounds of hadd).
// Offset types fold their offset into it exactly (sum(q - 8) * a = sum q*a -
// 8 * sum a). Then, lane (block index mod 4) of one float vector:
// acc = fma(d_w * d_a, sum, acc); min types (Q4_1, Q5_1) also
// macc = fma(m * d_a, sum(a), macc) in the same lane of a second one.
// Result = ((a0 + a2) + (a1 + a3)) [+ ((m0 + m2) + (m1 + m3))].
#pragma once

#include <cstddef>
#include <cstring>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/avx2_util.h"
#include "kernels/kernel_table.h"
#include "kernels/weight_prefetch.h"

namespace hearth::kernels {
namespace {

// Each decoder yields the 32 codes as bytes (unsigned, except Q8_0: signed),
// the block scale, and the min (min types) or integer offset (offset types).
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static constexpr int kShift = 3;  // offset 8
  static constexpr bool kMin = false, kSigned = false;
  static __m256i Codes(const uint8_t* b) { return UnpackNibbles(b + offsetof(Block, qs)); }
};
struct DecQ5_0 {
  using Block = BlockQ5_0;
  static constexpr int kShift = 4;  // offset 16
  static constexpr bool kMin = false, kSigned = false;
  static __m256i Codes(const uint8_t* b) {
    const __m256i hi =
        _mm256_and_si256(BitsToBytes(b + offsetof(Block, qh)), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(UnpackNibbles(b + offsetof(Block, qs)), hi);
  }
};
struct DecQ4_1 {
  using Block = BlockQ4_1;
  static constexpr int kShift = -1;
  static constexpr bool kMin = true, kSigned = false;
  static __m256i Codes(const uint8_t* b) { return UnpackNibbles(b + offsetof(Block, qs)); }
};
struct DecQ5_1 {
  using Block = BlockQ5_1;
  static constexpr int kShift = -1;
  static constexpr bool kMin = true, kSigned = false;
  static __m256i Codes(const uint8_t* b) {
    const __m256i hi =
        _mm256_and_si256(BitsToBytes(b + offsetof(Block, qh)), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(UnpackNibbles(b + offsetof(Block, qs)), hi);
  }
};
struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kShift = -1;
  static constexpr bool kMin = false, kSigned = true;
  static __m256i Codes(const uint8_t* b) { return LoadU(b + offsetof(Block, qs)); }
};

// The F16 fields at p + off of blocks 0..3 (kBytes apart) as four floats.
template <int64_t kBytes>
inline __m128 F16Quad(const uint8_t* p, size_t off) {
  uint16_t h[4];
  for (int i = 0; i < 4; ++i) std::memcpy(&h[i], p + i * kBytes + off, 2);
  return _mm_cvtph_ps(_mm_setr_epi16(static_cast<int16_t>(h[0]), static_cast<int16_t>(h[1]),
                                     static_cast<int16_t>(h[2]), static_cast<int16_t>(h[3]), 0, 0,
                                     0, 0));
}

// Fixed-tree sum of four lanes: (l0 + l2) + (l1 + l3).
inline float Hsum4(__m128 v) {
  const __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

template <class Dec>
struct Kernel32 {
  using Block = typename Dec::Block;
  static constexpr int64_t kBytes = sizeof(Block);

  // Codes of the block at p as the unsigned operand of DotUS, and what its
  // signed operand's sign comes from (Q8_0: |w| against sign(a, w)).
  static inline __m256i Unsigned(__m256i w) {
    if constexpr (Dec::kSigned) return _mm256_sign_epi8(w, w);
    return w;
  }
  static inline __m256i Signed(__m256i a, __m256i w) {
    if constexpr (Dec::kSigned) return _mm256_sign_epi8(a, w);
    return a;
  }

  // Blocks b .. b + 3 (at p) for T tokens: their exact integer sums (offset
  // types with the offset folded in), then lane i of acc[t] =
  // fma(d_w * d_a, sum, lane i) for block b + i, and (min types) lane i of
  // macc[t] = fma(m * d_a, sum(a), lane i).
  template <int T>
  static inline void Quad(const uint8_t* p, int64_t b, const Act32View* xv, __m128* acc,
                          __m128* macc) {
    __m256i w[4], u[4];
    for (int i = 0; i < 4; ++i) {
      w[i] = Dec::Codes(p + i * kBytes);
      u[i] = Unsigned(w[i]);
    }
    const __m128 dw = F16Quad<kBytes>(p, offsetof(Block, d));
    __m128 mw = _mm_setzero_ps();
    if constexpr (Dec::kMin) mw = F16Quad<kBytes>(p, offsetof(Block, m));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      __m256i v[4];
      for (int i = 0; i < 4; ++i) {
        v[i] = DotUS(u[i], Signed(LoadU(xv[t].q + (b + i) * kQK), w[i]));
      }
      // hadd(hadd(v0, v1), hadd(v2, v3)): lane i (and 4 + i) = half of block i's
      // sum; the two halves added give the four sums in order.
      const __m256i h =
          _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
      __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
      const __m128i asum = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xv[t].sum + 4 * b));
      if constexpr (Dec::kShift >= 0) sum = _mm_sub_epi32(sum, _mm_slli_epi32(asum, Dec::kShift));
      const __m128 da = _mm_loadu_ps(reinterpret_cast<const float*>(xv[t].d + 4 * b));
      acc[t] = _mm_fmadd_ps(_mm_mul_ps(dw, da), _mm_cvtepi32_ps(sum), acc[t]);
      if constexpr (Dec::kMin) {
        macc[t] = _mm_fmadd_ps(_mm_mul_ps(mw, da), _mm_cvtepi32_ps(asum), macc[t]);
      }
    }
  }

  // One block b (at p, one of the last n_blocks % 4) for T tokens into lane
  // b % 4, the same steps as Quad's for that lane (the other lanes gain 0 * 0).
  template <int T>
  static inline void Single(const uint8_t* p, int64_t b, const Act32View* xv, __m128* acc,
                            __m128* macc) {
    const __m256i w = Dec::Codes(p);
    const int lane = static_cast<int>(b % 4);
    alignas(16) float dw[4] = {}, mw[4] = {};
    dw[lane] = F16Scale(p + offsetof(Block, d));
    if constexpr (Dec::kMin) mw[lane] = F16Scale(p + offsetof(Block, m));
    for (int t = 0; t < T; ++t) {
      const __m256i v = DotUS(Unsigned(w), Signed(LoadU(xv[t].q + b * kQK), w));
      alignas(32) int32_t part[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(part), v);
      int32_t s = 0;
      for (int k = 0; k < 8; ++k) s += part[k];
      if constexpr (Dec::kShift >= 0) s -= xv[t].Sum(b) * (1 << Dec::kShift);
      alignas(16) int32_t si[4] = {}, ai[4] = {};
      alignas(16) float da[4] = {};
      si[lane] = s;
      ai[lane] = xv[t].Sum(b);
      da[lane] = xv[t].Scale(b);
      const __m128 dav = _mm_load_ps(da);
      acc[t] = _mm_fmadd_ps(_mm_mul_ps(_mm_load_ps(dw), dav),
                            _mm_cvtepi32_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(si))),
                            acc[t]);
      if constexpr (Dec::kMin) {
        macc[t] = _mm_fmadd_ps(
            _mm_mul_ps(_mm_load_ps(mw), dav),
            _mm_cvtepi32_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(ai))), macc[t]);
      }
    }
  }

  // R rows (one per row stream) in lock step against T tokens; out[r * T + t].
  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    const int64_t nb = n_in / kQK;
    Act32View xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Act32View(x[t], n_in);
    __m128 acc[R][T], macc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = macc[r][t] = _mm_setzero_ps();
    }
    const int64_t ahead = PrefetchAhead();
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w_rows[r] + b * kBytes;
        PrefetchWeights<4 * kBytes>(p, ahead);
        Quad<T>(p, b, xv, acc[r], macc[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int64_t c = b; c < nb; ++c) Single<T>(w_rows[r] + c * kBytes, c, xv, acc[r], macc[r]);
      for (int t = 0; t < T; ++t) {
        out[r * T + t] = Hsum4(acc[r][t]);
        if constexpr (Dec::kMin) out[r * T + t] += Hsum4(macc[r][t]);
      }
    }
  }
};

template <class Dec>
void Run(const MatmulArgs& a) {
  DriveRows<Kernel32<Dec>, kRowStreams, kDecodeRowsX86>(a);
}

// The kernel for `wtype`, or nullptr if this file has none.
MatmulFn Q32Kernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &Run<DecQ4_0>;
    case GgmlType::kQ4_1:
      return &Run<DecQ4_1>;
    case GgmlType::kQ5_0:
      return &Run<DecQ5_0>;
    case GgmlType::kQ5_1:
      return &Run<DecQ5_1>;
    case GgmlType::kQ8_0:
      return &Run<DecQ8_0>;
    default:
      return nullptr;
  }
}

}  // namespace
}  // namespace hearth::kernels
