#include "kernels/repack.h"

#include <cstring>
#include <utility>

#include "base/check.h"
#include "format/quant_blocks.h"

namespace hearth::kernels {
namespace {

inline uint32_t U32At(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void PutU32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}

struct Lanes16Format {
  size_t block_bytes;  // GGUF block: F16 d, then the codes
  int code_bytes;      // codes per block
  uint8_t bias;        // added to every code byte in the repacked layout
};

Lanes16Format Lanes16For(GgmlType wtype) {
  static_assert(offsetof(BlockQ4_0, qs) == 2 && offsetof(BlockQ8_0, qs) == 2);
  if (wtype == GgmlType::kQ4_0) return {sizeof(BlockQ4_0), kQK / 2, 0};
  HEARTH_CHECK(wtype == GgmlType::kQ8_0, "no kLanes16 layout for weight type %u",
               static_cast<unsigned>(wtype));
  return {sizeof(BlockQ8_0), kQK, 0x80};
}

// One group: GGUF blocks at `gguf` <-> the kLanes16 group at `lanes`.
void GroupToLanes(const Lanes16Format& f, const uint8_t* gguf, uint8_t* lanes) {
  const int vectors = f.code_bytes / 4;
  for (int l = 0; l < 16; ++l) {
    const uint8_t* block = gguf + LaneBlock(l) * f.block_bytes;
    for (int j = 0; j < vectors; ++j) {
      for (int i = 0; i < 4; ++i)
        lanes[64 * j + 4 * l + i] = static_cast<uint8_t>(block[2 + 4 * j + i] + f.bias);
    }
    std::memcpy(lanes + 64 * vectors + 2 * l, block, 2);
  }
}

void GroupFromLanes(const Lanes16Format& f, const uint8_t* lanes, uint8_t* gguf) {
  const int vectors = f.code_bytes / 4;
  for (int l = 0; l < 16; ++l) {
    uint8_t* block = gguf + LaneBlock(l) * f.block_bytes;
    for (int j = 0; j < vectors; ++j) {
      for (int i = 0; i < 4; ++i)
        block[2 + 4 * j + i] = static_cast<uint8_t>(lanes[64 * j + 4 * l + i] - f.bias);
    }
    std::memcpy(block, lanes + 64 * vectors + 2 * l, 2);
  }
}

constexpr size_t kQ4KGroupBytes = 2 * sizeof(BlockQ4_K);

// Q4_K: sub-block s's codes 4j .. 4j + 3 are nibble s % 2 of qs[32 (s / 2) + 4j ..
// + 4), its codes 16 + 4j .. those of the 4 bytes 16 further: four bytes at a time.
void Q4KGroupToLanes(const uint8_t* gguf, uint8_t* lanes) {
  static_assert(offsetof(BlockQ4_K, qs) == 16 && sizeof(BlockQ4_K) == 144);
  for (int l = 0; l < 16; ++l) {
    const int s = l % 8;
    const uint8_t* qs = gguf + (l / 8) * sizeof(BlockQ4_K) + offsetof(BlockQ4_K, qs) + 32 * (s / 2);
    for (int j = 0; j < 4; ++j) {
      const uint32_t x = U32At(qs + 4 * j), y = U32At(qs + 16 + 4 * j);
      const uint32_t v = s % 2 == 0 ? (x & 0x0F0F0F0Fu) | (y & 0x0F0F0F0Fu) << 4
                                    : (x >> 4 & 0x0F0F0F0Fu) | (y & 0xF0F0F0F0u);
      PutU32(lanes + 64 * j + 4 * l, v);
    }
  }
  std::memcpy(lanes + 256, gguf, 16);
  std::memcpy(lanes + 272, gguf + sizeof(BlockQ4_K), 16);
}

void Q4KGroupFromLanes(const uint8_t* lanes, uint8_t* gguf) {
  for (int l = 0; l < 16; ++l) {
    uint8_t* qs = gguf + (l / 8) * sizeof(BlockQ4_K) + offsetof(BlockQ4_K, qs);
    const int s = l % 8, shift = 4 * (s % 2);
    for (int j = 0; j < 4; ++j) {
      for (int i = 0; i < 4; ++i) {
        const uint8_t byte = lanes[64 * j + 4 * l + i];
        for (const auto& [k, code] :
             {std::pair{4 * j + i, byte & 0x0F}, {16 + 4 * j + i, byte >> 4}}) {
          uint8_t& q = qs[32 * (s / 2) + k];
          q = static_cast<uint8_t>((q & ~(0x0F << shift)) | (code << shift));
        }
      }
    }
  }
  std::memcpy(gguf, lanes + 256, 16);
  std::memcpy(gguf + sizeof(BlockQ4_K), lanes + 272, 16);
}

// Q6_K: where value n's 6-bit code lies in a GGUF super-block (n = 128h +
// 32k + l): its low 4 bits in ql[64h + 32(k & 1) + l] from bit 4(k >> 1), its
// high 2 bits in qh[32h + l] from bit 2k.
struct Q6KPos {
  int ql, ql_shift, qh, qh_shift;
};
inline Q6KPos Q6KAt(int n) {
  const int h = n / 128, k = n % 128 / 32, l = n % 32;
  return {64 * h + 32 * (k & 1) + l, 4 * (k >> 1), 128 + 32 * h + l, 2 * k};
}

// Lane l holds values 16l .. 16l + 15, which share h, k (Q6KAt) and lie in
// consecutive bytes of ql and qh: four bytes at a time per vector.
void Q6KToLanes(const uint8_t* gguf, uint8_t* lanes) {
  static_assert(offsetof(BlockQ6_K, qh) == 128 && offsetof(BlockQ6_K, scales) == 192 &&
                offsetof(BlockQ6_K, d) == 208);
  for (int l = 0; l < 16; ++l) {
    const Q6KPos p = Q6KAt(16 * l);
    uint32_t lo[4], hi[4];  // values 16l + 4j + i, byte i
    for (int j = 0; j < 4; ++j) {
      lo[j] = (U32At(gguf + p.ql + 4 * j) >> p.ql_shift) & 0x0F0F0F0Fu;
      hi[j] = (U32At(gguf + p.qh + 4 * j) >> p.qh_shift) & 0x03030303u;
    }
    PutU32(lanes + 4 * l, lo[0] | lo[2] << 4);
    PutU32(lanes + 64 + 4 * l, lo[1] | lo[3] << 4);
    PutU32(lanes + 128 + 4 * l, hi[0] | hi[1] << 2 | hi[2] << 4 | hi[3] << 6);
  }
  std::memcpy(lanes + 192, gguf + 192, 18);
}

void Q6KFromLanes(const uint8_t* lanes, uint8_t* gguf) {  // gguf: zeroed
  for (int n = 0; n < kQKK; ++n) {
    const int l = n / 16, v = n % 16, i = v % 4, j = v / 4;
    const int lo = (lanes[64 * (j % 2) + 4 * l + i] >> (4 * (j / 2))) & 0x0F;
    const int hi = (lanes[128 + 4 * l + i] >> (2 * j)) & 3;
    const Q6KPos p = Q6KAt(n);
    gguf[p.ql] |= static_cast<uint8_t>(lo << p.ql_shift);
    gguf[p.qh] |= static_cast<uint8_t>(hi << p.qh_shift);
  }
  std::memcpy(gguf + 192, lanes + 192, 18);
}

// Every whole group of every row through tmp: convert(group, tmp), then tmp
// back over the group.
template <class Fn>
void EachGroup(uint8_t* w, int64_t n_rows, size_t row_bytes, int64_t groups, size_t group_bytes,
               Fn convert) {
  uint8_t tmp[16 * sizeof(BlockQ8_0)];  // the largest group
  static_assert(sizeof(tmp) >= kQ4KGroupBytes && sizeof(tmp) >= sizeof(BlockQ6_K));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* p = w + static_cast<size_t>(r) * row_bytes + static_cast<size_t>(g) * group_bytes;
      std::memset(tmp, 0, group_bytes);
      convert(p, tmp);
      std::memcpy(p, tmp, group_bytes);
    }
  }
}

