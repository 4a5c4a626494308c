#include "base/cpu_features.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include "base/strings.h"
#include "base/sysinfo.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace hearth {
namespace {

#if defined(__x86_64__)

struct Regs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs Cpuid(uint32_t leaf, uint32_t subleaf) {
  Regs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) return Regs();
  return r;
}

bool Bit(uint32_t reg, int bit) {
  return ((reg >> bit) & 1u) != 0;
}

// XGETBV(0) = XCR0, the register state the OS saves on context switch. Written
// as raw asm so this file needs no -mxsave.
uint64_t ReadXcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Linux keeps AMX tile data disabled per process until requested
// (arch/x86/include/uapi/asm/prctl.h). Granting is process-wide and sticky.
bool RequestAmxPermission() {
#if defined(__linux__)
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

std::string RegsToString(const uint32_t* regs, int n) {
  std::string s(reinterpret_cast<const char*>(regs), static_cast<size_t>(n) * 4);
  s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
  return std::string(StripWhitespace(s));
}

void DetectX86(CpuFeatures* f) {
  const uint32_t max_leaf = Cpuid(0, 0).eax;
  const Regs l1 = Cpuid(1, 0);
  const Regs l7 = max_leaf >= 7 ? Cpuid(7, 0) : Regs();
  const Regs l7s1 = (max_leaf >= 7 && l7.eax >= 1) ? Cpuid(7, 1) : Regs();

  const bool osxsave = Bit(l1.ecx, 27);
  const uint64_t xcr0 = osxsave ? ReadXcr0() : 0;
  const bool ymm_state = (xcr0 & 0x6) == 0x6;                     // XMM (1) + YMM (2)
  const bool zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0;      // opmask, ZMM_Hi256, Hi16_ZMM
  const bool tile_state = (xcr0 & (3ull << 17)) == (3ull << 17);  // XTILECFG + XTILEDATA

  f->sse42 = Bit(l1.ecx, 20);
  f->hypervisor = Bit(l1.ecx, 31);

  const bool cpu_avx = Bit(l1.ecx, 28);
  f->avx = cpu_avx && ymm_state;
  f->fma = f->avx && Bit(l1.ecx, 12);
  f->f16c = f->avx && Bit(l1.ecx, 29);
  f->avx2 = f->avx && Bit(l7.ebx, 5);
  f->avxvnni = f->avx2 && Bit(l7s1.eax, 4);

  const bool cpu_avx512 = Bit(l7.ebx, 16);
  if (cpu_avx512 && zmm_state) {
    f->avx512f = true;
    f->avx512dq = Bit(l7.ebx, 17);
    f->avx512bw = Bit(l7.ebx, 30);
    f->avx512vl = Bit(l7.ebx, 31);
    f->avx512vnni = Bit(l7.ecx, 11);
    f->avx512bf16 = Bit(l7s1.eax, 5);
    f->avx512fp16 = Bit(l7.edx, 23);
  }

  const bool cpu_amx = Bit(l7.edx, 24);
  if (cpu_amx && tile_state && RequestAmxPermission()) {
    f->amx_tile = true;
    f->amx_int8 = Bit(l7.edx, 25);
    f->amx_bf16 = Bit(l7.edx, 22);
  }

  std::vector<std::string> off;
  if (cpu_avx && !f->avx) off.push_back("AVX");
  if (cpu_avx512 && !f->avx512f) off.push_back("AVX512");
  if (cpu_amx && !f->amx_tile) off.push_back("AMX");
  for (const std::string& s : off) {
    if (!f->not_enabled_by_os.empty()) f->not_enabled_by_os += ' ';
    f->not_enabled_by_os += s;
  }

  if (Cpuid(0x80000000u, 0).eax >= 0x80000004u) {
    uint32_t brand[12];
    for (uint32_t i = 0; i < 3; ++i) {
      const Regs r = Cpuid(0x80000002u + i, 0);
      brand[i * 4 + 0] = r.eax;
      brand[i * 4 + 1] = r.ebx;
      brand[i * 4 + 2] = r.ecx;
      brand[i * 4 + 3] = r.edx;
    }
    f->model_name = RegsToString(brand, 12);
  }

  if (f->hypervisor) {
    // Leaves 0x40000000+ belong to the hypervisor and are valid when bit 31 is
    // set; __get_cpuid_count would reject them (it checks the basic max leaf).
    Regs h;
    __cpuid_count(0x40000000u, 0, h.eax, h.ebx, h.ecx, h.edx);
    const uint32_t sig[3] = {h.ebx, h.ecx, h.edx};
    f->hypervisor_vendor = RegsToString(sig, 3);
  }
}

#endif  // __x86_64__

#if defined(__aarch64__) && defined(__linux__)
void DetectAarch64(CpuFeatures* f) {
  // Bit positions from arch/arm64/include/uapi/asm/hwcap.h (spelled out so
  // older libc headers do not matter).
  constexpr unsigned long kHwcapFphp = 1ul << 9, kHwcapAsimd = 1ul << 1;
  constexpr unsigned long kHwcapAsimdhp = 1ul << 10, kHwcapAsimddp = 1ul << 20;
  constexpr unsigned long kHwcapSve = 1ul << 22, kHwcap2I8mm = 1ul << 13;
  const unsigned long hw = getauxval(AT_HWCAP);
  const unsigned long hw2 = getauxval(AT_HWCAP2);
  f->neon = (hw & kHwcapAsimd) != 0;
  f->dotprod = (hw & kHwcapAsimddp) != 0;
  f->fp16_arith = (hw & kHwcapFphp) != 0 && (hw & kHwcapAsimdhp) != 0;
  f->sve = (hw & kHwcapSve) != 0;
  f->i8mm = (hw2 & kHwcap2I8mm) != 0;
}
#endif

// CPUs this process may run on, or empty if unknown.
std::vector<int> AffinityCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  return cpus;
}

