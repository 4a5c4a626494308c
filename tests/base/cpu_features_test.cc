#include "base/cpu_features.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#endif

namespace hearth {
namespace {

std::set<std::string> Tokens(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string t; in >> t;) out.insert(t);
  return out;
}

#if defined(__x86_64__)
// The kernel's view, read independently of the code under test: the first
// "flags" line of /proc/cpuinfo (empty if the file or line is missing).
std::set<std::string> ProcCpuinfoFlags() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) == 0 && line.find(':') != std::string::npos) {
      return Tokens(line.substr(line.find(':') + 1));
    }
  }
  return {};
}
#endif

int AffinityCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  return CPU_COUNT(&set);
}

TEST(CpuFeaturesTest, ImpliedFeaturesAreConsistent) {
  const CpuFeatures& f = GetCpuFeatures();
  // A feature that needs YMM/ZMM state or a base extension can't be usable without it.
  if (f.avx2 || f.fma || f.f16c) {
    EXPECT_TRUE(f.avx);
  }
  if (f.avxvnni) {
    EXPECT_TRUE(f.avx2);
  }
  if (f.avx512f) {
    EXPECT_TRUE(f.avx);
  }
  for (bool sub : {f.avx512bw, f.avx512dq, f.avx512vl, f.avx512vnni, f.avx512bf16, f.avx512fp16}) {
    if (sub) {
      EXPECT_TRUE(f.avx512f);
    }
  }
  if (f.amx_int8 || f.amx_bf16) {
    EXPECT_TRUE(f.amx_tile);
  }
  if (f.dotprod || f.i8mm || f.fp16_arith) {
    EXPECT_TRUE(f.neon);
  }
#if !defined(__x86_64__)
  EXPECT_FALSE(f.avx || f.avx512f || f.amx_tile || f.hypervisor);
#endif
#if !defined(__aarch64__)
  EXPECT_FALSE(f.neon || f.dotprod || f.i8mm || f.sve);
#endif
}

TEST(CpuFeaturesTest, UsableListMatchesFlags) {
  const CpuFeatures& f = GetCpuFeatures();
  const std::set<std::string> listed = Tokens(f.UsableList());
  const std::pair<bool, const char*> expected[] = {
      {f.sse42, "SSE4.2"},
      {f.avx, "AVX"},
      {f.avx2, "AVX2"},
      {f.fma, "FMA"},
      {f.f16c, "F16C"},
      {f.avx512f, "AVX512F"},
      {f.avx512bw, "AVX512BW"},
      {f.avx512vnni, "AVX512VNNI"},
      {f.avx512bf16, "AVX512BF16"},
      {f.avxvnni, "AVXVNNI"},
      {f.amx_tile, "AMX-TILE"},
      {f.amx_int8, "AMX-INT8"},
      {f.neon, "NEON"},
      {f.dotprod, "DOTPROD"},
      {f.i8mm, "I8MM"},
      {f.sve, "SVE"},
  };
  for (const auto& [on, name] : expected) {
    EXPECT_EQ(on, listed.count(name) == 1) << name << " in '" << f.UsableList() << "'";
  }
  // Fixed order: AVX comes before AVX2, which comes before any AVX512 name.
  const std::string s = f.UsableList();
  if (f.avx2 && f.avx512f) {
    EXPECT_LT(s.find("AVX2"), s.find("AVX512F"));
  }
  if (f.avx && f.avx2) {
    EXPECT_LT(s.find("AVX "), s.find("AVX2"));
  }
}