template <bool kToLanes>
void Convert(GgmlType wtype, WeightLayout layout, uint8_t* w, int64_t n_rows, size_t row_bytes,
             int64_t n_in) {
  if (layout == WeightLayout::kGguf) return;
  if (wtype == GgmlType::kQ4_K) {
    EachGroup(w, n_rows, row_bytes, n_in / kQKK / 2, kQ4KGroupBytes,
              kToLanes ? &Q4KGroupToLanes : &Q4KGroupFromLanes);
    return;
  }
  if (wtype == GgmlType::kQ6_K) {
    EachGroup(w, n_rows, row_bytes, n_in / kQKK, sizeof(BlockQ6_K),
              kToLanes ? &Q6KToLanes : &Q6KFromLanes);
    return;
  }
  const Lanes16Format f = Lanes16For(wtype);
  EachGroup(w, n_rows, row_bytes, n_in / kQK / 16, 16 * f.block_bytes,
            [&f](const uint8_t* p, uint8_t* tmp) {
              if constexpr (kToLanes) {
                GroupToLanes(f, p, tmp);
              } else {
                GroupFromLanes(f, p, tmp);
              }
            });
}

}  // namespace

bool LayoutDefined(GgmlType wtype, WeightLayout layout) {
  return layout == WeightLayout::kGguf || wtype == GgmlType::kQ4_0 || wtype == GgmlType::kQ8_0 ||
         wtype == GgmlType::kQ4_K || wtype == GgmlType::kQ6_K;
}

void RepackRows(GgmlType wtype, WeightLayout layout, uint8_t* w, int64_t n_rows, size_t row_bytes,
                int64_t n_in) {
  Convert<true>(wtype, layout, w, n_rows, row_bytes, n_in);
}

void UnpackRows(GgmlType wtype, WeightLayout layout, uint8_t* w, int64_t n_rows, size_t row_bytes,
                int64_t n_in) {
  Convert<false>(wtype, layout, w, n_rows, row_bytes, n_in);
}

}  // namespace hearth::kernels
