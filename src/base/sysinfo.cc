#include "base/sysinfo.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/cpu_features.h"
#include "base/strings.h"

#if defined(__x86_64__)
#include <emmintrin.h>  // SSE2 is part of the x86-64 baseline
#elif defined(__aarch64__)
#include <arm_neon.h>  // so is NEON on AArch64
#endif

namespace hearth {
namespace {

constexpr uint64_t kNoLimitThreshold = uint64_t{1} << 60;

// "Key:   123 kB" -> 123 * 1024 (or the bare number when there is no unit).
bool ParseKbField(std::string_view text, std::string_view key, uint64_t* out) {
  for (std::string_view line : StrSplit(text, '\n')) {
    if (!StartsWith(line, key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::string_view value = StripWhitespace(line.substr(key.size() + 1));
    uint64_t scale = 1;
    if (EndsWith(value, "kB")) {
      scale = 1024;
      value = StripWhitespace(value.substr(0, value.size() - 2));
    }
    int64_t v = 0;
    if (!ParseInt64(value, &v) || v < 0) return false;
    *out = static_cast<uint64_t>(v) * scale;
    return true;
  }
  return false;
}

std::string ReadOrEmpty(const std::string& path, size_t max_bytes = 1 << 20) {
  Result<std::string> text = ReadSmallFile(path, max_bytes);
  return text.ok() ? std::move(text).value() : std::string();
}

std::string ReadTrimmed(const std::string& path) {
  return std::string(StripWhitespace(ReadOrEmpty(path, 4096)));
}

bool Exists(const char* path) {
  return access(path, F_OK) == 0;
}

// Directory entries of `dir` starting with `prefix`, sorted; empty if unreadable.
std::vector<std::string> ListDir(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.' && StartsWith(e->d_name, prefix)) names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Fields of one /proc/self/mountinfo line: root, mount point, fs type, super options.
struct MountLine {
  std::string_view root, mount_point, fs_type, super_options;
};
bool ParseMountLine(std::string_view line, MountLine* m) {
  const size_t sep = line.find(" - ");
  if (sep == std::string_view::npos) return false;
  std::vector<std::string_view> pre = StrSplit(line.substr(0, sep), ' ');
  std::vector<std::string_view> post = StrSplit(line.substr(sep + 3), ' ');
  if (pre.size() < 5 || post.size() < 3) return false;
  *m = {pre[3], pre[4], post[0], post[2]};
  return true;
}

bool HasToken(std::string_view list, std::string_view token) {
  for (std::string_view t : StrSplit(list, ',')) {
    if (t == token) return true;
  }
  return false;
}

}  // namespace

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(StrFormat("cannot open '%s'", path.c_str()), errno);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return ErrnoError(StrFormat("cannot read '%s'", path.c_str()), err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      close(fd);
      return ResourceExhaustedError(
          StrFormat("'%s' is larger than %zu bytes", path.c_str(), max_bytes));
    }
  }
  close(fd);
  return out;
}

// ---- Memory -----------------------------------------------------------------

uint64_t MemoryInfo::EffectiveAvailableBytes() const {
  if (cgroup_limit_bytes == 0) return available_bytes;
  const uint64_t headroom =
      cgroup_limit_bytes > cgroup_usage_bytes ? cgroup_limit_bytes - cgroup_usage_bytes : 0;
  return std::min(available_bytes, headroom);
}

Status ParseMeminfo(std::string_view meminfo, MemoryInfo* info) {
  if (!ParseKbField(meminfo, "MemTotal", &info->total_bytes)) {
    return DataLossError("/proc/meminfo has no valid MemTotal line");
  }
  if (!ParseKbField(meminfo, "MemAvailable", &info->available_bytes)) {
    uint64_t free = 0, buffers = 0, cached = 0;
    if (!ParseKbField(meminfo, "MemFree", &free)) {
      return DataLossError("/proc/meminfo has neither MemAvailable nor MemFree");
    }
    ParseKbField(meminfo, "Buffers", &buffers);
    ParseKbField(meminfo, "Cached", &cached);
    info->available_bytes = std::min(info->total_bytes, free + buffers + cached);
  }
  return Status::Ok();
}

std::optional<CgroupMemoryDirs> FindCgroupMemoryDirs(std::string_view proc_self_cgroup,
                                                     std::string_view mountinfo) {
  // /proc/self/cgroup lines: "hierarchy-id:controller,list:/path"; v2 is "0::/path".
  std::optional<std::string_view> v1_path, v2_path;
  for (std::string_view line : StrSplit(proc_self_cgroup, '\n')) {
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(a + 1, b - a - 1);
    const std::string_view path = StripWhitespace(line.substr(b + 1));
    if (line.substr(0, a) == "0" && controllers.empty()) v2_path = path;
    if (HasToken(controllers, "memory")) v1_path = path;
  }
  std::optional<MountLine> v1_mount, v2_mount;
  for (std::string_view line : StrSplit(mountinfo, '\n')) {
    MountLine m;
    if (!ParseMountLine(line, &m)) continue;
    if (m.fs_type == "cgroup2" && !v2_mount) v2_mount = m;
    if (m.fs_type == "cgroup" && HasToken(m.super_options, "memory") && !v1_mount) v1_mount = m;
  }
  auto make = [](const MountLine& m, std::string_view path, bool v2) {
    // The path is relative to the hierarchy root; the mount may show a subtree.
    if (m.root != "/" && StartsWith(path, m.root)) path.remove_prefix(m.root.size());
    std::string leaf(m.mount_point);
    if (!path.empty() && path != "/") leaf += std::string(path);
    return CgroupMemoryDirs{leaf, std::string(m.mount_point), v2};
  };
  // In hybrid setups the memory controller lives on the v1 hierarchy.
  if (v1_mount && v1_path) return make(*v1_mount, *v1_path, false);
  if (v2_mount && v2_path) return make(*v2_mount, *v2_path, true);
  return std::nullopt;
}

std::optional<uint64_t> ParseCgroupLimit(std::string_view text) {
  text = StripWhitespace(text);
  if (text == "max") return uint64_t{0};
  int64_t v = 0;
  if (!ParseInt64(text, &v) || v < 0) return std::nullopt;
  return static_cast<uint64_t>(v) >= kNoLimitThreshold ? 0 : static_cast<uint64_t>(v);
}

Result<MemoryInfo> GetMemoryInfo() {
  MemoryInfo info;
  HEARTH_ASSIGN_OR_RETURN(std::string meminfo, ReadSmallFile("/proc/meminfo"));
  HEARTH_RETURN_IF_ERROR(ParseMeminfo(meminfo, &info));

  Result<std::string> self_cgroup = ReadSmallFile("/proc/self/cgroup");
  Result<std::string> mountinfo = ReadSmallFile("/proc/self/mountinfo", 4 << 20);
  std::optional<CgroupMemoryDirs> dirs;
  if (self_cgroup.ok() && mountinfo.ok()) dirs = FindCgroupMemoryDirs(*self_cgroup, *mountinfo);
  if (!dirs) {
    dirs = Exists("/sys/fs/cgroup/memory.max")
               ? CgroupMemoryDirs{"/sys/fs/cgroup", "/sys/fs/cgroup", true}
               : CgroupMemoryDirs{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", false};
  }
  const char* limit_file = dirs->v2 ? "/memory.max" : "/memory.limit_in_bytes";
  const char* usage_file = dirs->v2 ? "/memory.current" : "/memory.usage_in_bytes";
  // Any ancestor's limit binds too (siblings share it): keep the level with the
  // least headroom, from our own cgroup up to the hierarchy's mount point.
  uint64_t best_headroom = UINT64_MAX;
  std::string dir = dirs->leaf;
  for (int depth = 0; depth < 64; ++depth) {
    std::optional<uint64_t> limit = ParseCgroupLimit(ReadTrimmed(dir + limit_file));
    if (limit && *limit != 0) {
      int64_t usage = 0;
      if (!ParseInt64(ReadTrimmed(dir + usage_file), &usage) || usage < 0) usage = 0;
      const uint64_t u = static_cast<uint64_t>(usage);
      const uint64_t headroom = *limit > u ? *limit - u : 0;
      if (headroom < best_headroom) {
        best_headroom = headroom;
        info.cgroup_limit_bytes = *limit;
        info.cgroup_usage_bytes = u;
      }
    }
    const size_t slash = dir.rfind('/');
    if (dir.size() <= dirs->top.size() || slash == std::string::npos || slash == 0) break;
    dir.resize(slash);
  }
  return info;
}

// ---- Disk and process ---------------------------------------------------------

Result<DiskInfo> GetDiskInfo(const std::string& path) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) {
    return ErrnoError(StrFormat("statvfs '%s'", path.c_str()), errno);
  }
  DiskInfo d;
  d.path = path;
  const uint64_t unit = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
  d.total_bytes = static_cast<uint64_t>(st.f_blocks) * unit;
  d.free_bytes = static_cast<uint64_t>(st.f_bavail) * unit;
  return d;
}

Status ParseProcStatusRss(std::string_view proc_status, RssInfo* rss) {
  if (!ParseKbField(proc_status, "VmRSS", &rss->current_bytes)) {
    return DataLossError("/proc/self/status has no VmRSS line");
  }
  if (!ParseKbField(proc_status, "VmHWM", &rss->peak_bytes)) rss->peak_bytes = rss->current_bytes;
  return Status::Ok();
}

Result<RssInfo> ProcessRss() {
  HEARTH_ASSIGN_OR_RETURN(std::string status, ReadSmallFile("/proc/self/status"));
  RssInfo rss;
  HEARTH_RETURN_IF_ERROR(ParseProcStatusRss(status, &rss));
  return rss;
}

// ---- Virtualization ----------------------------------------------------------

VirtualizationProbe GatherVirtualizationProbe() {
  VirtualizationProbe p;
  p.dockerenv_exists = Exists("/.dockerenv");
  p.containerenv_exists = Exists("/run/.containerenv");
  p.proc1_cgroup = ReadOrEmpty("/proc/1/cgroup");
  p.mountinfo = ReadOrEmpty("/proc/self/mountinfo", 4 << 20);
  if (const char* env = std::getenv("container")) p.container_env = env;
  const CpuFeatures& cpu = GetCpuFeatures();
  p.cpuid_hypervisor = cpu.hypervisor;
  p.hypervisor_vendor = cpu.hypervisor_vendor;
  p.dmi_sys_vendor = ReadTrimmed("/sys/class/dmi/id/sys_vendor");
  p.dmi_product_name = ReadTrimmed("/sys/class/dmi/id/product_name");
  p.kernel_osrelease = ReadTrimmed("/proc/sys/kernel/osrelease");
  return p;
}

VirtualizationInfo ClassifyVirtualization(const VirtualizationProbe& p) {
  VirtualizationInfo v;
  std::string kind;  // first match wins: most specific sources first
  auto container = [&](const std::string& k, std::string why) {
    v.container = true;
    if (kind.empty() && !k.empty()) kind = k;
    v.evidence.push_back(std::move(why));
  };
  static constexpr std::pair<const char*, const char*> kCgroupWords[] = {
      {"kubepods", "kubernetes"},   {"libpod", "podman"}, {"docker", "docker"},
      {"containerd", "containerd"}, {"lxc", "lxc"},       {"garden", "garden"}};
  for (const auto& [word, k] : kCgroupWords) {
    if (p.proc1_cgroup.find(word) != std::string::npos) {
      container(k, StrFormat("/proc/1/cgroup mentions '%s'", word));
      break;
    }
  }
  if (!p.container_env.empty()) container(p.container_env, "$container=" + p.container_env);
  if (p.containerenv_exists) container("podman", "/run/.containerenv exists");
  if (p.dockerenv_exists) container("docker", "/.dockerenv exists");
  for (std::string_view line : StrSplit(p.mountinfo, '\n')) {
    MountLine m;
    if (ParseMountLine(line, &m) && m.mount_point == "/" &&
        (m.fs_type == "overlay" || m.fs_type == "aufs")) {
      container("", "root filesystem is " + std::string(m.fs_type));
      break;
    }
  }
  if (v.container) v.container_kind = kind.empty() ? "unknown" : kind;

  std::string hv;
  static constexpr std::pair<const char*, const char*> kVendors[] = {
      {"KVMKVMKVM", "KVM"},         {"Microsoft Hv", "Microsoft Hyper-V"},
      {"VMwareVMware", "VMware"},   {"XenVMMXenVMM", "Xen"},
      {"TCGTCGTCGTCG", "QEMU TCG"}, {"VBoxVBoxVBox", "VirtualBox"},
      {"ACRNACRNACRN", "ACRN"},     {"bhyve bhyve", "bhyve"},
      {"lrpepyh  vr", "Parallels"}, {"QNXQVMBSQG", "QNX"}};
  if (p.cpuid_hypervisor) {
    v.vm = true;
    v.evidence.push_back("CPUID hypervisor bit set");
  }
  if (!p.hypervisor_vendor.empty()) {
    v.vm = true;
    v.evidence.push_back("CPUID leaf 0x40000000 vendor '" + p.hypervisor_vendor + "'");
    hv = p.hypervisor_vendor;
    for (const auto& [sig, name] : kVendors) {
      if (p.hypervisor_vendor == sig) hv = name;
    }
  }
  // clang-format off
  static constexpr std::pair<const char*, const char*> kDmi[] = {
      {"QEMU", "QEMU"}, {"VMware", "VMware"}, {"innotek", "VirtualBox"},
      {"VirtualBox", "VirtualBox"}, {"Xen", "Xen"}, {"Amazon EC2", "Amazon EC2"},
      {"Google Compute Engine", "Google Compute Engine"}, {"Parallels", "Parallels"},
      {"KVM", "KVM"}, {"Bochs", "Bochs"}, {"Virtual Machine", "Microsoft Hyper-V"}};
  // clang-format on
  const std::string dmi = p.dmi_sys_vendor + " / " + p.dmi_product_name;
  for (const auto& [word, name] : kDmi) {
    if (dmi.find(word) == std::string::npos) continue;
    v.vm = true;
    v.evidence.push_back("DMI says '" + dmi + "'");
    if (hv.empty()) hv = name;
    break;
  }
  std::string release = p.kernel_osrelease;
  std::transform(release.begin(), release.end(), release.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (release.find("microsoft") != std::string::npos) {
    v.vm = true;
    v.evidence.push_back("kernel release '" + p.kernel_osrelease + "' (WSL2)");
    if (hv.empty()) hv = "Microsoft Hyper-V (WSL2)";
  }
  if (v.vm) v.hypervisor = hv.empty() ? "unknown" : hv;
  return v;
}

VirtualizationInfo DetectVirtualization() {
  return ClassifyVirtualization(GatherVirtualizationProbe());
}

// ---- Memory bandwidth -------------------------------------------------------

namespace {

// Reads [p, p + n) (p 64-byte aligned, n a multiple of 128) with wide loads into
// a value that depends on every byte, so the loads cannot be optimized away.
uint64_t ReadChunk(const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 128) {
    const __m128i* q = reinterpret_cast<const __m128i*>(p + i);
    a0 = _mm_add_epi64(a0, _mm_or_si128(_mm_load_si128(q + 0), _mm_load_si128(q + 1)));
    a1 = _mm_add_epi64(a1, _mm_or_si128(_mm_load_si128(q + 2), _mm_load_si128(q + 3)));
    a2 = _mm_add_epi64(a2, _mm_or_si128(_mm_load_si128(q + 4), _mm_load_si128(q + 5)));
    a3 = _mm_add_epi64(a3, _mm_or_si128(_mm_load_si128(q + 6), _mm_load_si128(q + 7)));
  }
  const __m128i s = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(s)) ^
         static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s)));
