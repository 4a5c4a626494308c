#include "base/sysinfo.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/cpu_features.h"
#include "base/strings.h"

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
