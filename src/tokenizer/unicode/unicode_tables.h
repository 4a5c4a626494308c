// Internal: the tables gen_unicode_tables writes into the build directory
// (unicode_tables.cc). Only unicode.cc and normalize.cc read them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tokenizer/unicode/unicode.h"

namespace hearth::unicode::internal {

// Flags(cp) = kFlagStage2[kFlagStage1[cp / kFlagBlockSize] * kFlagBlockSize + cp % kFlagBlockSize]
inline constexpr uint32_t kFlagBlockSize = 128;
extern const uint16_t kFlagStage1[0x110000 / kFlagBlockSize];
extern const uint16_t kFlagStage2[];

struct LowerPair {
  uint32_t cp;
  uint32_t lower;
};
extern const LowerPair kLowerPairs[];  // sorted by cp
extern const size_t kLowerPairCount;

struct CccRange {
  uint32_t first;
  uint32_t last;
  uint8_t ccc;
};
extern const CccRange kCccRanges[];  // sorted, disjoint, non-zero classes only
extern const size_t kCccRangeCount;

// Full recursive decompositions in kDecompPool; len 0 = none of that kind.
// Hangul syllables are not listed (algorithmic).
struct DecompEntry {
  uint32_t cp;
  uint16_t canon_offset;
  uint8_t canon_len;
  uint16_t compat_offset;
  uint8_t compat_len;
};
extern const uint32_t kDecompPool[];
extern const DecompEntry kDecompEntries[];  // sorted by cp
extern const size_t kDecompEntryCount;

// Primary composites: key = first << 32 | second.
struct ComposePair {
  uint64_t key;
  uint32_t composite;
};
extern const ComposePair kComposePairs[];  // sorted by key
extern const size_t kComposePairCount;

}  // namespace hearth::unicode::internal
