#include "format/ggml_types.h"

#include <array>
#include <cctype>

#include "base/check.h"

namespace hearth {
namespace {

constexpr uint32_t kQK = 32;    // simple block quants
constexpr uint32_t kQKK = 256;  // k-quants / i-quants super-block

// name, block_size, type_size, engine_supported. Sizes are the GGUF block layouts.
constexpr GgmlTypeInfo kTypes[] = {
    {GgmlType::kF32, "F32", 1, 4, true},
    {GgmlType::kF16, "F16", 1, 2, true},
    {GgmlType::kQ4_0, "Q4_0", kQK, 2 + kQK / 2, true},
    {GgmlType::kQ4_1, "Q4_1", kQK, 4 + kQK / 2, true},
    {GgmlType::kQ5_0, "Q5_0", kQK, 2 + 4 + kQK / 2, true},
    {GgmlType::kQ5_1, "Q5_1", kQK, 4 + 4 + kQK / 2, true},
    {GgmlType::kQ8_0, "Q8_0", kQK, 2 + kQK, true},
    {GgmlType::kQ8_1, "Q8_1", kQK, 4 + kQK, false},
    {GgmlType::kQ2_K, "Q2_K", kQKK, kQKK / 16 + kQKK / 4 + 4, false},
    {GgmlType::kQ3_K, "Q3_K", kQKK, kQKK / 8 + kQKK / 4 + 12 + 2, false},
    {GgmlType::kQ4_K, "Q4_K", kQKK, 4 + 12 + kQKK / 2, true},
    {GgmlType::kQ5_K, "Q5_K", kQKK, 4 + 12 + kQKK / 8 + kQKK / 2, true},
    {GgmlType::kQ6_K, "Q6_K", kQKK, kQKK / 2 + kQKK / 4 + kQKK / 16 + 2, true},
    {GgmlType::kQ8_K, "Q8_K", kQKK, 4 + kQKK + kQKK / 16 * 2, false},
    {GgmlType::kIQ2_XXS, "IQ2_XXS", kQKK, 2 + kQKK / 8 * 2, false},
    {GgmlType::kIQ2_XS, "IQ2_XS", kQKK, 2 + kQKK / 8 * 2 + kQKK / 32, false},
    {GgmlType::kIQ3_XXS, "IQ3_XXS", kQKK, 2 + 3 * kQKK / 8, false},
    {GgmlType::kIQ1_S, "IQ1_S", kQKK, 2 + kQKK / 8 + kQKK / 16, false},
    {GgmlType::kIQ4_NL, "IQ4_NL", kQK, 2 + kQK / 2, false},
    {GgmlType::kIQ3_S, "IQ3_S", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 8 + kQKK / 64, false},
    {GgmlType::kIQ2_S, "IQ2_S", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 32, false},
    {GgmlType::kIQ4_XS, "IQ4_XS", kQKK, 2 + 2 + kQKK / 64 + kQKK / 2, false},
    {GgmlType::kI8, "I8", 1, 1, false},
    {GgmlType::kI16, "I16", 1, 2, false},
    {GgmlType::kI32, "I32", 1, 4, false},
    {GgmlType::kI64, "I64", 1, 8, false},
    {GgmlType::kF64, "F64", 1, 8, false},
    {GgmlType::kIQ1_M, "IQ1_M", kQKK, kQKK / 8 + kQKK / 16 + kQKK / 32, false},
    {GgmlType::kBF16, "BF16", 1, 2, true},
    {GgmlType::kTQ1_0, "TQ1_0", kQKK, (kQKK - 4 * kQKK / 64) / 5 + kQKK / 64 + 2, false},
    {GgmlType::kTQ2_0, "TQ2_0", kQKK, kQKK / 4 + 2, false},
    {GgmlType::kMXFP4, "MXFP4", kQK, 1 + kQK / 2, false},
};

struct Removed {
  uint32_t id;
  std::string_view label;
};
constexpr Removed kRemoved[] = {
    {4, "Q4_2 (removed)"},        {5, "Q4_3 (removed)"},        {31, "Q4_0_4_4 (removed)"},
    {32, "Q4_0_4_8 (removed)"},   {33, "Q4_0_8_8 (removed)"},   {36, "IQ4_NL_4_4 (removed)"},
    {37, "IQ4_NL_4_8 (removed)"}, {38, "IQ4_NL_8_8 (removed)"},
};

static_assert(sizeof(kTypes) / sizeof(kTypes[0]) + sizeof(kRemoved) / sizeof(kRemoved[0]) ==
              kGgmlTypeIdLimit);

}  // namespace

std::optional<GgmlTypeInfo> LookupGgmlType(uint32_t id) {
  for (const auto& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == id) return t;
  }
  return std::nullopt;
}

const GgmlTypeInfo& GetGgmlTypeInfo(GgmlType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t;
  }
  HEARTH_CHECK(false, "invalid GgmlType %u", static_cast<unsigned>(type));
  __builtin_unreachable();
}

std::string_view GgmlTypeIdName(uint32_t id) {
  for (const auto& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == id) return t.name;
  }
  for (const auto& r : kRemoved) {
    if (r.id == id) return r.label;
  }
  return "unknown";
}

std::optional<GgmlType> ParseGgmlType(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size() && eq; ++i) {
      eq = std::toupper(static_cast<unsigned char>(name[i])) == t.name[i];
    }
    if (eq) return t.type;
  }
  return std::nullopt;
}

}  // namespace hearth
