// AVX-512 VNNI kernels for Q4_0 and Q8_0 (Q4_1/Q5_x use the AVX2 kernels).
//
// Blocks are processed in groups of 16. Per pair of blocks one vpdpbusd gives
// 16 int32 partials (unsigned weight codes x signed activations; Q8_0 codes
// are biased by +128 to be unsigned). A fixed shuffle tree reduces the 8 pair
// vectors of a group to one vector of 16 exact block sums, in lane order
// l -> block 4 * (l % 4) + l / 4 of the group. The offset (8 * sum(a) for Q4_0,
// 128 * sum(a) for Q8_0) is subtracted in integers, then one fma per group:
// acc += (d_w * d_a) * sum, lane-wise. Blocks past the last full group (the
// tail) are summed exactly in integers and added to a scalar in block order.
// Result = hsum(acc) (fixed tree, _mm512_reduce_add_ps order) + tail.
#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "format/quant_blocks.h"
#include "kernels/act_layout.h"
#include "kernels/kernel_table.h"

namespace hearth::kernels {
namespace {

inline float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Codes of blocks at p and p + kBytes as 64 bytes in element order.
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static constexpr int kShift = 3;
  static __m512i Pair(const uint8_t* p) {
    constexpr size_t kOff = offsetof(Block, qs);
    const __m256i y = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kOff))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + sizeof(Block) + kOff)), 1);
    // [qs0, qs1, qs0 >> 4, qs1 >> 4] -> [lo0, hi0, lo1, hi1]
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(y), _mm256_srli_epi16(y, 4), 1);
    return _mm512_and_si512(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)),
                            _mm512_set1_epi8(0x0F));
  }
  // One block's codes (tail).
  static __m256i One(const uint8_t* p) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + offsetof(Block, qs)));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0F));
  }
};

struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kShift = 7;
  static __m512i Pair(const uint8_t* p) {
    constexpr size_t kOff = offsetof(Block, qs);
    const __m512i z = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kOff))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + sizeof(Block) + kOff)), 1);
    return _mm512_xor_si512(z, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  static __m256i One(const uint8_t* p) {
    const __m256i z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + offsetof(Block, qs)));
    return _mm256_xor_si256(z, _mm256_set1_epi8(static_cast<char>(0x80)));
  }
};

// 8 vectors of pair partials -> 16 block sums, lane l = block 4 * (l % 4) + l / 4.
inline __m512i ReduceGroup(const __m512i z[8]) {
  __m512i s[4];
  for (int m = 0; m < 4; ++m) {
    const __m512i a = z[2 * m], b = z[2 * m + 1];
    s[m] = _mm512_add_epi32(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  const __m512i v0 =
      _mm512_add_epi32(_mm512_unpacklo_epi64(s[0], s[1]), _mm512_unpackhi_epi64(s[0], s[1]));
  const __m512i v1 =
      _mm512_add_epi32(_mm512_unpacklo_epi64(s[2], s[3]), _mm512_unpackhi_epi64(s[2], s[3]));
  const __m512 f0 = _mm512_castsi512_ps(v0), f1 = _mm512_castsi512_ps(v1);
  return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(f0, f1, _MM_SHUFFLE(2, 0, 2, 0))),
                          _mm512_castps_si512(_mm512_shuffle_ps(f0, f1, _MM_SHUFFLE(3, 1, 3, 1))));
}

inline __m512i GroupPerm() {
  return _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

template <class Dec>
struct KernelVnni {
  static constexpr int64_t kBytes = sizeof(typename Dec::Block);

  template <int T>
  static void Row(const uint8_t* w_row, const uint8_t* const* x, int64_t n_in, float* out) {
    const int64_t nb = n_in / kQK;
    const int64_t ng = nb / 16;
    Act32View xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Act32View(x[t], n_in);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    const __m512i perm = GroupPerm();
    const __m512i gidx = _mm512_mullo_epi32(perm, _mm512_set1_epi32(static_cast<int>(kBytes)));
    for (int64_t g = 0; g < ng; ++g) {
      const uint8_t* p = w_row + g * 16 * kBytes;
      _mm_prefetch(reinterpret_cast<const char*>(p) + 16 * kBytes, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p) + 16 * kBytes + 64, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p) + 16 * kBytes + 128, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p) + 16 * kBytes + 192, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p) + 16 * kBytes + 256, _MM_HINT_T0);
      __m512i w[8];
      for (int k = 0; k < 8; ++k) w[k] = Dec::Pair(p + 2 * k * kBytes);
      // Weight scales in lane order (F16 in the low half of each gathered dword).
      const __m512i dbits = _mm512_i32gather_epi32(gidx, p + offsetof(typename Dec::Block, d), 1);
      const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dbits));
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const int8_t* a = xv[t].q + g * 16 * kQK;
        __m512i z[8];
        for (int k = 0; k < 8; ++k) {
          z[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[k], _mm512_loadu_si512(a + 64 * k));
        }
        const __m512i sums =
            _mm512_permutexvar_epi32(perm, _mm512_loadu_si512(xv[t].sum + 4 * 16 * g));
        const __m512i tot = _mm512_sub_epi32(ReduceGroup(z), _mm512_slli_epi32(sums, Dec::kShift));
        const __m512 da = _mm512_permutexvar_ps(
            perm, _mm512_loadu_ps(reinterpret_cast<const float*>(xv[t].d) + 16 * g));
        acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, da), _mm512_cvtepi32_ps(tot), acc[t]);
      }
    }
    float tail[T];
    for (int t = 0; t < T; ++t) tail[t] = 0.0f;
    for (int64_t b = ng * 16; b < nb; ++b) {
      const uint8_t* p = w_row + b * kBytes;
      const __m256i w = Dec::One(p);
      const float dw = F16At(p + offsetof(typename Dec::Block, d));
      for (int t = 0; t < T; ++t) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xv[t].q + b * kQK));
        const __m256i z = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, a);
        const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(z), _mm256_extracti128_si256(z, 1));
        const __m128i h2 = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
        const __m128i h3 = _mm_add_epi32(h2, _mm_shuffle_epi32(h2, _MM_SHUFFLE(2, 3, 0, 1)));
        const int tot = _mm_cvtsi128_si32(h3) - xv[t].Sum(b) * (1 << Dec::kShift);
        tail[t] += (dw * xv[t].Scale(b)) * static_cast<float>(tot);
      }
    }
    for (int t = 0; t < T; ++t) out[t] = _mm512_reduce_add_ps(acc[t]) + tail[t];
  }
};

template <class Dec>
void Run(const MatmulArgs& a) {
  DriveRows<KernelVnni<Dec>>(a);
}

}  // namespace

MatmulFn Avx512VnniQKernel(GgmlType wtype) {
  switch (wtype) {
    case GgmlType::kQ4_0:
      return &Run<DecQ4_0>;
    case GgmlType::kQ8_0:
      return &Run<DecQ8_0>;
    default:
      return nullptr;
  }
}

}  // namespace hearth::kernels
