// Scalar reference: activation preparation (the spec; the AVX-512 variants
// give the same bytes) and DotRef, the spec of every weight x activation product.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "format/quant_ref.h"
#include "kernels/act_layout.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hearth::kernels {
namespace {

// Round to nearest, ties to even (the default rounding mode).
inline int RoundEven(float v) {
#if defined(__SSE2__)
  return _mm_cvtss_si32(_mm_set_ss(v));
#else
  return static_cast<int>(std::nearbyint(v));
#endif
}

// Quantizes n values to int8 with one scale; returns d and writes q.
float QuantizeBlock(const float* x, int n, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  if (!(amax > 0.0f) || !std::isfinite(amax)) {
    std::memset(q, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  const float id = 127.0f / amax;
  for (int j = 0; j < n; ++j)
    q[j] = static_cast<int8_t>(std::clamp(RoundEven(x[j] * id), -127, 127));
  return amax / 127.0f;
}

}  // namespace

bool MatmulSupports(GgmlType wtype) {
  return ActKindFor(wtype) != ActKind::kUnsupported;
}

size_t ActivationRowBytes(GgmlType wtype, int64_t n_in) {
  const size_t n = static_cast<size_t>(n_in);
  switch (ActKindFor(wtype)) {
    case ActKind::kF32:
      return 4 * n;
    case ActKind::kQ8Blocks32:
      return n + 8 * (n / kQK);
    case ActKind::kQ8Super256:
      return n + 4 * (n / kQKK) + 2 * (n / 16);
    case ActKind::kUnsupported:
      break;
  }
  HEARTH_CHECK(false, "no matmul for weight type %u", static_cast<unsigned>(wtype));
}

int64_t ActivationBlock(GgmlType wtype) {
  switch (ActKindFor(wtype)) {
    case ActKind::kF32:
      return 1;
    case ActKind::kQ8Blocks32:
      return kQK;
    case ActKind::kQ8Super256:
      return kQKK;
    case ActKind::kUnsupported:
      break;
  }
  HEARTH_CHECK(false, "no matmul for weight type %u", static_cast<unsigned>(wtype));
}

void QuantizeActivations(GgmlType wtype, const float* x, int64_t n_in, void* out, Isa isa) {
  QuantizeActivationRange(wtype, x, n_in, 0, n_in, out, isa);
}

void QuantizeActivationRange(GgmlType wtype, const float* x, int64_t n_in, int64_t begin,
                             int64_t end, void* out, Isa isa) {
  const int64_t block = ActivationBlock(wtype);
  HEARTH_CHECK(n_in % block == 0 && begin % block == 0 && end % block == 0 && 0 <= begin &&
                   begin <= end && end <= n_in,
               "activation range [%lld, %lld) of %lld values, blocks of %lld", (long long)begin,
               (long long)end, (long long)n_in, (long long)block);
#if defined(__x86_64__)
  // The AVX-512 version gives the same bytes (tested), only faster.
  if ((isa == Isa::kAvx512 || isa == Isa::kAvx512Vnni || isa == Isa::kAmx) &&
      QuantizeActivationsAvx512(wtype, x, n_in, begin, end, out)) {
    return;
  }
#else
  (void)isa;
#endif
  auto* o = static_cast<uint8_t*>(out);
  auto* q = reinterpret_cast<int8_t*>(o);
  switch (ActKindFor(wtype)) {
    case ActKind::kF32:
      std::memcpy(o + 4 * begin, x + begin, 4 * static_cast<size_t>(end - begin));
      return;
    case ActKind::kQ8Blocks32: {
      const int64_t nb = n_in / kQK;
      for (int64_t b = begin / kQK; b < end / kQK; ++b) {
        const float d = QuantizeBlock(x + b * kQK, kQK, q + b * kQK);
        int32_t sum = 0;
        for (int j = 0; j < kQK; ++j) sum += q[b * kQK + j];
        std::memcpy(o + n_in + 4 * b, &d, 4);
        std::memcpy(o + n_in + 4 * nb + 4 * b, &sum, 4);
      }
      return;
    }
    case ActKind::kQ8Super256: {
      const int64_t nb = n_in / kQKK;
      for (int64_t b = begin / kQKK; b < end / kQKK; ++b) {
        const float d = QuantizeBlock(x + b * kQKK, kQKK, q + b * kQKK);
        std::memcpy(o + n_in + 4 * b, &d, 4);
      }
      for (int64_t s = begin / 16; s < end / 16; ++s) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) sum += q[s * 16 + j];
        const int16_t v = static_cast<int16_t>(sum);
        std::memcpy(o + n_in + 4 * nb + 2 * s, &v, 2);
      }
      return;
    }
    case ActKind::kUnsupported:
      break;
  }
}

float DotRef(GgmlType wtype, const uint8_t* w_row, const uint8_t* x, int64_t n_in) {
  const GgmlTypeInfo& info = GetGgmlTypeInfo(wtype);
  const ActKind kind = ActKindFor(wtype);
  HEARTH_CHECK(kind != ActKind::kUnsupported && n_in % info.block_size == 0);
  // Weights are dequantized a chunk at a time by the format's reference.
  const int chunk = kind == ActKind::kF32 ? 256 : static_cast<int>(info.block_size);
  float w[256];
  alignas(64) uint8_t wb[1024];  // the chunk's bytes, aligned for the format's block structs
  double acc = 0.0;
  for (int64_t j0 = 0; j0 < n_in; j0 += chunk) {
    const int n = static_cast<int>(std::min<int64_t>(chunk, n_in - j0));
    const size_t w_off = static_cast<size_t>(j0 / info.block_size) * info.type_size;
    std::memcpy(wb, w_row + w_off, static_cast<size_t>(n / info.block_size) * info.type_size);
    HEARTH_CHECK(DequantizeRowRef(wtype, wb, n, w).ok());
    for (int j = 0; j < n; ++j) {
      double xv;
      if (kind == ActKind::kF32) {
        float f;
        std::memcpy(&f, x + 4 * (j0 + j), 4);
        xv = f;
      } else {
        const int64_t bs = kind == ActKind::kQ8Blocks32 ? kQK : kQKK;
        float d;
        std::memcpy(&d, x + n_in + 4 * ((j0 + j) / bs), 4);
        xv = static_cast<double>(d) * static_cast<int8_t>(x[j0 + j]);
      }
      acc += static_cast<double>(w[j]) * xv;
    }
  }
  return static_cast<float>(acc);
}

}  // namespace hearth::kernels
