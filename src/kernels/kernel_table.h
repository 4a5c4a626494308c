// Internal: the per-ISA kernel tables and the row/token driver they share.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "format/ggml_types.h"
#include "kernels/matmul.h"

namespace hearth::kernels {

// WeightPrefetchBytes() (matmul.h) for the kernels' inner loops: one plain
// load per call of a kernel's row function.
extern std::atomic<int64_t> g_weight_prefetch_bytes;
inline int64_t PrefetchAhead() {
  return g_weight_prefetch_bytes.load(std::memory_order_relaxed);
}

using MatmulFn = void (*)(const MatmulArgs&);

// Each returns the variant's kernel for `wtype`, or nullptr if it has none.
// Defined in the per-ISA translation units (compiled with that ISA's flags).
MatmulFn Avx2QKernel(GgmlType wtype);     // matmul_avx2_q.cc: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
MatmulFn AvxVnniQKernel(GgmlType wtype);  // matmul_avxvnni_q.cc: the same with AVX-VNNI
// The same two files (matmul_avx2_lanes_impl.h): Q4_0 Q8_0 in the kLanes16 layout.
MatmulFn Avx2LanesKernel(GgmlType wtype);
MatmulFn AvxVnniLanesKernel(GgmlType wtype);
MatmulFn Avx2KKernel(GgmlType wtype);        // matmul_avx2_k.cc: Q4_K Q5_K Q6_K
MatmulFn Avx2FKernel(GgmlType wtype);        // matmul_avx2_f.cc: F32 F16 BF16
MatmulFn Avx512FKernel(GgmlType wtype);      // matmul_avx512_f.cc: F32 F16 BF16
MatmulFn Avx512VnniQKernel(GgmlType wtype);  // matmul_vnni_q.cc: Q4_0 Q8_0 ...
MatmulFn Avx512VnniKKernel(GgmlType wtype);  // matmul_vnni_k.cc: Q4_K Q6_K ...
// matmul_vnni_q.cc: Q4_0 Q8_0 Q4_K Q6_K weights in the kLanes16 layout (repack.h).
MatmulFn Avx512VnniLanesKernel(GgmlType wtype);
// matmul_vnni_k_lanes.cc: Q4_K Q6_K weights in the kLanes16 layout (repack.h); used by
// Avx512VnniLanesKernel.
MatmulFn Avx512VnniKLanesKernel(GgmlType wtype);
MatmulFn AmxKernel(GgmlType wtype);   // matmul_amx.cc: Q4_0 Q8_0 (batches of 16+)
MatmulFn AmxKKernel(GgmlType wtype);  // matmul_amx_k.cc: Q4_K Q6_K (batches of 16+)
// quantize_avx512.cc: QuantizeActivationRange for the 8-bit formats, bit-
// identical to the scalar one; false if it does not handle `wtype` (the caller
// falls back).
bool QuantizeActivationsAvx512(GgmlType wtype, const float* x, int64_t n_in, int64_t begin,
                               int64_t end, void* out);
// AArch64 (compiled only for AArch64 targets; matmul_stubs_neon.cc returns
// nullptr elsewhere, as matmul_stubs_x86.cc does for the x86 ones on AArch64).
MatmulFn NeonKernel(GgmlType wtype, bool dotprod);  // matmul_neon.cc: all eleven types
MatmulFn NeonDotKernel(GgmlType wtype);             // matmul_neondot.cc: the eight quantized types
MatmulFn NeonFKernel(GgmlType wtype);               // matmul_neon_f.cc: F32 F16 BF16

// For kernels that work on whole tiles of `tok_unit` tokens x `row_unit` rows:
// runs `rest` (a kernel with the same results) on the tokens past the last
// whole tile (every row) and on the rows past it (the other tokens), and
// returns how many tokens and rows are left in whole tiles: {0, 0} if there
// are none, in which case `rest` has done all of `a`.
struct WholeTiles {
  int n_tok;
  int64_t n_rows;
};
inline WholeTiles RunOutsideWholeTiles(const MatmulArgs& a, int tok_unit, int64_t row_unit,
                                       MatmulFn rest) {
  const int full_tok = a.n_tok / tok_unit * tok_unit;
  const int64_t full_rows = (a.row_end - a.row_begin) / row_unit * row_unit;
  if (full_tok == 0 || full_rows == 0) {
    rest(a);
    return {0, 0};
  }
  if (full_tok < a.n_tok) {
    MatmulArgs r = a;
    r.x += full_tok * a.x_stride;
    r.y += full_tok * a.y_stride;
    r.n_tok -= full_tok;
    rest(r);
  }
  if (full_rows < a.row_end - a.row_begin) {
    MatmulArgs r = a;
    r.row_begin += full_rows;
    r.n_tok = full_tok;
    rest(r);
  }
  return {full_tok, full_rows};
}

// The order in which a call visits its rows: the range is cut into
// kRowStreams equal parts, visited in turn one row at a time, so that memory
// sees several sequential streams at once (each with its own hardware
// prefetch; one stream per core leaves DRAM bandwidth unused in decode).
// Rows left over by the cut come last, in order. Rows are independent, so the
// order never changes a result. Two streams per core measured best together
// with the kernels' L1 software prefetch on a Xeon (four: -5%, one: -5 to -20%
// in tg128). In batches the float kernels read so little per byte that one
// stream per core already saturates; they use a single stream. Decode reads
// its streams in lock step instead (ForRowStreams, DriveRows).
constexpr int64_t kRowStreams = 2;
template <int64_t kStreams = kRowStreams>
inline int64_t StreamRow(int64_t begin, int64_t end, int64_t i) {
  const int64_t part = (end - begin) / kStreams;
  if (i >= part * kStreams) return begin + i;
  return begin + (i % kStreams) * part + i / kStreams;
}

// The rows of StreamRow<N>'s order in lock step: group(r) takes row i of each
// of the N streams together (r[k] = row i of part k, for kernels that read N
// rows in lock step), then single(r) each row left over by the cut, in order.
template <int N, class Group, class Single>
void ForRowStreams(int64_t begin, int64_t end, Group group, Single single) {
  const int64_t part = (end - begin) / N;
  for (int64_t i = 0; i < part; ++i) {
    int64_t r[N];
    for (int k = 0; k < N; ++k) r[k] = begin + k * part + i;
    group(static_cast<const int64_t*>(r));
  }
  for (int64_t r = begin + N * part; r < end; ++r) single(r);
}

// Rows the x86 kernels read in lock step in decode (DriveRows' kDecodeRows):
// on an AMD Zen 5 VM four streams per core read faster than two (tg128 with two
// threads, alternating runs: AVX-512 Q8_0 x1.08, Q4_0 x1.06, Q4_K_M x1.04, F16
// x1.05 to x1.2; AVX2 F16 x1.16, Q8_0 x1.16, Q4_0 x1.08), as plain reads do on
// its good minutes (72-74 vs 64-66 GB/s). The AVX2 K-quant kernels keep two
// (x0.91 with four: their 16 registers do not hold four rows' sums), and so do
// the NEON kernels (not measured).
constexpr int kDecodeRowsX86 = 4;

// Kernels give either Row<T>(w_row, x_rows[T], n_in, out[T]) or, if they can
// read R rows in lock step, Rows<T, R>(w_rows[R], x_rows[T], n_in, out[R * T])
// (out[r * T + t]). Either must compute each (row, token) result with the same
// instruction sequence whatever T (and R) are, so batching never changes bits.
template <class Kernel>
constexpr bool kHasRowPairs = requires(const uint8_t* const* w, const uint8_t* const* x,
                                       int64_t n_in, float* out) {
  Kernel::template Rows<1, 2>(w, x, n_in, out);
};
template <class Kernel, int T>
inline void KernelRow(const uint8_t* w, const uint8_t* const* x, int64_t n_in, float* out) {
  if constexpr (kHasRowPairs<Kernel>) {
    Kernel::template Rows<T, 1>(&w, x, n_in, out);
  } else {
    Kernel::template Row<T>(w, x, n_in, out);
  }
}

// f.template operator()<T, R>() for a runtime token count n (1..4) and row
// count nr (1..2): the kernels' Rows<T, R> are templates.
template <class F>
inline void WithTokensRows(int n, int nr, F&& f) {
  auto rows = [&]<int T>() {
    if (nr == 2) {
      f.template operator()<T, 2>();
    } else {
      f.template operator()<T, 1>();
    }
  };
  if (n == 4) rows.template operator()<4>();
  if (n == 3) rows.template operator()<3>();
  if (n == 2) rows.template operator()<2>();
  if (n == 1) rows.template operator()<1>();
}

// One block of a batch, tokens [tb, tb_end), over every row of `a`: the rows
// (in StreamRow order) two at a time, a last odd one alone, in tiles of about
// 32 KiB of weights; for each group of up to 4 tokens, every unit of the tile,
// so the tile's weights are read from L2 once per group and the group's
// activations from L1 by every unit (one row at a time read a group's
// activations from L2 for every row). rows(w, nr, t, n, out) computes weight
// rows w[0 .. nr) against tokens [t, t + n) into out[j * n + i]; the results
// are stored into a.y. Only the loop order is chosen here, never a result.
template <int64_t kStreams = kRowStreams, class RowsFn>
void ForBatchTiles(const MatmulArgs& a, int tb, int tb_end, RowsFn rows) {
  const int64_t n_rows = a.row_end - a.row_begin;
  const int64_t n_units = (n_rows + 1) / 2;
  const int64_t tile =
      std::max<int64_t>(1, (int64_t{32} << 10) / static_cast<int64_t>(a.row_bytes));
  for (int64_t u0 = 0; u0 < n_units; u0 += tile) {
    const int64_t u1 = std::min(n_units, u0 + tile);
    for (int t = tb; t < tb_end; t += 4) {
      const int n = std::min(4, tb_end - t);
      for (int64_t u = u0; u < u1; ++u) {
        const int nr = n_rows - 2 * u >= 2 ? 2 : 1;
        int64_t r[2];
        const uint8_t* w[2];
        for (int j = 0; j < nr; ++j) {
          r[j] = StreamRow<kStreams>(a.row_begin, a.row_end, 2 * u + j);
          w[j] = a.w + r[j] * a.row_bytes;
        }
        float out[8];
        rows(w, nr, t, n, out);
        for (int j = 0; j < nr; ++j) {
          for (int i = 0; i < n; ++i) a.y[(t + i) * a.y_stride + r[j]] = out[j * n + i];
        }
      }
    }
  }
}

// Runs the kernel over every row of `a` and every group of up to 4 tokens.
// Tokens are taken in blocks whose activation rows (~256 KiB) stay in L2 while
// all of this call's weight rows pass over them: a prefill of hundreds of
// tokens would otherwise stream every activation row from L3 for every weight
// row. The block size changes only the loop order, never a result. A kernel
// that has Rows takes each block through ForBatchTiles, and one token (decode)
// as kDecodeRows streams read in lock step (ForRowStreams; whatever kStreams,
// which orders the batches' rows); the others, one row at a time.
template <class Kernel, int64_t kStreams = kRowStreams, int kDecodeRows = 2>
void DriveRows(const MatmulArgs& a) {
  if constexpr (kHasRowPairs<Kernel>) {
    if (a.n_tok == 1) {
      const uint8_t* x[1] = {a.x};
      constexpr int N = kDecodeRows;
      ForRowStreams<N>(
          a.row_begin, a.row_end,
          [&](const int64_t* r) {
            const uint8_t* w[N];
            for (int k = 0; k < N; ++k) w[k] = a.w + r[k] * a.row_bytes;
            float out[N];
            Kernel::template Rows<1, N>(w, x, a.n_in, out);
            for (int k = 0; k < N; ++k) a.y[r[k]] = out[k];
          },
          [&](int64_t r) {
            float out[1];
            KernelRow<Kernel, 1>(a.w + r * a.row_bytes, x, a.n_in, out);
            a.y[r] = out[0];
          });
      return;
    }
  }
  int64_t block = (int64_t{256} << 10) / (a.x_stride > 0 ? a.x_stride : 1) / 4 * 4;
  if (block < 4) block = 4;
  for (int tb = 0; tb < a.n_tok; tb += static_cast<int>(block)) {
    const int tb_end = a.n_tok - tb < block ? a.n_tok : tb + static_cast<int>(block);
    if constexpr (kHasRowPairs<Kernel>) {
      ForBatchTiles<kStreams>(
          a, tb, tb_end, [&](const uint8_t* const* w, int nr, int t, int n, float* out) {
            const uint8_t* x[4];
            for (int i = 0; i < n; ++i) x[i] = a.x + (t + i) * a.x_stride;
            WithTokensRows(n, nr,
                           [&]<int T, int R>() { Kernel::template Rows<T, R>(w, x, a.n_in, out); });
          });
      continue;
    }
    for (int64_t k = 0; k < a.row_end - a.row_begin; ++k) {
      const int64_t r = StreamRow<kStreams>(a.row_begin, a.row_end, k);
      const uint8_t* w = a.w + r * a.row_bytes;
      int t = tb;
      const uint8_t* x[4];
      float out[4];
      auto store = [&](int n) {
        for (int i = 0; i < n; ++i) a.y[(t + i) * a.y_stride + r] = out[i];
      };
      for (; t + 4 <= tb_end; t += 4) {
        for (int i = 0; i < 4; ++i) x[i] = a.x + (t + i) * a.x_stride;
        KernelRow<Kernel, 4>(w, x, a.n_in, out);
        store(4);
      }
      const int rem = tb_end - t;
      for (int i = 0; i < rem; ++i) x[i] = a.x + (t + i) * a.x_stride;
      if (rem == 3) KernelRow<Kernel, 3>(w, x, a.n_in, out);
      if (rem == 2) KernelRow<Kernel, 2>(w, x, a.n_in, out);
      if (rem == 1) KernelRow<Kernel, 1>(w, x, a.n_in, out);
      store(rem);
    }
  }
}

}  // namespace hearth::kernels
