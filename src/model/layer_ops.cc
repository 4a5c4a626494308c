#include "model/layer_ops.h"

#include <cmath>
#include <cstring>

#include "format/fp16.h"

namespace hearth {

void RmsNorm(const float* x, const float* w, float eps, int n, float* out) {
  // 16 independent running sums (lane j takes i = j mod 16), which compilers
  // keep in vector registers, so the sum is not one long chain of dependent
  // additions; then the tree 8 + 8, 4 + 4, 2 + 2, 1 + 1; then the tail.
  constexpr int kLanes = 16;
  float lane[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lane[j] += x[i + j] * x[i + j];
  }
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int j = 0; j < width; ++j) lane[j] += lane[j + width];
  }
  float ss = lane[0];
  for (; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int k = 0; k < n; ++k) out[k] = x[k] * scale * w[k];
}

void RopeAngles(int pos, const HParams& hp, const float* factors, float* cs) {
  const int rope_dims = static_cast<int>(hp.rope_dims);
  for (int i = 0; i < rope_dims / 2; ++i) {
    double theta = static_cast<double>(pos) *
                   std::pow(hp.rope_freq_base, -2.0 * i / static_cast<double>(rope_dims));
    if (factors != nullptr) theta /= factors[i];
    cs[2 * i] = static_cast<float>(std::cos(theta));
    cs[2 * i + 1] = static_cast<float>(std::sin(theta));
  }
}

void Rope(float* v, int n_heads, int head_dim, int rope_dims, bool neox, const float* cs) {
  for (int i = 0; i < rope_dims / 2; ++i) {
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const int a = neox ? i : 2 * i, b = neox ? i + rope_dims / 2 : 2 * i + 1;
    for (int h = 0; h < n_heads; ++h) {
      float* head = v + h * head_dim;
      const float x0 = head[a], x1 = head[b];
      head[a] = x0 * c - x1 * s;
      head[b] = x0 * s + x1 * c;
    }
  }
}

void StoreKv(const float* src, int n, KvType t, uint8_t* row) {
  if (t == KvType::kF32) {
    std::memcpy(row, src, static_cast<size_t>(n) * 4);
  } else {
    auto* h = reinterpret_cast<uint16_t*>(row);
    for (int i = 0; i < n; ++i) h[i] = FloatToFp16(src[i]);
  }
}

void AddInto(float* x, const float* p, int n) {
  for (int i = 0; i < n; ++i) x[i] += p[i];
}

}  // namespace hearth
