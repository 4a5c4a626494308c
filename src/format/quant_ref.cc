// Scalar reference (de)quantization of the simple block formats and dispatch
// over every type. The k-quants are in quant_ref_k.cc.
#include "format/quant_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "format/fp16.h"
#include "format/quant_blocks.h"
#include "format/quant_ref_k.h"

namespace hearth {
namespace {

// Value with the largest magnitude, sign kept.
float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void QuantizeQ4_0(const float* x, int64_t nb, BlockQ4_0* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQK) {
    const float d = SignedAbsMax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = FloatToFp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(x[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(x[j + kQK / 2] * id + 8.5f));
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void DequantizeQ4_0(const BlockQ4_0* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const float d = Fp16ToFloat(x[b].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>((x[b].qs[j] & 0xF) - 8);
      y[j + kQK / 2] = d * static_cast<float>((x[b].qs[j] >> 4) - 8);
    }
  }
}

void QuantizeQ4_1(const float* x, int64_t nb, BlockQ4_1* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQK) {
    float mn = x[0], mx = x[0];
    for (int j = 1; j < kQK; ++j) mn = std::min(mn, x[j]), mx = std::max(mx, x[j]);
    const float d = (mx - mn) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = FloatToFp16(d);
    y[b].m = FloatToFp16(mn);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>((x[j] - mn) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((x[j + kQK / 2] - mn) * id + 0.5f));
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void DequantizeQ4_1(const BlockQ4_1* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const float d = Fp16ToFloat(x[b].d), m = Fp16ToFloat(x[b].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>(x[b].qs[j] & 0xF) + m;
      y[j + kQK / 2] = d * static_cast<float>(x[b].qs[j] >> 4) + m;
    }
  }
}

template <typename Block, bool kHasMin>
void QuantizeQ5(const float* x, int64_t nb, Block* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQK) {
    float d, id, mn = 0.0f;
    if constexpr (kHasMin) {
      float mx = x[0];
      mn = x[0];
      for (int j = 1; j < kQK; ++j) mn = std::min(mn, x[j]), mx = std::max(mx, x[j]);
      d = (mx - mn) / 31.0f;
    } else {
      d = SignedAbsMax(x, kQK) / -16.0f;
    }
    id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = FloatToFp16(d);
    if constexpr (kHasMin) y[b].m = FloatToFp16(mn);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      int q0, q1;
      if constexpr (kHasMin) {
        q0 = static_cast<int>((x[j] - mn) * id + 0.5f);
        q1 = static_cast<int>((x[j + kQK / 2] - mn) * id + 0.5f);
      } else {
        q0 = std::min(31, static_cast<int>(x[j] * id + 16.5f));
        q1 = std::min(31, static_cast<int>(x[j + kQK / 2] * id + 16.5f));
      }
      q0 = std::clamp(q0, 0, 31);
      q1 = std::clamp(q1, 0, 31);
      y[b].qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(y[b].qh, &qh, 4);
  }
}

template <typename Block, bool kHasMin>
void DequantizeQ5(const Block* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const float d = Fp16ToFloat(x[b].d);
    float m = 0.0f;
    if constexpr (kHasMin) m = Fp16ToFloat(x[b].m);
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (x[b].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
      const int q1 = (x[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + kQK / 2)) & 1) << 4);
      if constexpr (kHasMin) {
        y[j] = d * static_cast<float>(q0) + m;
        y[j + kQK / 2] = d * static_cast<float>(q1) + m;
      } else {
        y[j] = d * static_cast<float>(q0 - 16);
        y[j + kQK / 2] = d * static_cast<float>(q1 - 16);
      }
    }
  }
}

void QuantizeQ8_0(const float* x, int64_t nb, BlockQ8_0* y) {
  for (int64_t b = 0; b < nb; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = FloatToFp16(d);
    for (int j = 0; j < kQK; ++j) y[b].qs[j] = static_cast<int8_t>(std::lround(x[j] * id));
  }
}

void DequantizeQ8_0(const BlockQ8_0* x, int64_t nb, float* y) {
  for (int64_t b = 0; b < nb; ++b, y += kQK) {
    const float d = Fp16ToFloat(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(x[b].qs[j]);
  }
}

Status CheckBlocks(GgmlType type, int64_t n) {
  const GgmlTypeInfo& info = GetGgmlTypeInfo(type);
  if (n < 0 || n % info.block_size != 0) {
    return InvalidArgumentError(StrFormat("%lld values is not a whole number of %s blocks of %u",
                                          static_cast<long long>(n), std::string(info.name).c_str(),
                                          info.block_size));
  }
  return Status::Ok();
}

}  // namespace

