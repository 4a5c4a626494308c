// The ggml tensor types that can appear in a GGUF file, and which of them the
// engine computes. This table is the single place that answers both.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hearth {

// Type ids as stored in GGUF tensor infos (ggml's enum values).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4, 5: Q4_2, Q4_3 (removed from ggml)
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  // 31-33: Q4_0_4_4, Q4_0_4_8, Q4_0_8_8 (removed; repacking is done at load time now)
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  // 36-38: IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8 (removed)
  kMXFP4 = 39,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  // "Q4_K"
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t type_size;     // bytes per block
  bool engine_supported;  // the engine has kernels for it
};

// Information for a known, current type id; nullopt for unknown or removed ids.
std::optional<GgmlTypeInfo> LookupGgmlType(uint32_t id);
const GgmlTypeInfo& GetGgmlTypeInfo(GgmlType type);  // type must be valid

// Name for any id: the type name, "Q4_2 (removed)" or "unknown(77)".
std::string_view GgmlTypeIdName(uint32_t id);
// Parses a type name, case-insensitive ("q8_0", "BF16").
std::optional<GgmlType> ParseGgmlType(std::string_view name);

// Number of type ids the table knows (one past the largest).
constexpr uint32_t kGgmlTypeIdLimit = 40;

}  // namespace hearth
