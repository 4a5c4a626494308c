// AVX2 kernels for the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
//
// Per block: integer dot of the 32 weight codes with the 32 int8 activations
// (maddubs + madd: 8 int32 lanes, exact), converted to float and multiplied by
// d_w * d_a into accumulator (block index mod 2). Offset types fold their
// offset into the integer sum exactly (sum(q - 8) * a = sum q*a - 8 * sum a);
// min types (Q4_1, Q5_1) add m * d_a * sum(a) to a scalar accumulator (block mod 2).
// Result = hsum(acc0 + acc1) + (m0 + m1).
#include <cstddef>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/avx2_util.h"
#include "kernels/kernel_table.h"

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

template <class Dec>
struct Kernel32 {
  using Block = typename Dec::Block;

  // One block for T tokens into accumulator set `k`.
  template <int T>
  static inline void Step(const uint8_t* blk, int64_t b, const Act32View* xv, __m256 (*acc)[2],
                          float (*macc)[2], int k) {
    const __m256i w = Dec::Codes(blk);
    const float dw = F16Scale(blk + offsetof(Block, d));
    float mw = 0.0f;
    if constexpr (Dec::kMin) mw = F16Scale(blk + offsetof(Block, m));
    __m256i wabs = w;
    if constexpr (Dec::kSigned) wabs = _mm256_sign_epi8(w, w);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m256i a = LoadU(xv[t].q + b * kQK);
      __m256i v;
      if constexpr (Dec::kSigned) {
        v = DotUS(wabs, _mm256_sign_epi8(a, w));
      } else {
        v = DotUS(w, a);
      }
      if constexpr (Dec::kShift >= 0) {
        const int corr = xv[t].Sum(b) * (1 << Dec::kShift);
        v = _mm256_sub_epi32(v, _mm256_zextsi128_si256(_mm_cvtsi32_si128(corr)));
      }
      const float da = xv[t].Scale(b);
      acc[t][k] = _mm256_fmadd_ps(_mm256_set1_ps(dw * da), _mm256_cvtepi32_ps(v), acc[t][k]);
      if constexpr (Dec::kMin) {
        macc[t][k] += (mw * da) * static_cast<float>(xv[t].Sum(b));
      }
    }
  }

  // R rows (one per row stream) in lock step against T tokens; out[r * T + t].
  template <int T, int R>
  static void Rows(const uint8_t* const* w_rows, const uint8_t* const* x, int64_t n_in,
                   float* out) {
    constexpr int64_t kBytes = sizeof(Block);
    const int64_t nb = n_in / kQK;
    Act32View xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Act32View(x[t], n_in);
    __m256 acc[R][T][2];
    float macc[R][T][2];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) {
        acc[r][t][0] = acc[r][t][1] = _mm256_setzero_ps();
        macc[r][t][0] = macc[r][t][1] = 0.0f;
      }
    }
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w_rows[r] + b * kBytes;
        _mm_prefetch(reinterpret_cast<const char*>(p) + 512, _MM_HINT_T0);
        Step<T>(p, b, xv, acc[r], macc[r], 0);
        Step<T>(p + kBytes, b + 1, xv, acc[r], macc[r], 1);
      }
    }
    for (int r = 0; r < R; ++r) {
      if (b < nb) Step<T>(w_rows[r] + b * kBytes, b, xv, acc[r], macc[r], 0);
      for (int t = 0; t < T; ++t) {
        out[r * T + t] = HsumPs(_mm256_add_ps(acc[r][t][0], acc[r][t][1]));
        if constexpr (Dec::kMin) out[r * T + t] += macc[r][t][0] + macc[r][t][1];
      }
    }
  }
};

template <class Dec>
void Run(const MatmulArgs& a) {
  DriveRows<Kernel32<Dec>, kRowStreams, kDecodeRowsX86>(a);
}

}  // namespace

MatmulFn Avx2QKernel(GgmlType wtype) {
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

}  // namespace hearth::kernels
