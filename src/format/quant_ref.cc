#include "format/quant_ref.h"

#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "format/fp16.h"
#include "format/quant_blocks.h"

namespace hearth {
namespace {

void QuantizeQ8_0(const float* x, int64_t n, BlockQ8_0* y) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = FloatToFp16(d);
    for (int j = 0; j < kQK8_0; ++j) y[b].qs[j] = static_cast<int8_t>(std::lround(xb[j] * id));
  }
}

void DequantizeQ8_0(const BlockQ8_0* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = Fp16ToFloat(x[b].d);
    for (int j = 0; j < kQK8_0; ++j) y[b * kQK8_0 + j] = d * static_cast<float>(x[b].qs[j]);
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
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ8_0:
      return true;
    default:
      return false;
  }
}

Status QuantizeRowRef(GgmlType type, const float* x, int64_t n, void* out) {
  HEARTH_RETURN_IF_ERROR(CheckBlocks(type, n));
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
    case GgmlType::kQ8_0:
      QuantizeQ8_0(x, n, static_cast<BlockQ8_0*>(out));
      return Status::Ok();
    default:
      return UnimplementedError(
          StrFormat("no quantizer for %s yet", std::string(GetGgmlTypeInfo(type).name).c_str()));
  }
}

Status DequantizeRowRef(GgmlType type, const void* in, int64_t n, float* y) {
  HEARTH_RETURN_IF_ERROR(CheckBlocks(type, n));
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
    case GgmlType::kQ8_0:
      DequantizeQ8_0(static_cast<const BlockQ8_0*>(in), n, y);
      return Status::Ok();
    default:
      return UnimplementedError(
          StrFormat("no dequantizer for %s yet", std::string(GetGgmlTypeInfo(type).name).c_str()));
  }
}

}  // namespace hearth