#elif defined(__aarch64__)
  uint64x2_t a0 = vdupq_n_u64(0), a1 = a0, a2 = a0, a3 = a0;
  const uint64_t* q = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i < n / 8; i += 16) {
    a0 = vaddq_u64(a0, vorrq_u64(vld1q_u64(q + i + 0), vld1q_u64(q + i + 2)));
    a1 = vaddq_u64(a1, vorrq_u64(vld1q_u64(q + i + 4), vld1q_u64(q + i + 6)));
    a2 = vaddq_u64(a2, vorrq_u64(vld1q_u64(q + i + 8), vld1q_u64(q + i + 10)));
    a3 = vaddq_u64(a3, vorrq_u64(vld1q_u64(q + i + 12), vld1q_u64(q + i + 14)));
  }
  const uint64x2_t s = vaddq_u64(vaddq_u64(a0, a1), vaddq_u64(a2, a3));
  return vgetq_lane_u64(s, 0) ^ vgetq_lane_u64(s, 1);
#else
  const uint64_t* q = reinterpret_cast<const uint64_t*>(p);
  uint64_t a[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < n / 8; i += 8) {
    for (int j = 0; j < 4; ++j) a[j] += q[i + 2 * j] | q[i + 2 * j + 1];
  }
  return a[0] ^ a[1] ^ a[2] ^ a[3];
