#include "format/quant_ref_k.h"

#include <algorithm>
#include <cmath>

#include "format/fp16.h"

namespace hearth {
namespace {

// Packs eight 6-bit scales and mins into the 12-byte Q4_K/Q5_K layout read by GetScaleMinK4.
void PackScalesK4(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

// Chooses per-sub-block (scale, min) for x = d*sc*q - dmin*m with q in [0, levels],
// quantizes them to 6 bits, and returns the integer q of every value in `q`.
void QuantizeAsymmetricK(const float* x, int levels, uint16_t* d_out, uint16_t* dmin_out,
                         uint8_t scales[12], uint8_t q[kQKK]) {
  float sub_scale[8], sub_min[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    float mn = 0.0f, mx = 0.0f;
    for (int l = 0; l < 32; ++l) mn = std::min(mn, xs[l]), mx = std::max(mx, xs[l]);
    sub_scale[s] = (mx - mn) / static_cast<float>(levels);
    sub_min[s] = -mn;
    max_scale = std::max(max_scale, sub_scale[s]);
    max_min = std::max(max_min, sub_min[s]);
  }
  const float d = max_scale / 63.0f;
  const float dmin = max_min / 63.0f;
  *d_out = FloatToFp16(d);
  *dmin_out = FloatToFp16(dmin);
  const float dq = Fp16ToFloat(*d_out), dminq = Fp16ToFloat(*dmin_out);
  uint8_t sc[8], m[8];
  for (int s = 0; s < 8; ++s) {
    sc[s] = static_cast<uint8_t>(std::clamp(dq > 0 ? std::lround(sub_scale[s] / dq) : 0L, 0L, 63L));
    m[s] =
        static_cast<uint8_t>(std::clamp(dminq > 0 ? std::lround(sub_min[s] / dminq) : 0L, 0L, 63L));
  }
  PackScalesK4(sc, m, scales);
  for (int s = 0; s < 8; ++s) {
    const float step = dq * static_cast<float>(sc[s]);
    const float offset = dminq * static_cast<float>(m[s]);
    for (int l = 0; l < 32; ++l) {
      long v = step > 0 ? std::lround((x[32 * s + l] + offset) / step) : 0;
      q[32 * s + l] = static_cast<uint8_t>(std::clamp(v, 0L, static_cast<long>(levels)));
    }
  }
}

}  // namespace

void QuantizeQ4_K(const float* x, int64_t nb, BlockQ4_K* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQKK) {
    uint8_t q[kQKK];
    QuantizeAsymmetricK(x, 15, &y[b].d, &y[b].dmin, y[b].scales, q);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        y[b].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void DequantizeQ4_K(const BlockQ4_K* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = Fp16ToFloat(x[b].d), dmin = Fp16ToFloat(x[b].dmin);
    const uint8_t* q = x[b].qs;
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, m;
      GetScaleMinK4(2 * c, x[b].scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      GetScaleMinK4(2 * c + 1, x[b].scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void QuantizeQ5_K(const float* x, int64_t nb, BlockQ5_K* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQKK) {
    uint8_t q[kQKK];
    QuantizeAsymmetricK(x, 31, &y[b].d, &y[b].dmin, y[b].scales, q);
    std::fill(y[b].qh, y[b].qh + kQKK / 8, 0);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        y[b].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        y[b].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void DequantizeQ5_K(const BlockQ5_K* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = Fp16ToFloat(x[b].d), dmin = Fp16ToFloat(x[b].dmin);
    const uint8_t* ql = x[b].qs;
    const uint8_t* qh = x[b].qh;
    uint8_t u1 = 1, u2 = 2;
    for (int c = 0; c < 4; ++c, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      GetScaleMinK4(2 * c, x[b].scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      GetScaleMinK4(2 * c + 1, x[b].scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) {
        *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      }
    }
  }
}

void QuantizeQ6_K(const float* x, int64_t nb, BlockQ6_K* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQKK) {
    float sub_scale[16];
    float max_abs_scale = 0.0f;
    for (int s = 0; s < 16; ++s) {
      float amax = 0.0f;
      for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * s + l]));
      sub_scale[s] = amax / 31.0f;
      max_abs_scale = std::max(max_abs_scale, sub_scale[s]);
    }
    const float d = max_abs_scale / 127.0f;
    y[b].d = FloatToFp16(d);
    const float dq = Fp16ToFloat(y[b].d);
    uint8_t q[kQKK];
    for (int s = 0; s < 16; ++s) {
      long sc = dq > 0 ? std::lround(sub_scale[s] / dq) : 0;
      y[b].scales[s] = static_cast<int8_t>(std::clamp(sc, -128L, 127L));
      const float step = dq * static_cast<float>(y[b].scales[s]);
      for (int l = 0; l < 16; ++l) {
        long v = step != 0 ? std::lround(x[16 * s + l] / step) : 0;
        q[16 * s + l] = static_cast<uint8_t>(std::clamp(v, -32L, 31L) + 32);
      }
    }
    for (int n = 0; n < 2; ++n) {
      uint8_t* ql = y[b].ql + 64 * n;
      uint8_t* qh = y[b].qh + 32 * n;
      const uint8_t* qq = q + 128 * n;
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = qq[l], q2 = qq[l + 32], q3 = qq[l + 64], q4 = qq[l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) |
                                     ((q4 >> 4) << 6));
      }
    }
  }
}

void DequantizeQ6_K(const BlockQ6_K* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = Fp16ToFloat(x[b].d);
    const uint8_t* ql = x[b].ql;
    const uint8_t* qh = x[b].qh;
    const int8_t* sc = x[b].scales;
    for (int n = 0; n < 2; ++n, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * static_cast<float>(q1);
        y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
        y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
        y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace hearth
