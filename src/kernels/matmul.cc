// ISA selection and the one-switch dispatch of Matmul to a per-ISA kernel.
#include "kernels/matmul.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "base/cpu_features.h"
#include "kernels/kernel_table.h"

namespace hearth::kernels {
namespace {

bool CanRun(Isa isa) {
  const CpuFeatures& f = GetCpuFeatures();
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return avx2;
    case Isa::kAvxVnni:
      return avx2 && f.avxvnni;
    case Isa::kAvx512:
      return avx512;
    case Isa::kAvx512Vnni:
      return avx512 && f.avx512vnni;
    case Isa::kAmx:
      return avx512 && f.avx512vnni && f.amx_tile && f.amx_int8;
    case Isa::kNeon:
      return f.neon;
    case Isa::kNeonDot:
      return f.neon && f.dotprod;
  }
  return false;
}

Isa DetectIsa() {
  Isa all[8];
  const int n = AvailableIsas(all);
  Isa best = all[n - 1];
  if (const char* env = std::getenv("HEARTH_ISA")) {
    for (int i = 0; i < n; ++i) {
      if (std::strcmp(env, IsaName(all[i])) == 0) best = all[i];
    }
  }
  return best;
}

// The scalar variant: the reference itself.
void ScalarMatmul(const MatmulArgs& a) {
  for (int64_t r = a.row_begin; r < a.row_end; ++r) {
    for (int t = 0; t < a.n_tok; ++t) {
      a.y[t * a.y_stride + r] =
          DotRef(a.wtype, a.w + r * a.row_bytes, a.x + t * a.x_stride, a.n_in);
    }
  }
}

MatmulFn Avx2Kernel(GgmlType t) {
  if (MatmulFn f = Avx2QKernel(t)) return f;
  if (MatmulFn f = Avx2KKernel(t)) return f;
  return Avx2FKernel(t);
}

MatmulFn SelectKernel(GgmlType t, Isa isa) {
  MatmulFn f = nullptr;
  switch (isa) {
    case Isa::kNeonDot:
    case Isa::kNeon:
      if ((f = NeonKernel(t, isa == Isa::kNeonDot))) return f;
      break;
    case Isa::kAmx:
      if ((f = AmxKernel(t)) || (f = AmxKKernel(t))) return f;
      [[fallthrough]];
    case Isa::kAvx512Vnni:
      if ((f = Avx512VnniQKernel(t)) || (f = Avx512VnniKKernel(t))) return f;
      [[fallthrough]];
    case Isa::kAvx512:
      if ((f = Avx512FKernel(t))) return f;
      [[fallthrough]];
    case Isa::kAvxVnni:
      // Also for the AVX-512 variants' types without an AVX-512 kernel (Q4_1,
      // Q5_0, Q5_1) where the CPU has AVX-VNNI (Zen 5, Sapphire Rapids).
      if (CanRun(Isa::kAvxVnni) && (f = AvxVnniQKernel(t))) return f;
      [[fallthrough]];
    case Isa::kAvx2:
      if ((f = Avx2Kernel(t))) return f;
      [[fallthrough]];
    case Isa::kScalar:
      break;
  }
  return &ScalarMatmul;
}

// Weights in a repacked layout on an ISA without a kernel for it: each row
// unpacked into a buffer, then the ISA's kGguf kernel.
void UnpackedMatmul(const MatmulArgs& a, Isa isa) {
  thread_local std::vector<uint8_t> row;
  row.resize(a.row_bytes);
  for (int64_t r = a.row_begin; r < a.row_end; ++r) {
    std::memcpy(row.data(), a.w + r * a.row_bytes, a.row_bytes);
    UnpackRows(a.wtype, a.layout, row.data(), 1, a.row_bytes, a.n_in);
    MatmulArgs b = a;
    b.w = row.data();
    b.y = a.y + r;
    b.row_begin = 0;
    b.row_end = 1;
    b.layout = WeightLayout::kGguf;
    SelectKernel(a.wtype, isa)(b);
  }
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvxVnni:
      return "avx-vnni";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx512Vnni:
      return "avx512-vnni";
    case Isa::kAmx:
      return "amx";
    case Isa::kNeon:
      return "neon";
    case Isa::kNeonDot:
      return "neon-dotprod";
  }
  return "unknown";
}

int AvailableIsas(Isa out[8]) {
  int n = 0;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni,
                  Isa::kAmx, Isa::kNeon, Isa::kNeonDot}) {
    if (CanRun(isa)) out[n++] = isa;
  }
  return n;
}

namespace {
constexpr int64_t kDefaultWeightPrefetchBytes = 2048;
}  // namespace

std::atomic<int64_t> g_weight_prefetch_bytes{kDefaultWeightPrefetchBytes};

int64_t WeightPrefetchBytes() {
  return PrefetchAhead();
}

void SetWeightPrefetchBytes(int64_t bytes) {
  g_weight_prefetch_bytes.store(bytes > 0 ? bytes : kDefaultWeightPrefetchBytes,
                                std::memory_order_relaxed);
}

bool HasSimdKernel(GgmlType wtype, Isa isa) {
  return SelectKernel(wtype, isa) != &ScalarMatmul;
}

Isa ActiveIsa() {
  static const Isa isa = DetectIsa();
  return isa;
}

void Matmul(const MatmulArgs& a, Isa isa) {
  HEARTH_CHECK(MatmulSupports(a.wtype), "no matmul for weight type %u",
               static_cast<unsigned>(a.wtype));
  if (a.row_begin >= a.row_end || a.n_tok <= 0) return;
  if (!CanRun(isa)) isa = ActiveIsa();
  if (a.layout == WeightLayout::kGguf) {
    SelectKernel(a.wtype, isa)(a);
    return;
  }
  HEARTH_CHECK(LayoutDefined(a.wtype, a.layout), "weight type %u has no layout %u",
               static_cast<unsigned>(a.wtype), static_cast<unsigned>(a.layout));
  MatmulFn f = nullptr;
  if (isa == Isa::kAvx512Vnni || isa == Isa::kAmx) {
    f = Avx512VnniLanesKernel(a.wtype);
  } else if (isa == Isa::kAvx512 || isa == Isa::kAvxVnni) {
    // AVX-512 without VNNI has no kernel of its own for these types (as in SelectKernel).
    f = CanRun(Isa::kAvxVnni) ? AvxVnniLanesKernel(a.wtype) : Avx2LanesKernel(a.wtype);
  } else if (isa == Isa::kAvx2) {
    f = Avx2LanesKernel(a.wtype);
  }
  if (f != nullptr) {
    f(a);
  } else {
    UnpackedMatmul(a, isa);
  }
}

WeightLayout PreferredLayout(GgmlType wtype, Isa isa) {
  if (!CanRun(isa)) return WeightLayout::kGguf;
  if (isa == Isa::kAvx512Vnni && LayoutDefined(wtype, WeightLayout::kLanes16))
    return WeightLayout::kLanes16;
  const bool avx2_lanes = isa == Isa::kAvx2 || isa == Isa::kAvxVnni || isa == Isa::kAvx512;
  if (avx2_lanes && (wtype == GgmlType::kQ4_0 || wtype == GgmlType::kQ8_0))
    return WeightLayout::kLanes16;
  return WeightLayout::kGguf;
}

}  // namespace hearth::kernels