#if defined(__x86_64__)
TEST(CpuFeaturesTest, MatchesProcCpuinfoFlags) {
  const std::set<std::string> flags = ProcCpuinfoFlags();
  if (flags.empty()) GTEST_SKIP() << "/proc/cpuinfo has no flags line here";
  const CpuFeatures& f = GetCpuFeatures();
  // Linux lists a feature only if the CPU has it and the kernel enabled its state,
  // which is the same condition as ours (AMX also needs our permission request).
  EXPECT_EQ(f.avx, flags.count("avx") == 1);
  EXPECT_EQ(f.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(f.fma, flags.count("fma") == 1);
  EXPECT_EQ(f.f16c, flags.count("f16c") == 1);
  EXPECT_EQ(f.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(f.avx512bw, flags.count("avx512bw") == 1);
  EXPECT_EQ(f.avx512vnni, flags.count("avx512_vnni") == 1);
  EXPECT_EQ(f.avx512bf16, flags.count("avx512_bf16") == 1);
  EXPECT_EQ(f.avxvnni, flags.count("avx_vnni") == 1);
  EXPECT_EQ(f.hypervisor, flags.count("hypervisor") == 1);
  if (f.amx_tile) {
    EXPECT_EQ(flags.count("amx_tile"), 1u);
  }
  if (f.amx_int8) {
    EXPECT_EQ(flags.count("amx_int8"), 1u);
  }
}

TEST(CpuFeaturesTest, AmxPermissionWasGranted) {
  const CpuFeatures& f = GetCpuFeatures();
  if (!f.amx_tile) GTEST_SKIP() << "no usable AMX on this machine";
  // ARCH_GET_XCOMP_PERM returns the permitted xfeature mask; bit 18 = XTILEDATA.
  uint64_t mask = 0;
  ASSERT_EQ(syscall(SYS_arch_prctl, 0x1022, &mask), 0);
  EXPECT_TRUE((mask >> 18) & 1u);
}

// The model name is the CPUID brand string, which is what the kernel shows in
// /proc/cpuinfo, except where a hypervisor gives the guest's kernel and its
// programs different strings (seen: "AMD EPYC" in /proc/cpuinfo, "Oxide
// Virtual Turin-like Processor" from CPUID). Then it must be the brand string
// as read here with the cpuid instruction, trimmed of NULs and spaces.
TEST(CpuFeaturesTest, ModelNameMatchesProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string expected = CpuinfoModelName(ss.str());
  if (expected.empty()) GTEST_SKIP() << "/proc/cpuinfo has no model name";
  const std::string name = GetCpuFeatures().model_name;
  if (name == expected) return;
  unsigned regs[12] = {};
  ASSERT_TRUE(__get_cpuid(0x80000000u, &regs[0], &regs[1], &regs[2], &regs[3]) &&
              regs[0] >= 0x80000004u)
      << "model name '" << name << "', /proc/cpuinfo '" << expected << "', no brand string";
  for (unsigned i = 0; i < 3; ++i) {
    __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                &regs[4 * i + 3]);
  }
  std::string brand(reinterpret_cast<const char*>(regs), sizeof(regs));
  brand = brand.substr(0, brand.find('\0'));
  brand.erase(0, brand.find_first_not_of(' '));
  brand.erase(brand.find_last_not_of(' ') + 1);
  EXPECT_EQ(name, brand) << "/proc/cpuinfo says '" << expected << "'";
}
#endif

TEST(CpuFeaturesTest, CoreCounts) {
  const CpuFeatures& f = GetCpuFeatures();
  const int affinity = AffinityCount();
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_TRUE(f.logical_cores == affinity || f.logical_cores == online)
      << f.logical_cores << " vs affinity " << affinity << ", online " << online;
  EXPECT_GE(f.physical_cores, 1);
  EXPECT_LE(f.physical_cores, f.logical_cores);
  EXPECT_FALSE(f.arch.empty());
  EXPECT_FALSE(f.model_name.empty());
#if defined(__x86_64__)
  EXPECT_EQ(f.arch, "x86_64");
#elif defined(__aarch64__)
  EXPECT_EQ(f.arch, "aarch64");
#endif
}

// Oracle for physical cores: distinct ("physical id", "core id") pairs in
// /proc/cpuinfo, when this process may run on every online CPU.
TEST(CpuFeaturesTest, PhysicalCoresMatchProcCpuinfo) {
  const CpuFeatures& f = GetCpuFeatures();
  if (AffinityCount() != sysconf(_SC_NPROCESSORS_ONLN)) GTEST_SKIP() << "process is pinned";
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string package, line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const std::string value = line.substr(colon + 1);
    if (key == "physical id") package = value;
    if (key == "core id") cores.insert({package, value});
  }
  if (cores.empty()) GTEST_SKIP() << "/proc/cpuinfo has no core ids";
  EXPECT_EQ(f.physical_cores, static_cast<int>(cores.size()));
}

TEST(CpuFeaturesTest, CachedAndThreadSafe) {
  std::vector<const CpuFeatures*> seen(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&seen, i] { seen[i] = &GetCpuFeatures(); });
  for (std::thread& t : threads) t.join();
  for (const CpuFeatures* p : seen) EXPECT_EQ(p, &GetCpuFeatures());
}

TEST(CpuFeaturesTest, ParseCpuList) {
  std::vector<int> cpus;
  ASSERT_TRUE(ParseCpuList("0-3,8,10-11\n", &cpus));
  EXPECT_EQ(cpus, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  ASSERT_TRUE(ParseCpuList("5", &cpus));
  EXPECT_EQ(cpus, (std::vector<int>{5}));
  ASSERT_TRUE(ParseCpuList("\n", &cpus));
  EXPECT_TRUE(cpus.empty());
  EXPECT_FALSE(ParseCpuList("3-1", &cpus));
  EXPECT_FALSE(ParseCpuList("0-", &cpus));
  EXPECT_FALSE(ParseCpuList("a,b", &cpus));
  EXPECT_FALSE(ParseCpuList("-2", &cpus));
}

TEST(CpuFeaturesTest, CountDistinctCores) {
  EXPECT_EQ(CountDistinctCores({}), 0);
  // Two packages x two cores with SMT: 8 logical CPUs, 4 physical cores.
  EXPECT_EQ(CountDistinctCores({{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}}),
            4);
}

TEST(CpuFeaturesTest, CpuinfoModelName) {
  EXPECT_EQ(
      CpuinfoModelName("processor\t: 0\nvendor_id\t: GenuineIntel\n"
                       "model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\nflags\t: fpu\n"),
      "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz");
  EXPECT_EQ(CpuinfoModelName("processor\t: 0\nBogoMIPS\t: 48.00\nCPU implementer\t: 0x41\n"
                             "CPU part\t: 0xd0b\n\nHardware\t: Qualcomm SM8150\n"),
            "Qualcomm SM8150");
  EXPECT_EQ(CpuinfoModelName("processor\t: 0\nCPU part\t: 0xd08\n"), "Arm CPU part 0xd08");
  EXPECT_EQ(CpuinfoModelName(""), "");
}

}  // namespace
}  // namespace hearth
