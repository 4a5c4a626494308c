// Facts about the device and this process: memory (with cgroup limits), disk,
// RSS, container/VM hints, power and GPU hints (memory read bandwidth:
// base/bandwidth.h).
//
// Linux-only sources (/proc, /sys, statvfs). Every Get* function is
// fallible: on another OS, or in a sandbox hiding /proc, it returns an error
// (or "unknown" fields), never crashes. Parsing is split into pure functions
// over file contents so tests can feed fixed text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hearth {

// Reads a /proc or /sys pseudo-file (whose st_size is 0, so it cannot be
// mapped) with read() until EOF, up to `max_bytes`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 1 << 20);

// ---- Memory -----------------------------------------------------------------

struct MemoryInfo {
  uint64_t total_bytes = 0;      // MemTotal
  uint64_t available_bytes = 0;  // MemAvailable (kernel's estimate without swapping)
  // The binding memory cgroup on our path (the level, from our own cgroup up,
  // with the least limit - usage): its limit (0 = no limit) and usage (which
  // includes page cache). Usage is 0 when there is no limit.
  uint64_t cgroup_limit_bytes = 0;
  uint64_t cgroup_usage_bytes = 0;

  // What this process can still allocate: min(available, limit - usage).
  uint64_t EffectiveAvailableBytes() const;
};

// /proc/meminfo + cgroup v2 memory.max/memory.current (v1: memory.limit_in_bytes /
// memory.usage_in_bytes). Fails only if /proc/meminfo is unreadable or malformed;
// a cgroup that cannot be read counts as "no limit". Cost: ~10 small file reads.
Result<MemoryInfo> GetMemoryInfo();

// Fills total_bytes and available_bytes from a /proc/meminfo text (kB values).
// Kernels older than 3.14 have no MemAvailable: MemFree + Buffers + Cached is used.
Status ParseMeminfo(std::string_view meminfo, MemoryInfo* info);

// Where our memory cgroup lives, from /proc/self/cgroup and /proc/self/mountinfo.
struct CgroupMemoryDirs {
  std::string leaf;  // directory holding our own memory.* files ("" = not found)
  std::string top;   // the hierarchy's mount point; limits are checked from leaf up to it
  bool v2 = false;   // unified hierarchy (memory.max) vs v1 (memory.limit_in_bytes)
};
// Pure. Uses the v1 memory hierarchy when one is mounted and lists us (hybrid
// systems keep the memory controller there), else the v2 unified hierarchy;
// nullopt when neither is found. Handles mounts of a subtree (mountinfo root).
std::optional<CgroupMemoryDirs> FindCgroupMemoryDirs(std::string_view proc_self_cgroup,
                                                     std::string_view mountinfo);
// Parses memory.max / memory.limit_in_bytes: "max" or a value >= 2^60 (v1's
// "unlimited" is 2^63 rounded to a page) gives 0 = no limit; junk gives nullopt.
std::optional<uint64_t> ParseCgroupLimit(std::string_view text);

// ---- Disk -------------------------------------------------------------------

struct DiskInfo {
  std::string path;          // the path that was measured
  uint64_t total_bytes = 0;  // f_blocks * f_frsize
  uint64_t free_bytes = 0;   // f_bavail * f_frsize: free for an unprivileged user
};
// statvfs(path). Errors (e.g. kNotFound) name the path.
Result<DiskInfo> GetDiskInfo(const std::string& path);

// ---- Process ----------------------------------------------------------------

struct RssInfo {
  uint64_t current_bytes = 0;  // VmRSS
  uint64_t peak_bytes = 0;     // VmHWM (high-water mark since start)
};
// This process's resident set, from /proc/self/status. Thread-safe; cost is one
// ~1.5 KB file read (~10-20 us), fine once per request, not per token.
Result<RssInfo> ProcessRss();
Status ParseProcStatusRss(std::string_view proc_status, RssInfo* rss);

// ---- Virtualization ----------------------------------------------------------

struct VirtualizationInfo {
  bool container = false;
  std::string container_kind;  // "docker", "podman", "kubernetes", "lxc", ... or "unknown"
  bool vm = false;
  std::string hypervisor;  // "KVM", "VMware", "Microsoft Hyper-V", "Xen", ... or "unknown"
  std::vector<std::string> evidence;  // one line per observation, e.g. "/.dockerenv exists"
};

// Raw observations; gathered from the live system by GatherVirtualizationProbe().
struct VirtualizationProbe {
  bool dockerenv_exists = false;     // /.dockerenv
  bool containerenv_exists = false;  // /run/.containerenv (podman)
  std::string proc1_cgroup;          // /proc/1/cgroup
  std::string mountinfo;             // /proc/self/mountinfo
  std::string container_env;         // $container
  bool cpuid_hypervisor = false;     // CPUID.1:ECX bit 31
  std::string hypervisor_vendor;     // CPUID leaf 0x40000000 signature
  std::string dmi_sys_vendor;        // /sys/class/dmi/id/sys_vendor
  std::string dmi_product_name;      // /sys/class/dmi/id/product_name
  std::string kernel_osrelease;      // /proc/sys/kernel/osrelease ("...microsoft..." on WSL2)
};
VirtualizationProbe GatherVirtualizationProbe();
// Pure classification of a probe.
VirtualizationInfo ClassifyVirtualization(const VirtualizationProbe& probe);
VirtualizationInfo DetectVirtualization();

// ---- Cache, power and GPU hints ----------------------------------------------

// Size of the largest-level data/unified cache of cpu0 from
// /sys/devices/system/cpu/cpu0/cache, or 0 if unknown. (In VMs this is what the
// hypervisor reports, which may not match the hardware.)
uint64_t LastLevelCacheBytes();
// Parses a sysfs cache size ("32K", "1024K", "30M"); 0 on junk.
uint64_t ParseCacheSize(std::string_view text);

struct PowerInfo {
  uint64_t cpu_min_khz = 0;      // cpuinfo_min_freq of cpu0; 0 = unknown
  uint64_t cpu_max_khz = 0;      // cpuinfo_max_freq of cpu0; 0 = unknown
  std::string governor;          // scaling_governor of cpu0 ("performance", ...); "" = unknown
  bool battery_present = false;  // a power_supply of type "Battery" exists
  bool on_battery = false;       // such a battery reports status "Discharging"
};
PowerInfo GetPowerInfo();

struct GpuNode {
  std::string path;    // "/dev/dri/renderD128"
  std::string driver;  // kernel driver ("i915", "amdgpu", "msm", ...) or ""
};
// DRM render nodes: a GPU a future Vulkan backend could use.
std::vector<GpuNode> ListGpuRenderNodes();

}  // namespace hearth
