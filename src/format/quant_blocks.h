// Block layouts of the quantized GGUF weight types. Each struct is the exact
// on-disk layout (little-endian); sizes are asserted against the GGUF block
// sizes. Values decode as described beside each struct; quant_ref.cc is the
// executable form of these descriptions.
#pragma once

#include <cstdint>

namespace hearth {

constexpr int kQK = 32;    // elements per block of the simple formats
constexpr int kQKK = 256;  // elements per super-block of the k-quants
constexpr int kQK8_0 = kQK;

// Q4_0: x[j] = d * (nibble_j - 8); nibble j < 16 is the low half of qs[j],
// nibble j >= 16 the high half of qs[j - 16].
struct BlockQ4_0 {
  uint16_t d;  // F16
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q4_1: x[j] = d * nibble_j + m (same nibble order as Q4_0).
struct BlockQ4_1 {
  uint16_t d;  // F16
  uint16_t m;  // F16
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// Q5_0: x[j] = d * (q_j - 16), q_j = nibble_j | (bit j of qh) << 4.
struct BlockQ5_0 {
  uint16_t d;     // F16
  uint8_t qh[4];  // bit j: 5th bit of element j (little-endian u32)
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: x[j] = d * q_j + m.
struct BlockQ5_1 {
  uint16_t d;  // F16
  uint16_t m;  // F16
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// Q8_0: x[j] = d * qs[j].
struct BlockQ8_0 {
  uint16_t d;  // F16
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in `scales`:
// x = d * sc_s * q - dmin * m_s, q a 4-bit value. Sub-blocks 2c and 2c+1 use the
// low and high nibbles of qs[32c .. 32c+31].
struct BlockQ4_K {
  uint16_t d;     // F16 super-block scale for the scales
  uint16_t dmin;  // F16 super-block scale for the mins
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: as Q4_K with a 5th bit per element in qh (bits 2c and 2c+1 of qh[l] for
// the two sub-blocks of chunk c).
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 16 sub-blocks of 16 with int8 scales: x = d * scales_s * (q - 32), q a
// 6-bit value from 4 bits of ql and 2 bits of qh.
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;  // F16
};
static_assert(sizeof(BlockQ6_K) == 210);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void GetScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace hearth
