#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "format/fp16.h"

namespace hearth::kernels {
namespace {

inline float Load(const uint8_t* row, int i, bool f16) {
  if (!f16) {
    float f;
    std::memcpy(&f, row + static_cast<size_t>(i) * 4, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, row + static_cast<size_t>(i) * 2, 2);
  return Fp16ToFloat(h);
}

}  // namespace

void AttendHeadRef(const AttnArgs& a) {
  float max_score = -INFINITY;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* krow = a.k + static_cast<size_t>(p) * a.row_bytes;
    float dot = 0.0f;
    for (int i = 0; i < a.head_dim; ++i) dot += a.q[i] * Load(krow, a.head_offset + i, a.f16);
    a.scores[p] = dot * a.scale;
    max_score = std::max(max_score, a.scores[p]);
  }
  float sum = 0.0f;
  for (int p = 0; p < a.n_pos; ++p) sum += a.scores[p] = std::exp(a.scores[p] - max_score);
  const float inv = 1.0f / sum;
  std::fill(a.out, a.out + a.head_dim, 0.0f);
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* vrow = a.v + static_cast<size_t>(p) * a.row_bytes;
    const float w = a.scores[p] * inv;
    for (int i = 0; i < a.head_dim; ++i) a.out[i] += w * Load(vrow, a.head_offset + i, a.f16);
  }
}

void AttendHead(const AttnArgs& a, Isa isa) {
  const bool avx512 = isa == Isa::kAvx512 || isa == Isa::kAvx512Vnni || isa == Isa::kAmx;
  if (avx512 && a.head_dim % 8 == 0) {
    AttendHeadAvx512(a);
    return;
  }
  if ((isa == Isa::kAvx2 || isa == Isa::kAvxVnni) && a.head_dim % 8 == 0) {
    AttendHeadAvx2(a);
    return;
  }
  if ((isa == Isa::kNeon || isa == Isa::kNeonDot) && a.head_dim % 8 == 0 &&
      a.head_dim <= kAttnMaxHeadDim) {
    AttendHeadNeon(a);
    return;
  }
  for (int h = 0; h < a.n_q; ++h) {  // one head at a time
    AttnArgs one = a;
    one.n_q = 1;
    one.q = a.q + static_cast<size_t>(h) * a.head_dim;
    one.out = a.out + static_cast<size_t>(h) * a.head_dim;
    one.scores = a.scores + static_cast<size_t>(h) * a.n_pos;
    AttendHeadRef(one);
  }
}

}  // namespace hearth::kernels
