// Weight layouts other than the GGUF block format, for kernels that read them
// faster. A repacked row has the same bytes as the GGUF row, rearranged within
// each group of 16 blocks (blocks past the last whole group stay as they are),
// so a matrix is repacked in place and keeps its size.
//
// kLanes16 (Q4_0, Q8_0), one group = 16 blocks = 16 * 32 values:
//   codes: vectors j = 0 .. V-1 of 64 bytes (V = 4 for Q4_0, 8 for Q8_0); bytes
//     [64j + 4l, 64j + 4l + 4) of the group = bytes [4j, 4j + 4) of block
//     LaneBlock(l)'s qs. Q8_0 codes are stored plus 128 (as unsigned bytes).
//   scales: then the 16 blocks' F16 d, entry l = block LaneBlock(l)'s.
// One 32-bit lane of a code vector thus holds 4 bytes of one block, so an
// AVX-512 VNNI dot product of a vector gives 16 block partials at once, in the
// lane order the GGUF-layout VNNI kernel's reduction ends in: same sums, same
// float steps, same bits (matmul_vnni_q.cc).
//
// kLanes16 (Q4_K), one group = 2 super-blocks = 16 sub-blocks of 32 values
// (288 bytes; a last odd super-block stays as it is):
//   codes: vectors j = 0 .. 3 of 64 bytes; byte 64j + 4l + i holds, of
//     sub-block l (super-block l / 8, its sub-block l % 8), code 4j + i in
//     its low nibble and code 16 + 4j + i in its high nibble.
//   then each super-block's first 16 bytes (F16 d, F16 dmin, the 12 bytes
//     of 6-bit scales and mins) as they are, the first super-block's first.
// Each lane holds one sub-block, so a dot product gives the 16 sub-block
// sums of a group at once, in integers (matmul_vnni_k_lanes.cc).
//
// kLanes16 (Q6_K), one group = 1 super-block = 16 sub-blocks of 16 values
// (210 bytes): lane l is sub-block l (values 16l .. 16l + 15); byte i of lane
// l (bytes 4l + i of each 64-byte vector) holds, of values 16l + v:
//   vector A (bytes 0..63): low 4 code bits of v = i (low nibble), 8 + i (high);
//   vector B (64..127): of v = 4 + i and 12 + i;
//   vector C (128..191): the high 2 bits of v = i, 4 + i, 8 + i, 12 + i from
//     bit 0, 2, 4 and 6;
//   then the 16 int8 scales and the F16 d as they are.
#pragma once

#include <cstddef>
#include <cstdint>

#include "format/ggml_types.h"

namespace hearth::kernels {

enum class WeightLayout : uint8_t { kGguf, kLanes16 };

// Lane l of a group's 16-lane vectors stands for block 4 * (l % 4) + l / 4 (the
// order the VNNI kernels' fixed reduction tree gives its block sums in).
constexpr int LaneBlock(int l) {
  return 4 * (l % 4) + l / 4;
}

// True if `layout` is defined for weights of `wtype` (kGguf always is).
bool LayoutDefined(GgmlType wtype, WeightLayout layout);

// Rearranges rows [0, n_rows) of `w` (each `row_bytes` long, `n_in` values)
// from the GGUF layout into `layout`, in place, and back. Unpack(Repack(w)) is
// w again, byte for byte. `layout` must be defined for `wtype`.
void RepackRows(GgmlType wtype, WeightLayout layout, uint8_t* w, int64_t n_rows, size_t row_bytes,
                int64_t n_in);
void UnpackRows(GgmlType wtype, WeightLayout layout, uint8_t* w, int64_t n_rows, size_t row_bytes,
                int64_t n_in);

}  // namespace hearth::kernels