bool ReadSysInt(const std::string& path, int* out) {
  Result<std::string> text = ReadSmallFile(path, 64);
  int64_t v = 0;
  if (!text.ok() || !ParseInt64(StripWhitespace(*text), &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

void DetectCores(CpuFeatures* f) {
  std::vector<int> cpus = AffinityCpus();
  if (cpus.empty()) {
    // No affinity information: every online CPU.
    Result<std::string> online = ReadSmallFile("/sys/devices/system/cpu/online", 4096);
    if (!online.ok() || !ParseCpuList(*online, &cpus)) cpus.clear();
  }
  if (cpus.empty()) {
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    f->logical_cores = f->physical_cores = n > 0 ? static_cast<int>(n) : 1;
    return;
  }
  f->logical_cores = static_cast<int>(cpus.size());

  // SMT siblings share (physical_package_id, core_id). Only the CPUs we may run
  // on are counted, so a process pinned to 2 of 16 cores sees at most 2.
  std::vector<std::pair<int, int>> pairs;
  for (int cpu : cpus) {
    const std::string dir = StrFormat("/sys/devices/system/cpu/cpu%d/topology/", cpu);
    int package = 0, core = 0;
    if (!ReadSysInt(dir + "physical_package_id", &package) || !ReadSysInt(dir + "core_id", &core)) {
      pairs.clear();
      break;
    }
    pairs.emplace_back(package, core);
  }
  const int physical = CountDistinctCores(pairs);
  f->physical_cores = physical > 0 ? physical : f->logical_cores;
}

std::string MachineArch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  struct utsname u;
  return uname(&u) == 0 ? std::string(u.machine) : "unknown";
#endif
}

CpuFeatures Detect() {
  CpuFeatures f;
  f.arch = MachineArch();
#if defined(__x86_64__)
  DetectX86(&f);
#elif defined(__aarch64__) && defined(__linux__)
  DetectAarch64(&f);
#elif defined(__aarch64__)
  f.neon = true;  // AArch64 makes Advanced SIMD mandatory.
#endif
  if (f.model_name.empty()) {
    Result<std::string> cpuinfo = ReadSmallFile("/proc/cpuinfo", 4 << 20);
    if (cpuinfo.ok()) f.model_name = CpuinfoModelName(*cpuinfo);
  }
  if (f.model_name.empty()) f.model_name = "unknown";
  DetectCores(&f);
  return f;
}

}  // namespace

std::string CpuFeatures::UsableList() const {
  const std::pair<bool, const char*> kOrder[] = {
      {sse42, "SSE4.2"},
      {avx, "AVX"},
      {avx2, "AVX2"},
      {fma, "FMA"},
      {f16c, "F16C"},
      {avx512f, "AVX512F"},
      {avx512dq, "AVX512DQ"},
      {avx512bw, "AVX512BW"},
      {avx512vl, "AVX512VL"},
      {avx512vnni, "AVX512VNNI"},
      {avx512bf16, "AVX512BF16"},
      {avx512fp16, "AVX512FP16"},
      {avxvnni, "AVXVNNI"},
      {amx_tile, "AMX-TILE"},
      {amx_int8, "AMX-INT8"},
      {amx_bf16, "AMX-BF16"},
      {neon, "NEON"},
      {dotprod, "DOTPROD"},
      {i8mm, "I8MM"},
      {fp16_arith, "FP16"},
      {sve, "SVE"},
  };
  std::string out;
  for (const auto& [on, name] : kOrder) {
    if (!on) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();  // C++11 magic static: thread-safe, once
  return features;
}

bool ParseCpuList(std::string_view text, std::vector<int>* cpus) {
  cpus->clear();
  text = StripWhitespace(text);
  if (text.empty()) return true;  // an empty list is valid (e.g. "offline" file)
  for (std::string_view part : StrSplit(text, ',')) {
    part = StripWhitespace(part);
    const size_t dash = part.find('-');
    int64_t lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!ParseInt64(part, &lo)) return false;
      hi = lo;
    } else if (!ParseInt64(part.substr(0, dash), &lo) || !ParseInt64(part.substr(dash + 1), &hi)) {
      return false;
    }
    if (lo < 0 || hi < lo || hi >= (1 << 20)) return false;
    for (int64_t c = lo; c <= hi; ++c) cpus->push_back(static_cast<int>(c));
  }
  return true;
}

int CountDistinctCores(const std::vector<std::pair<int, int>>& package_core_pairs) {
  return static_cast<int>(
      std::set<std::pair<int, int>>(package_core_pairs.begin(), package_core_pairs.end()).size());
}

std::string CpuinfoModelName(std::string_view cpuinfo) {
  std::string hardware, part;
  for (std::string_view line : StrSplit(cpuinfo, '\n')) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = StripWhitespace(line.substr(0, colon));
    const std::string_view value = StripWhitespace(line.substr(colon + 1));
    if (value.empty()) continue;
    if (key == "model name") return std::string(value);
    if (key == "Hardware" && hardware.empty()) hardware = value;
    if (key == "CPU part" && part.empty()) part = value;
  }
  if (!hardware.empty()) return hardware;
  if (!part.empty()) return "Arm CPU part " + part;
  return "";
}

}  // namespace hearth