bool CanQuantize(GgmlType type) {
  return GetGgmlTypeInfo(type).engine_supported;
}

Status QuantizeRowRef(GgmlType type, const float* x, int64_t n, void* out) {
  HEARTH_RETURN_IF_ERROR(CheckBlocks(type, n));
  const int64_t nb = n / GetGgmlTypeInfo(type).block_size;
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(out, x, static_cast<size_t>(n) * 4);
      return Status::Ok();
    case GgmlType::kF16: {
      auto* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < n; ++i) o[i] = FloatToFp16(x[i]);
      return Status::Ok();
    }
    case GgmlType::kBF16: {
      auto* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < n; ++i) o[i] = FloatToBf16(x[i]);
      return Status::Ok();
    }
    case GgmlType::kQ4_0:
      QuantizeQ4_0(x, nb, static_cast<BlockQ4_0*>(out));
      return Status::Ok();
    case GgmlType::kQ4_1:
      QuantizeQ4_1(x, nb, static_cast<BlockQ4_1*>(out));
      return Status::Ok();
    case GgmlType::kQ5_0:
      QuantizeQ5<BlockQ5_0, false>(x, nb, static_cast<BlockQ5_0*>(out));
      return Status::Ok();
    case GgmlType::kQ5_1:
      QuantizeQ5<BlockQ5_1, true>(x, nb, static_cast<BlockQ5_1*>(out));
      return Status::Ok();
    case GgmlType::kQ8_0:
      QuantizeQ8_0(x, nb, static_cast<BlockQ8_0*>(out));
      return Status::Ok();
    case GgmlType::kQ4_K:
      QuantizeQ4_K(x, nb, static_cast<BlockQ4_K*>(out));
      return Status::Ok();
    case GgmlType::kQ5_K:
      QuantizeQ5_K(x, nb, static_cast<BlockQ5_K*>(out));
      return Status::Ok();
    case GgmlType::kQ6_K:
      QuantizeQ6_K(x, nb, static_cast<BlockQ6_K*>(out));
      return Status::Ok();
    default:
      return UnimplementedError(
          StrFormat("no quantizer for %s", std::string(GetGgmlTypeInfo(type).name).c_str()));
  }
}

Status DequantizeRowRef(GgmlType type, const void* in, int64_t n, float* y) {
  HEARTH_RETURN_IF_ERROR(CheckBlocks(type, n));
  const int64_t nb = n / GetGgmlTypeInfo(type).block_size;
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(y, in, static_cast<size_t>(n) * 4);
      return Status::Ok();
    case GgmlType::kF16: {
      auto* p = static_cast<const uint16_t*>(in);
      for (int64_t i = 0; i < n; ++i) y[i] = Fp16ToFloat(p[i]);
      return Status::Ok();
    }
    case GgmlType::kBF16: {
      auto* p = static_cast<const uint16_t*>(in);
      for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToFloat(p[i]);
      return Status::Ok();
    }
    case GgmlType::kQ4_0:
      DequantizeQ4_0(static_cast<const BlockQ4_0*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ4_1:
      DequantizeQ4_1(static_cast<const BlockQ4_1*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ5_0:
      DequantizeQ5<BlockQ5_0, false>(static_cast<const BlockQ5_0*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ5_1:
      DequantizeQ5<BlockQ5_1, true>(static_cast<const BlockQ5_1*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ8_0:
      DequantizeQ8_0(static_cast<const BlockQ8_0*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ4_K:
      DequantizeQ4_K(static_cast<const BlockQ4_K*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ5_K:
      DequantizeQ5_K(static_cast<const BlockQ5_K*>(in), nb, y);
      return Status::Ok();
    case GgmlType::kQ6_K:
      DequantizeQ6_K(static_cast<const BlockQ6_K*>(in), nb, y);
      return Status::Ok();
    default:
      return UnimplementedError(
          StrFormat("no dequantizer for %s", std::string(GetGgmlTypeInfo(type).name).c_str()));
  }
}

}  // namespace hearth
