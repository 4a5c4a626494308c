// Internal: unpacking the 6-bit scales and mins of a Q4_K/Q5_K block with
// word operations. Internal linkage, so every translation unit (each compiled
// with its own ISA flags) keeps its own copy; never shared across flags.
#pragma once

#include <cstdint>
#include <cstring>

namespace hearth::kernels {
namespace {

// Bytes 0..7 of *sc / *m = the eight 6-bit scales / mins (sub-blocks 0..7).
// Bit layout per GetScaleMinK4: j < 4 in the low 6 bits of bytes j / j+4;
// j >= 4 from the nibbles of bytes 8..11 plus the top 2 bits of bytes j-4 / j.
inline void ScalesMinsK4(const uint8_t* q, uint64_t* sc, uint64_t* m) {
  uint32_t a0, a1, a2;
  std::memcpy(&a0, q, 4);
  std::memcpy(&a1, q + 4, 4);
  std::memcpy(&a2, q + 8, 4);
  const uint32_t sc_lo = a0 & 0x3f3f3f3fu, m_lo = a1 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (a2 & 0x0f0f0f0fu) | (((a0 >> 6) & 0x03030303u) << 4);
  const uint32_t m_hi = ((a2 >> 4) & 0x0f0f0f0fu) | (((a1 >> 6) & 0x03030303u) << 4);
  *sc = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  *m = m_lo | (static_cast<uint64_t>(m_hi) << 32);
}

}  // namespace
}  // namespace hearth::kernels