#endif
}

// Where readers leave their sums: a global the compiler must assume is observed.
std::atomic<uint64_t> g_bandwidth_sink{0};

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Result<BandwidthResult> MeasureReadBandwidth(int threads, double max_seconds, uint64_t buffer_bytes,
                                             bool huge_pages) {
  const auto t0 = std::chrono::steady_clock::now();
  if (threads < 1 || threads > 1024) {
    return InvalidArgumentError(StrFormat("bandwidth threads must be 1..1024, got %d", threads));
  }
  if (buffer_bytes == 0) {
    buffer_bytes = uint64_t{256} << 20;  // far above the LLC of devices we target
    Result<MemoryInfo> mem = GetMemoryInfo();
    if (mem.ok()) buffer_bytes = std::min(buffer_bytes, mem->EffectiveAvailableBytes() / 4);
    buffer_bytes = std::max(buffer_bytes, uint64_t{16} << 20);
  }
  // Whole pages per thread, so each thread can first-touch its own part.
  const uint64_t chunk = buffer_bytes / static_cast<uint64_t>(threads) / 4096 * 4096;
  if (chunk == 0) return InvalidArgumentError("bandwidth buffer smaller than a page per thread");
  const uint64_t total = chunk * static_cast<uint64_t>(threads);

  void* mem = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    return ErrnoError(StrFormat("allocating %s for the bandwidth test", HumanBytes(total).c_str()),
                      errno);
  }
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
  // Huge pages: fewer faults and TLB misses (a hint only). Without them the
  // buffer reads like a memory-mapped model file, which uses 4 KiB pages.
  madvise(mem, total, huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
  uint8_t* base = static_cast<uint8_t*>(mem);

  // Pass control runs in the barrier's completion step (one thread, all others
  // waiting): even phases open a pass or stop, odd phases close and time it.
  // At least kMinPasses when affordable: the first pass after a slow first touch
  // (e.g. a VM backing fresh pages) is often disturbed.
  constexpr int kMinPasses = 3, kMaxPasses = 12;
  int phase = 0, passes = 0;
  double best = 0, last = 0;
  bool stop = false;
  std::chrono::steady_clock::time_point pass_start;
  auto on_phase = [&]() noexcept {
    if (phase++ % 2 == 0) {
      const double projected = SecondsSince(t0) + last;
      stop = passes >= kMaxPasses || (passes >= kMinPasses && projected > max_seconds) ||
             (passes >= 1 && projected > 2 * max_seconds);
      pass_start = std::chrono::steady_clock::now();
    } else {
      last = SecondsSince(pass_start);
      if (passes++ == 0 || last < best) best = last;
    }
  };
  std::barrier sync(threads, on_phase);
  auto worker = [&](int t) {
    uint8_t* p = base + chunk * static_cast<uint64_t>(t);
    std::memset(p, 0x5A + t, chunk);  // real pages, not the shared zero page
    uint64_t acc = 0;
    for (;;) {
      sync.arrive_and_wait();
      if (stop) break;
      acc += ReadChunk(p, chunk);
      sync.arrive_and_wait();
    }
    g_bandwidth_sink.fetch_xor(acc, std::memory_order_relaxed);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (std::thread& th : pool) th.join();
  munmap(mem, total);

  BandwidthResult r;
  r.threads = threads;
  r.buffer_bytes = total;
  r.passes = passes;
  r.gb_per_s = best > 0 ? static_cast<double>(total) / best / 1e9 : 0;
  r.elapsed_ms = SecondsSince(t0) * 1e3;
  return r;
}

double MeasureReadBandwidthGBs(int threads, double max_seconds) {
  Result<BandwidthResult> r = MeasureReadBandwidth(threads, max_seconds);
  return r.ok() ? r->gb_per_s : 0.0;
}

// ---- Cache, power and GPU hints ----------------------------------------------

uint64_t ParseCacheSize(std::string_view text) {
  text = StripWhitespace(text);
  uint64_t scale = 1;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'M' || text.back() == 'G')) {
    scale = text.back() == 'K' ? 1024 : text.back() == 'M' ? 1 << 20 : 1 << 30;
    text.remove_suffix(1);
  }
  int64_t v = 0;
  return ParseInt64(text, &v) && v > 0 ? static_cast<uint64_t>(v) * scale : 0;
}

