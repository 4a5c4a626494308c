// CPU identification and the ISA features usable at run time (CPU support AND
// OS-enabled register state, e.g. XCR0 for AVX/AVX-512, the AMX tile permission).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth {

struct CpuFeatures {
  std::string arch;        // "x86_64", "aarch64", ...
  std::string model_name;  // "Intel(R) Xeon(R) ..." or "unknown"
  int logical_cores = 1;   // online logical CPUs usable by this process
  int physical_cores = 1;  // distinct physical cores (SMT siblings counted once)

  // x86-64 (usable = CPU reports it and the OS saves the state).
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512vnni = false, avx512bf16 = false, avx512fp16 = false, avxvnni = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;  // AMX after the OS granted it
  bool hypervisor = false;  // CPUID "running under a hypervisor" bit
  // CPUID leaf 0x40000000 vendor signature ("KVMKVMKVM", "Microsoft Hv", ...), or "".
  std::string hypervisor_vendor;
  // Features the CPU reports but the OS does not let us use (XCR0 state not
  // enabled, AMX permission refused), space-separated, e.g. "AVX512 AMX"; "" if none.
  std::string not_enabled_by_os;

  // AArch64.
  bool neon = false, dotprod = false, i8mm = false, fp16_arith = false, sve = false;

  // Space-separated usable features in a fixed order, e.g. "AVX2 FMA F16C AVX512F ...".
  std::string UsableList() const;
};

// Detected once (thread-safe) and cached. Cost: a few CPUID instructions and
// reading /sys topology files (well under a millisecond). On x86-64 Linux the
// first call also asks the kernel for permission to use AMX tile data
// (arch_prctl ARCH_REQ_XCOMP_PERM), so AMX kernels can run later in any thread.
const CpuFeatures& GetCpuFeatures();

// Pure helpers, exposed for tests.
// Parses a kernel CPU list such as "0-3,8,10-11" (from /sys/devices/system/cpu/online);
// returns false on malformed input.
bool ParseCpuList(std::string_view text, std::vector<int>* cpus);
// Number of distinct (package, core) pairs; empty input gives 0.
int CountDistinctCores(const std::vector<std::pair<int, int>>& package_core_pairs);
// The "model name" (x86) or "Hardware"/"CPU part" (Arm) of a /proc/cpuinfo text, or "".
std::string CpuinfoModelName(std::string_view cpuinfo);

}  // namespace hearth
