#include "base/sysinfo.h"
#include "base/bandwidth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/cpu_features.h"

namespace hearth {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

bool HasEvidence(const VirtualizationInfo& v, const std::string& needle) {
  return std::any_of(v.evidence.begin(), v.evidence.end(),
                     [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

// ---- ReadSmallFile -----------------------------------------------------------

TEST(SysinfoTest, ReadSmallFileReadsProcFiles) {
  Result<std::string> status = ReadSmallFile("/proc/self/status");
  if (!status.ok()) GTEST_SKIP() << "no /proc here";
  EXPECT_NE(status->find("VmRSS"), std::string::npos);  // st_size is 0, the text is not
  EXPECT_FALSE(ReadSmallFile("/proc/self/status", 16).ok());
  Result<std::string> missing = ReadSmallFile("/nonexistent/hearth/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// ---- Memory -------------------------------------------------------------------

TEST(SysinfoTest, ParseMeminfo) {
  MemoryInfo m;
  ASSERT_TRUE(ParseMeminfo("MemTotal:       16318788 kB\nMemFree:          523212 kB\n"
                           "MemAvailable:    9875432 kB\nBuffers:          102400 kB\n",
                           &m)
                  .ok());
  EXPECT_EQ(m.total_bytes, 16318788ull * 1024);
  EXPECT_EQ(m.available_bytes, 9875432ull * 1024);

  // Pre-3.14 kernels: no MemAvailable, estimated as MemFree + Buffers + Cached.
  MemoryInfo old;
  ASSERT_TRUE(
      ParseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 30 kB\n", &old)
          .ok());
  EXPECT_EQ(old.available_bytes, 150ull * 1024);

  MemoryInfo bad;
  EXPECT_FALSE(ParseMeminfo("MemFree: 100 kB\n", &bad).ok());
  EXPECT_FALSE(ParseMeminfo("MemTotal: lots kB\n", &bad).ok());
  // "MemTotalX" is not "MemTotal".
  EXPECT_FALSE(ParseMeminfo("MemTotalX: 5 kB\n", &bad).ok());
}

TEST(SysinfoTest, EffectiveAvailable) {
  MemoryInfo m;
  m.available_bytes = 8000 * kMiB;
  EXPECT_EQ(m.EffectiveAvailableBytes(), 8000 * kMiB);  // no cgroup limit
  m.cgroup_limit_bytes = 2000 * kMiB;
  m.cgroup_usage_bytes = 500 * kMiB;
  EXPECT_EQ(m.EffectiveAvailableBytes(), 1500 * kMiB);
  m.cgroup_usage_bytes = 2500 * kMiB;  // over the limit (page cache counts): nothing left
  EXPECT_EQ(m.EffectiveAvailableBytes(), 0u);
  m.cgroup_limit_bytes = 100000 * kMiB;  // a loose limit does not bind
  m.cgroup_usage_bytes = 0;
  EXPECT_EQ(m.EffectiveAvailableBytes(), 8000 * kMiB);
}

TEST(SysinfoTest, ParseCgroupLimit) {
  EXPECT_EQ(ParseCgroupLimit("max\n"), 0u);
  EXPECT_EQ(ParseCgroupLimit("9223372036854771712\n"), 0u);  // v1 "unlimited"
  EXPECT_EQ(ParseCgroupLimit("2147483648\n"), 2147483648u);
  EXPECT_FALSE(ParseCgroupLimit("").has_value());
  EXPECT_FALSE(ParseCgroupLimit("lots").has_value());
}

constexpr char kV2Mountinfo[] =
    "22 1 0:21 / /proc rw,relatime - proc proc rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(SysinfoTest, CgroupV2) {
  std::optional<CgroupMemoryDirs> d =
      FindCgroupMemoryDirs("0::/user.slice/user-1000.slice/session-3.scope\n", kV2Mountinfo);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->v2);
  EXPECT_EQ(d->leaf, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope");
  EXPECT_EQ(d->top, "/sys/fs/cgroup");
  // Inside a container with a cgroup namespace the path is "/".
  d = FindCgroupMemoryDirs("0::/\n", kV2Mountinfo);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->leaf, "/sys/fs/cgroup");
}

TEST(SysinfoTest, CgroupV1AndHybrid) {
  // Hybrid: v1 controllers plus an unused unified hierarchy (like this CI machine).
  const char* cgroup = "4:memory:/process_api/abc123\n3:cpuset:/\n1:cpu,cpuacct:/\n0::/\n";
  const char* mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  std::optional<CgroupMemoryDirs> d = FindCgroupMemoryDirs(cgroup, mountinfo);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->v2);
  EXPECT_EQ(d->leaf, "/sys/fs/cgroup/memory/process_api/abc123");
  EXPECT_EQ(d->top, "/sys/fs/cgroup/memory");

  // Docker without a cgroup namespace: the mount shows only our subtree.
  d = FindCgroupMemoryDirs(
      "9:memory:/docker/f00d\n",
      "40 30 0:40 /docker/f00d /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->leaf, "/sys/fs/cgroup/memory");

  EXPECT_FALSE(FindCgroupMemoryDirs("", "").has_value());
  EXPECT_FALSE(FindCgroupMemoryDirs("garbage\n", "garbage line\n").has_value());
}

TEST(SysinfoTest, MemoryInfoMatchesProcMeminfo) {
  std::ifstream in("/proc/meminfo");
  if (!in) GTEST_SKIP() << "no /proc/meminfo";
  uint64_t total_kb = 0, avail_kb = 0;
  for (std::string key; in >> key;) {
    uint64_t v = 0;
    in >> v;
    if (key == "MemTotal:") total_kb = v;
    if (key == "MemAvailable:") avail_kb = v;
    in.ignore(1 << 10, '\n');
  }
  Result<MemoryInfo> m = GetMemoryInfo();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->total_bytes, total_kb * 1024);
  // MemAvailable moves while other processes run: allow 5% of RAM.
  const double tolerance = 0.05 * static_cast<double>(m->total_bytes);
  EXPECT_NEAR(static_cast<double>(m->available_bytes), avail_kb * 1024.0, tolerance);
  EXPECT_LE(m->available_bytes, m->total_bytes);
  EXPECT_LE(m->EffectiveAvailableBytes(), m->available_bytes);
  if (m->cgroup_limit_bytes == 0) {
    EXPECT_EQ(m->cgroup_usage_bytes, 0u);
  }
}

// ---- Disk and process ---------------------------------------------------------

TEST(SysinfoTest, DiskInfo) {
  Result<DiskInfo> d = GetDiskInfo(HEARTH_BINARY_DIR);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_GT(d->total_bytes, 0u);
  EXPECT_GT(d->free_bytes, 0u);  // the build just wrote here
  EXPECT_LE(d->free_bytes, d->total_bytes);
  Result<DiskInfo> missing = GetDiskInfo("/nonexistent/hearth/models");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/hearth/models"), std::string::npos);
}

TEST(SysinfoTest, ParseProcStatusRss) {
  RssInfo r;
  ASSERT_TRUE(ParseProcStatusRss("Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n", &r).ok());
  EXPECT_EQ(r.current_bytes, 1024u * 1024);
  EXPECT_EQ(r.peak_bytes, 2048u * 1024);
  EXPECT_FALSE(ParseProcStatusRss("Name:\tkthreadd\n", &r).ok());  // kernel threads have no RSS
}

TEST(SysinfoTest, ProcessRssGrowsWhenMemoryIsTouched) {
  Result<RssInfo> before = ProcessRss();
  if (!before.ok()) GTEST_SKIP() << before.status().ToString();
  constexpr size_t kBytes = 64 * kMiB;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);
  Result<RssInfo> after = ProcessRss();
  ASSERT_TRUE(after.ok());
  // Allow 16 MiB for whatever the allocator had already mapped or released.
  EXPECT_GE(after->current_bytes, before->current_bytes + kBytes - 16 * kMiB);
  EXPECT_GE(after->peak_bytes, after->current_bytes);
  EXPECT_EQ(block[kBytes - 1], 1);
}

// ---- Bandwidth ----------------------------------------------------------------

TEST(SysinfoTest, BandwidthIsPlausibleAndQuick) {
  const int threads = GetCpuFeatures().physical_cores;
  const auto start = std::chrono::steady_clock::now();
  Result<BandwidthResult> r = MeasureReadBandwidth(threads, 0.5);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Sanity bounds, not performance assertions: any device reads > 0.1 GB/s.
  EXPECT_GT(r->gb_per_s, 0.1);
  EXPECT_LT(seconds, 2.0);
  EXPECT_GE(r->passes, 1);
  EXPECT_EQ(r->threads, threads);
  EXPECT_GE(r->buffer_bytes, 16 * kMiB);
  EXPECT_LE(r->elapsed_ms, seconds * 1e3 + 1);

  EXPECT_FALSE(MeasureReadBandwidth(0, 0.5).ok());
  EXPECT_GT(MeasureReadBandwidthGBs(1, 0.2), 0.1);
}

// One buffer measured several times (bench measures between repetitions):
// whole pages per thread, the pass limits kept, no reallocation.
TEST(SysinfoTest, BandwidthProbeMeasuresRepeatedly) {
  auto probe = ReadBandwidthProbe::Create(2, 16 * kMiB + 5000, /*huge_pages=*/false);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ((*probe)->threads(), 2);
  EXPECT_EQ((*probe)->buffer_bytes(), 16 * kMiB);  // 8 MiB + 2500 B per thread -> 8 MiB
  for (int i = 0; i < 3; ++i) {
    const BandwidthResult r = (*probe)->Measure(2, 4, 10.0);
    EXPECT_GT(r.gb_per_s, 0.1);
    EXPECT_EQ(r.passes, 4);  // 10 s is far more than 4 passes of 16 MiB take
    EXPECT_EQ(r.buffer_bytes, 16 * kMiB);
    EXPECT_NE(r.best_pattern.find("per thread"), std::string::npos) << r.best_pattern;
  }
  // Over the time budget: min_passes; over twice the budget: one pass.
  EXPECT_EQ((*probe)->Measure(2, 12, 1.0, 1.5).passes, 2);
  EXPECT_EQ((*probe)->Measure(2, 12, 1.0, 100.0).passes, 1);
  EXPECT_FALSE(ReadBandwidthProbe::Create(0, 16 * kMiB, true).ok());
  EXPECT_FALSE(ReadBandwidthProbe::Create(2, 4096, true).ok());  // under a page per thread
}

// ReadAsStreams reads every byte, whatever the stream count, the load width
// (each this CPU has), the alignment and the length (bytes past the last whole
// round included): one non-zero byte anywhere in a zero buffer makes the
// result non-zero.
TEST(SysinfoTest, ReadAsStreamsReadsEveryByte) {
  std::vector<uint8_t> buf(4 * 128 * 3 + 200 + 64, 0);
  for (int load_bytes : {16, 32, 64}) {
    for (int streams : {1, 2, 4}) {
      for (size_t start : {size_t{0}, size_t{1}, size_t{64}}) {
        for (size_t n : {size_t{0}, size_t{37}, static_cast<size_t>(256 * streams),
                         size_t{4 * 128 * 3 + 150}}) {
          uint8_t* p = buf.data() + start;
          EXPECT_EQ(ReadAsStreams(p, n, streams, 0, load_bytes), 0u);
          for (size_t i = 0; i < n; ++i) {
            p[i] = static_cast<uint8_t>(1 + i % 255);
            ASSERT_NE(ReadAsStreams(p, n, streams, 1024, load_bytes), 0u)
                << "load bytes " << load_bytes << " streams " << streams << " start " << start
                << " n " << n << " byte " << i;
            p[i] = 0;
          }
        }
      }
    }
  }
}

// ---- Virtualization ------------------------------------------------------------

TEST(SysinfoTest, ClassifyBareMetal) {
  VirtualizationProbe p;
  p.proc1_cgroup = "0::/init.scope\n";
  p.mountinfo = "27 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n";
  p.dmi_sys_vendor = "Dell Inc.";
  p.dmi_product_name = "XPS 13 9310";
  const VirtualizationInfo v = ClassifyVirtualization(p);
  EXPECT_FALSE(v.container);
  EXPECT_FALSE(v.vm);
  EXPECT_TRUE(v.evidence.empty());
}

TEST(SysinfoTest, ClassifyDockerOnKvm) {
  VirtualizationProbe p;
  p.dockerenv_exists = true;
  p.proc1_cgroup = "0::/\n";
  p.mountinfo = "600 500 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b\n";
  p.cpuid_hypervisor = true;
  p.hypervisor_vendor = "KVMKVMKVM";
  const VirtualizationInfo v = ClassifyVirtualization(p);
  EXPECT_TRUE(v.container);
  EXPECT_EQ(v.container_kind, "docker");
  EXPECT_TRUE(v.vm);
  EXPECT_EQ(v.hypervisor, "KVM");
  EXPECT_TRUE(HasEvidence(v, "/.dockerenv"));
  EXPECT_TRUE(HasEvidence(v, "overlay"));
  EXPECT_TRUE(HasEvidence(v, "KVMKVMKVM"));
}

TEST(SysinfoTest, ClassifyKubernetesAndOthers) {
  VirtualizationProbe k8s;
  k8s.dockerenv_exists = true;
  k8s.proc1_cgroup = "12:memory:/kubepods/burstable/pod1/abc\n";
  EXPECT_EQ(ClassifyVirtualization(k8s).container_kind, "kubernetes");

  VirtualizationProbe podman;
  podman.containerenv_exists = true;
  podman.container_env = "podman";
  EXPECT_EQ(ClassifyVirtualization(podman).container_kind, "podman");

  VirtualizationProbe overlay_only;
  overlay_only.mountinfo = "1 0 0:5 / / rw - overlay overlay rw\n";
  EXPECT_EQ(ClassifyVirtualization(overlay_only).container_kind, "unknown");

  VirtualizationProbe vmware;
  vmware.dmi_sys_vendor = "VMware, Inc.";
  vmware.dmi_product_name = "VMware Virtual Platform";
  EXPECT_EQ(ClassifyVirtualization(vmware).hypervisor, "VMware");

  VirtualizationProbe wsl;
  wsl.kernel_osrelease = "5.15.90.1-microsoft-standard-WSL2";
  const VirtualizationInfo w = ClassifyVirtualization(wsl);
  EXPECT_TRUE(w.vm);
  EXPECT_FALSE(w.container);

  VirtualizationProbe odd;
  odd.cpuid_hypervisor = true;
  odd.hypervisor_vendor = "NewVisor";
  EXPECT_EQ(ClassifyVirtualization(odd).hypervisor, "NewVisor");
}

TEST(SysinfoTest, DetectVirtualizationAgreesWithVisibleFiles) {
  const VirtualizationInfo v = DetectVirtualization();
  if (access("/.dockerenv", F_OK) == 0) {
    EXPECT_TRUE(v.container);
    EXPECT_TRUE(HasEvidence(v, "/.dockerenv exists"));
  }
  if (access("/run/.containerenv", F_OK) == 0) {
    EXPECT_TRUE(v.container);
  }
#if defined(__x86_64__)
  // The "hypervisor" flag of /proc/cpuinfo is x86's CPUID bit (an AArch64
  // binary under qemu-user would read the x86 host's file).
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::stringstream ss;
  ss << cpuinfo.rdbuf();
  if (ss.str().find(" hypervisor") != std::string::npos) {
    EXPECT_TRUE(v.vm);
    EXPECT_FALSE(v.hypervisor.empty());
  }
#endif
  EXPECT_EQ(v.evidence.empty(), !v.container && !v.vm);
  EXPECT_EQ(v.container_kind.empty(), !v.container);
  EXPECT_EQ(v.hypervisor.empty(), !v.vm);
}

// ---- Cache, power, GPU -------------------------------------------------------------

TEST(SysinfoTest, CacheSize) {
  EXPECT_EQ(ParseCacheSize("32K\n"), 32u * 1024);
  EXPECT_EQ(ParseCacheSize("30M"), 30u * kMiB);
  EXPECT_EQ(ParseCacheSize("4096"), 4096u);
  EXPECT_EQ(ParseCacheSize("big"), 0u);
  EXPECT_EQ(ParseCacheSize(""), 0u);
  if (access("/sys/devices/system/cpu/cpu0/cache/index0/size", F_OK) == 0) {
    EXPECT_GT(LastLevelCacheBytes(), 0u);
  }
}

TEST(SysinfoTest, PowerAndGpuHintsAreSane) {
  const PowerInfo p = GetPowerInfo();
  if (p.cpu_min_khz != 0 && p.cpu_max_khz != 0) {
    EXPECT_LE(p.cpu_min_khz, p.cpu_max_khz);
  }
  if (p.on_battery) {
    EXPECT_TRUE(p.battery_present);
  }
  for (const GpuNode& n : ListGpuRenderNodes()) {
    EXPECT_EQ(n.path.rfind("/dev/dri/renderD", 0), 0u) << n.path;
    EXPECT_EQ(access(n.path.c_str(), F_OK), 0) << n.path;
  }
}

}  // namespace
}  // namespace hearth
