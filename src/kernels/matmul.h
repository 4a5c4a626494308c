// Weight x activation products for every engine weight type, with runtime ISA
// dispatch (scalar reference, AVX2+FMA+F16C, AVX-512 BW/VNNI, AMX; AArch64 NEON
// and NEON+dotprod).
//
// Weights are read in their GGUF block format (mmap'd), or in a layout that a
// caller owning them repacked them into for this ISA (MatmulArgs::layout,
// repack.h). Activations are first
// converted once per token row into the format the weight type's dot product
// consumes (QuantizeActivations): 8-bit blocks for the quantized types, F32
// (as is) for F32/F16/BF16 weights.
//
// Determinism contract: the value of Y[t][r] depends only on weight row r and
// activation row t — never on the row range [row_begin, row_end) a thread was
// given, nor on n_tok or on t's position in the batch. Matmul over a batch gives
// bit-identical results to MatVec of each token alone. Different ISA variants
// may differ from each other (within the kernel tests' tolerances).
#pragma once

#include <cstddef>
#include <cstdint>

#include "format/ggml_types.h"
#include "kernels/repack.h"

namespace hearth::kernels {

// kAmx = AVX-512 VNNI plus AMX tiles for batches (bit-identical to kAvx512Vnni).
// kNeonDot = NEON plus sdot for the integer block dots (bit-identical to kNeon).
enum class Isa { kScalar, kAvx2, kAvxVnni, kAvx512, kAvx512Vnni, kAmx, kNeon, kNeonDot };
// "scalar", "avx2", "avx-vnni", "avx512", "avx512-vnni", "amx", "neon", "neon-dotprod"
// (avx-vnni: AVX2 with the 256-bit VEX int8 dot products of CPUs without AVX-512)
const char* IsaName(Isa isa);

// The best variant this CPU can run (detected once), or the one forced by
// HEARTH_ISA=<IsaName> (for tests and benchmarks; a request
// the CPU cannot run falls back to the best available).
Isa ActiveIsa();
// Every variant the CPU can run, scalar first.
int AvailableIsas(Isa out[8]);
// True if Matmul(wtype, isa) runs a SIMD kernel (the variant's own or one it
// inherits from a lower variant), false if it would fall back to the scalar
// reference. Lets tests catch a dispatch that silently degrades to scalar.
bool HasSimdKernel(GgmlType wtype, Isa isa);

// True if Matmul/DotRef handle weights of `wtype` (F32, F16, BF16, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K).
bool MatmulSupports(GgmlType wtype);

// Bytes of one activation row of n_in values prepared for weights of `wtype`.
// Layouts (see kernels/act_layout.h), no alignment required anywhere:
//   F32/F16/BF16 weights: float[n_in] (the activations as they are).
//   Q4_0/Q4_1/Q5_0/Q5_1/Q8_0: int8 q[n_in]; float d[n_in/32]; int32 sum[n_in/32]
//     value j = d[j/32] * q[j]; sum[b] = sum of block b's q.
//   Q4_K/Q5_K/Q6_K: int8 q[n_in]; float d[n_in/256]; int16 bsum[n_in/16]
//     value j = d[j/256] * q[j]; bsum[s] = sum of the 16 q of sub-block s.
size_t ActivationRowBytes(GgmlType wtype, int64_t n_in);
// Converts one activation row x[n_in] into the format for `wtype` (n_in a whole
// number of the type's blocks). Per block: d = amax / 127, q = round-to-nearest-
// even(x * (127 / amax)) in [-127, 127] (all zero if amax == 0 or is not
// finite; NaN values do not count for amax). The scalar implementation is the
// spec; the AVX-512 one (isa avx512 and up) writes the same bytes, so prepared
// rows are identical across ISAs.
void QuantizeActivations(GgmlType wtype, const float* x, int64_t n_in, void* out, Isa isa);
// The values a prepared row's blocks cover: 1 (F32/F16/BF16), 32 or 256.
int64_t ActivationBlock(GgmlType wtype);
// Prepares only values [begin, end) of the row (multiples of ActivationBlock):
// the bytes of `out` that QuantizeActivations gives those values (codes, their
// blocks' scales and sums), identical to its, and no other byte. Threads may
// prepare disjoint ranges of one row at the same time.
void QuantizeActivationRange(GgmlType wtype, const float* x, int64_t n_in, int64_t begin,
                             int64_t end, void* out, Isa isa);

struct MatmulArgs {
  GgmlType wtype;
  const uint8_t* w;  // weight rows, each `row_bytes` long: row r = w + r * row_bytes
  size_t row_bytes;
  int64_t n_in;      // values per row
  const uint8_t* x;  // prepared activations: token t at x + t * x_stride
  size_t x_stride;
  int n_tok;
  float* y;  // Y[t][r] at y + t * y_stride + r
  int64_t y_stride;
  int64_t row_begin;  // rows computed: [row_begin, row_end)
  int64_t row_end;
  WeightLayout layout = WeightLayout::kGguf;  // how `w`'s rows are laid out (repack.h)
};

// The layout Matmul(·, isa) reads weights of `wtype` fastest in: kLanes16 for
// Q4_0, Q8_0, Q4_K and Q6_K with avx512-vnni (not amx, whose batch kernels read kGguf)
// and for Q4_0 and Q8_0 with avx2, avx-vnni and avx512; kGguf otherwise. A caller that owns the
// weights may repack them into it (RepackRows); results stay bit-identical.
WeightLayout PreferredLayout(GgmlType wtype, Isa isa);

// Y[t][r] = dot(W[r], X[t]) for r in [row_begin, row_end), t in [0, n_tok).
// Weights in a layout other than kGguf give the same bits as the same rows in
// kGguf; an ISA without a kernel for that layout unpacks each row first (slow,
// for tests and odd configurations only).
// The kernel is chosen once per call from (wtype, isa); a type without a
// variant for `isa` uses the next lower one (AVX-512 -> AVX-VNNI if the CPU
// has it -> AVX2 -> scalar, AVX-VNNI -> AVX2, NEON+dotprod -> NEON -> scalar).
// Thread safety: pure function of its inputs; callers may run disjoint row
// ranges concurrently. Cost: reads the rows' weights once per group of up to 4
// tokens (each loaded weight block is reused across the group).
// Reduction order of each Y[t][r] (fixed by n_in and the weight layout only,
// independent of n_tok, of t's position in the batch and of the row split):
// integer block sums are exact; their scaled float partials go into a fixed
// set of accumulators chosen by block index and are combined in a fixed tree.
// Each variant states its order at the top of its file (matmul_avx2_*.cc,
// matmul_avx512_f.cc, matmul_vnni_*.cc, matmul_neon_*_impl.h, matmul_neon_f.cc).
// The scalar variant is DotRef itself.
void Matmul(const MatmulArgs& a, Isa isa);

// How far ahead of the weight bytes being read the AVX-512 matrix-vector
// kernels prefetch them into L1 (default 2 KiB). Enough bytes must be in flight
// to cover the memory latency at one core's share of the bandwidth, and no
// more: on a Xeon, 3 and 4 KiB streamed less; on a Zen 5 virtual machine, 6 KiB
// streamed 2-5% more while it had 70-80 GB/s to itself and nothing more (-3 to
// +3%) while it had 40-47 GB/s. Changes no result.
int64_t WeightPrefetchBytes();
// Sets it for the whole process, e.g. to compare distances in one benchmark
// run (between calls, not during one); 0 restores the default.
void SetWeightPrefetchBytes(int64_t bytes);

// The scalar reference of one dot product (the spec every variant is tested
// against): dequantized weights (format/quant_ref.cc, float) times prepared
// activations (d * q, exact in double), summed in double in index order and
// rounded once to float.
float DotRef(GgmlType wtype, const uint8_t* w_row, const uint8_t* x_prepared, int64_t n_in);

}  // namespace hearth::kernels
