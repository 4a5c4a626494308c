#include "kernels/matmul_test_util.h"

#include <cmath>

#include "format/fp16.h"
#include "format/quant_blocks.h"
#include "format/quant_ref.h"

namespace hearth::kernels::testing {

Weights::Weights(GgmlType t, int64_t r, int64_t n, size_t misalign, std::mt19937& rng)
    : type(t),
      rows(r),
      n_in(n),
      row_bytes(static_cast<size_t>(n / GetGgmlTypeInfo(t).block_size) *
                GetGgmlTypeInfo(t).type_size),
      buf(row_bytes * static_cast<size_t>(r), misalign) {
  std::vector<uint8_t> tmp(row_bytes);
  for (int64_t i = 0; i < r; ++i) {
    const std::vector<float> v = RandomValues(rng, n);
    if (!QuantizeRowRef(t, v.data(), n, tmp.data()).ok()) std::abort();
    std::memcpy(buf.data() + i * row_bytes, tmp.data(), row_bytes);
  }
}

Activations::Activations(GgmlType t, int n, int64_t n_in, size_t misalign, std::mt19937& rng)
    : n_tok(n),
      stride(ActivationRowBytes(t, n_in)),
      buf(stride * static_cast<size_t>(n), misalign) {
  for (int i = 0; i < n; ++i) {
    const std::vector<float> v = RandomValues(rng, n_in);
    QuantizeActivations(t, v.data(), n_in, buf.data() + i * stride, Isa::kScalar);
  }
}

namespace {

float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return Fp16ToFloat(h);
}

// Decodes prepared activation j (layouts documented in matmul.h).
double ActValue(GgmlType t, const uint8_t* x, int64_t n_in, int64_t j) {
  const GgmlTypeInfo& info = GetGgmlTypeInfo(t);
  float f;
  if (info.block_size == 1) {
    std::memcpy(&f, x + 4 * j, 4);
    return f;
  }
  std::memcpy(&f, x + n_in + 4 * (j / info.block_size), 4);
  return static_cast<double>(f) * static_cast<int8_t>(x[j]);
}

double OffsetValue(GgmlType t, const uint8_t* w_row, int64_t j) {
  const GgmlTypeInfo& info = GetGgmlTypeInfo(t);
  const uint8_t* blk = w_row + (j / info.block_size) * info.type_size;
  switch (t) {
    case GgmlType::kQ4_0:  // the kernels fold the offset into integer lanes: q*a - 8*sum(a)
      return 8.0 * F16At(blk);
    case GgmlType::kQ5_0:
      return 16.0 * F16At(blk);
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return F16At(blk + 2);
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K: {
      uint8_t sc, m;
      GetScaleMinK4(static_cast<int>((j % kQKK) / 32), blk + 4, &sc, &m);
      return static_cast<double>(F16At(blk + 2)) * m;
    }
    default:
      return 0.0;
  }
}

}  // namespace

double Magnitude(GgmlType t, const uint8_t* w_row, const uint8_t* x, int64_t n_in) {
  const GgmlTypeInfo& info = GetGgmlTypeInfo(t);
  std::vector<uint8_t> aligned(static_cast<size_t>(n_in / info.block_size) * info.type_size);
  std::memcpy(aligned.data(), w_row, aligned.size());
  std::vector<float> w(static_cast<size_t>(n_in));
  if (!DequantizeRowRef(t, aligned.data(), n_in, w.data()).ok()) std::abort();
  double mag = 0.0;
  for (int64_t j = 0; j < n_in; ++j) {
    mag += (std::fabs(w[j]) + 2.0 * std::fabs(OffsetValue(t, aligned.data(), j))) *
           std::fabs(ActValue(t, x, n_in, j));
  }
  return mag;
}

double Tolerance(int64_t n_in, double mag) {
  return (static_cast<double>(n_in) / 8.0 + 16.0) * std::ldexp(1.0, -24) * mag + 1e-30;
}

}  // namespace hearth::kernels::testing
