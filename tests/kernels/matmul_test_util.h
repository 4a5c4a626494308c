// Helpers shared by the kernel tests: random rows of every weight type,
// misaligned buffers, and the error bound the SIMD variants must meet.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "format/ggml_types.h"
#include "kernels/matmul.h"

namespace hearth::kernels::testing {

inline const std::vector<GgmlType>& AllWeightTypes() {
  static const std::vector<GgmlType> kTypes = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16,
                                               GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1,
                                               GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ4_K,
                                               GgmlType::kQ5_K, GgmlType::kQ6_K};
  return kTypes;
}

inline std::string TypeName(GgmlType t) {
  return std::string(GetGgmlTypeInfo(t).name);
}

inline std::vector<Isa> Isas() {
  Isa all[8];
  const int n = AvailableIsas(all);
  return std::vector<Isa>(all, all + n);
}

// A byte buffer whose data() is `misalign` bytes past a 64-byte boundary and
// whose last byte is the allocation's last byte (so ASan sees any over-read).
class Buffer {
 public:
  Buffer(size_t n, size_t misalign)
      : storage_(static_cast<uint8_t*>(
            ::operator new(n + misalign + (n + misalign == 0), std::align_val_t(64)))),
        off_(misalign) {}
  ~Buffer() { ::operator delete(storage_, std::align_val_t(64)); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  uint8_t* data() { return storage_ + off_; }
  const uint8_t* data() const { return storage_ + off_; }

 private:
  uint8_t* storage_;
  size_t off_;
};

// Random values with a per-block spread of magnitudes and occasional outliers.
inline std::vector<float> RandomValues(std::mt19937& rng, int64_t n) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  float scale = 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 32 == 0) scale = 0.05f + 2.0f * u(rng);
    v[i] = normal(rng) * scale;
    if (u(rng) < 0.01f) v[i] *= 8.0f;
  }
  return v;
}

// A weight matrix [rows][n_in] of `type`, quantized by the format's reference.
struct Weights {
  GgmlType type;
  int64_t rows, n_in;
  size_t row_bytes;
  Buffer buf;
  Weights(GgmlType t, int64_t r, int64_t n, size_t misalign, std::mt19937& rng);
  const uint8_t* row(int64_t r) const { return buf.data() + r * row_bytes; }
};

// Prepared activations [n_tok][ActivationRowBytes] (dense stride).
struct Activations {
  int n_tok;
  size_t stride;
  Buffer buf;
  Activations(GgmlType t, int n, int64_t n_in, size_t misalign, std::mt19937& rng);
  const uint8_t* tok(int t) const { return buf.data() + t * stride; }
};

// Sum over j of (|w_j| + 2 |o_j|) * |x_j|: w the dequantized weights, o the
// per-element min/offset part for the types that have one (Q4_1/Q5_1: m;
// Q4_K/Q5_K: dmin * m_s; Q4_0/Q5_0: 8d / 16d, because the kernels dot the
// unsigned codes and subtract offset * sum(a), so float lanes hold partial sums
// as large as sum(|q| * |a|) before they cancel), x the prepared activations.
double Magnitude(GgmlType t, const uint8_t* w_row, const uint8_t* x, int64_t n_in);

// Allowed |Matmul - DotRef| for a product of magnitude `mag` over n_in values.
// Derivation: every variant's integer block sums are exact; the float part per
// (row, token) is <= 3 roundings per block (scale product, int->float when a
// super-block sum exceeds 2^24, the fma into its accumulator) plus a running
// sum that sees at most n_in/8 additions in one accumulator lane (float types:
// chunks of 8; quantized types: one block of >= 32 values per step) and a
// <= 5-level final tree. With u = 2^-24 each rounding costs <= u * (partial
// magnitude) <= u * mag, so |err| <= (n_in/8 + 16) * u * mag (first order).
// The reference itself is exact to <= 1 float rounding (double sum, n << 2^29).
double Tolerance(int64_t n_in, double mag);

}  // namespace hearth::kernels::testing