uint64_t LastLevelCacheBytes() {
  const std::string dir = "/sys/devices/system/cpu/cpu0/cache/";
  int64_t best_level = 0;
  uint64_t best_size = 0;
  for (const std::string& index : ListDir(dir, "index")) {
    if (ReadTrimmed(dir + index + "/type") == "Instruction") continue;
    int64_t level = 0;
    if (!ParseInt64(ReadTrimmed(dir + index + "/level"), &level)) continue;
    const uint64_t size = ParseCacheSize(ReadTrimmed(dir + index + "/size"));
    if (size != 0 && level > best_level) {
      best_level = level;
      best_size = size;
    }
  }
  return best_size;
}

PowerInfo GetPowerInfo() {
  PowerInfo p;
  const std::string freq = "/sys/devices/system/cpu/cpu0/cpufreq/";
  int64_t v = 0;
  if (ParseInt64(ReadTrimmed(freq + "cpuinfo_min_freq"), &v) && v > 0) p.cpu_min_khz = v;
  if (ParseInt64(ReadTrimmed(freq + "cpuinfo_max_freq"), &v) && v > 0) p.cpu_max_khz = v;
  p.governor = ReadTrimmed(freq + "scaling_governor");
  const std::string ps = "/sys/class/power_supply/";
  for (const std::string& name : ListDir(ps, "")) {
    if (ReadTrimmed(ps + name + "/type") != "Battery") continue;
    p.battery_present = true;
    if (ReadTrimmed(ps + name + "/status") == "Discharging") p.on_battery = true;
  }
  return p;
}

std::vector<GpuNode> ListGpuRenderNodes() {
  std::vector<GpuNode> nodes;
  for (const std::string& name : ListDir("/dev/dri", "renderD")) {
    GpuNode n;
    n.path = "/dev/dri/" + name;
    char target[4096];
    const std::string link = "/sys/class/drm/" + name + "/device/driver";
    const ssize_t len = readlink(link.c_str(), target, sizeof(target) - 1);
    if (len > 0) {
      const std::string_view t(target, static_cast<size_t>(len));
      const size_t slash = t.rfind('/');
      n.driver = std::string(slash == std::string_view::npos ? t : t.substr(slash + 1));
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

}  // namespace hearth
