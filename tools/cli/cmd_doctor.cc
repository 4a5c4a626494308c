// `hearth doctor`: the device-constraint checklist of the book's section 1.1
// (CPU, ISA, RAM, disk, memory bandwidth, power, accelerators), measured on
// this device, plus what it means for running a model here.
// The --json schema ("hearth.doctor/v1") is documented in docs/doctor.md.
//
// A part that cannot be measured is shown as "unknown" (null in JSON) and
// listed under errors; doctor still exits 0. Units: MB and GB are 1e6 and 1e9
// bytes (as is GB/s), times are milliseconds.
#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "base/bandwidth.h"
#include "base/cpu_features.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "base/sysinfo.h"
#include "commands.h"

namespace hearth::cli {
namespace {

constexpr double kBandwidthSeconds = 0.5;  // keeps the whole command well under 1 s
// The book's example criterion: peak RAM <= 80% of available memory.
constexpr double kRamBudgetFraction = 0.8;
constexpr size_t kMaxModelsListed = 20;

struct ModelFile {
  std::string path;
  uint64_t bytes = 0;
};

struct Report {
  CpuFeatures cpu;
  uint64_t llc_bytes = 0;
  PowerInfo power;
  std::optional<MemoryInfo> memory;
  int bandwidth_threads = 0;
  std::optional<BandwidthResult> bandwidth;
  std::string models_dir;
  bool models_dir_exists = false;
  std::string disk_path;  // models_dir or its nearest existing parent
  std::optional<DiskInfo> disk;
  std::vector<ModelFile> models;
  VirtualizationInfo virt;
  std::vector<GpuNode> gpus;
  std::vector<std::string> errors;
};

// Kernel tier the dispatch is expected to pick: (stable id, description).
std::pair<const char*, const char*> KernelTier(const CpuFeatures& f) {
  if (f.amx_tile && f.amx_int8) return {"amx", "AMX (int8/bf16 tile matmuls)"};
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) {
    return {"avx512_vnni", "AVX-512 VNNI (int8 dot products, 512-bit)"};
  }
  if (f.avx2 && f.fma && f.f16c && f.avxvnni) {
    return {"avx_vnni", "AVX2 + AVX-VNNI (int8 dot products, 256-bit)"};
  }
  if (f.avx2 && f.fma) return {"avx2", "AVX2 + FMA (256-bit)"};
  if (f.neon && f.i8mm) return {"neon_i8mm", "NEON + I8MM (int8 matrix multiply)"};
  if (f.neon && f.dotprod) return {"neon_dotprod", "NEON + dot product"};
  if (f.neon) return {"neon", "NEON (128-bit)"};
  return {"scalar", "scalar (portable C++, slow)"};
}

// Checklist ISA features for this architecture, as (name, usable).
std::vector<std::pair<const char*, bool>> ChecklistIsa(const CpuFeatures& f) {
  if (f.arch == "aarch64") {
    return {{"NEON", f.neon},
            {"DOTPROD", f.dotprod},
            {"I8MM", f.i8mm},
            {"FP16", f.fp16_arith},
            {"SVE", f.sve}};
  }
  return {{"AVX2", f.avx2},
          {"FMA", f.fma},
          {"F16C", f.f16c},
          {"AVX512F", f.avx512f},
          {"AVX512BW", f.avx512bw},
          {"AVX512VNNI", f.avx512vnni},
          {"AVX512BF16", f.avx512bf16},
          {"AVXVNNI", f.avxvnni},
          {"AMX-TILE", f.amx_tile},
          {"AMX-INT8", f.amx_int8},
          {"AMX-BF16", f.amx_bf16}};
}

std::string DefaultModelsDir() {
  if (const char* env = std::getenv("HEARTH_MODELS"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const passwd* pw = getpwuid(getuid());
    home = pw != nullptr ? pw->pw_dir : "/";
  }
  return std::string(home) + "/.cache/hearth/models";
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// `path` if it exists, else its nearest existing ancestor (what statvfs can measure).
std::string NearestExisting(std::string path) {
  while (!path.empty() && access(path.c_str(), F_OK) != 0) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    path.resize(slash == 0 ? 1 : slash);
  }
  return path.empty() ? "." : path;
}

// *.gguf regular files directly in `dir`, largest first.
std::vector<ModelFile> FindModels(const std::string& dir) {
  std::vector<ModelFile> models;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return models;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (!EndsWith(name, ".gguf")) continue;
    struct stat st;
    const std::string path = dir + "/" + name;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      models.push_back({path, static_cast<uint64_t>(st.st_size)});
    }
  }
  closedir(d);
  std::sort(models.begin(), models.end(),
            [](const ModelFile& a, const ModelFile& b) { return a.bytes > b.bytes; });
  return models;
}

Report Gather(const std::string& models_dir, int threads) {
  Report r;
  r.cpu = GetCpuFeatures();
  r.llc_bytes = LastLevelCacheBytes();
  r.power = GetPowerInfo();
  Result<MemoryInfo> mem = GetMemoryInfo();
  if (mem.ok()) {
    r.memory = *mem;
  } else {
    r.errors.push_back("memory: " + mem.status().ToString());
  }
  r.bandwidth_threads = threads > 0 ? threads : r.cpu.physical_cores;
  Result<BandwidthResult> bw = MeasureReadBandwidth(r.bandwidth_threads, kBandwidthSeconds);
  if (bw.ok()) {
    r.bandwidth = *bw;
  } else {
    r.errors.push_back("bandwidth: " + bw.status().ToString());
  }
  r.models_dir = models_dir;
  r.models_dir_exists = IsDirectory(models_dir);
  r.disk_path = NearestExisting(models_dir);
  Result<DiskInfo> disk = GetDiskInfo(r.disk_path);
  if (disk.ok()) {
    r.disk = *disk;
  } else {
    r.errors.push_back("disk: " + disk.status().ToString());
  }
  if (r.models_dir_exists) r.models = FindModels(models_dir);
  r.virt = DetectVirtualization();
  r.gpus = ListGpuRenderNodes();
  return r;
}

// Upper bound on decode tokens/s: each token reads all weights once.
std::optional<double> DecodeCeiling(const Report& r, uint64_t model_bytes) {
  if (!r.bandwidth || model_bytes == 0) return std::nullopt;
  return r.bandwidth->gb_per_s * 1e9 / static_cast<double>(model_bytes);
}

std::optional<bool> FitsInRam(const Report& r, uint64_t model_bytes) {
  if (!r.memory) return std::nullopt;
  return static_cast<double>(model_bytes) <=
         kRamBudgetFraction * static_cast<double>(r.memory->EffectiveAvailableBytes());
}

// ---- Text ------------------------------------------------------------------------

std::string Mb(uint64_t bytes) {
  return StrFormat("%.0f MB", static_cast<double>(bytes) / 1e6);
}
std::string Gb(uint64_t bytes) {
  return StrFormat("%.2f GB", static_cast<double>(bytes) / 1e9);
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

void Line(const char* label, const std::string& value) {
  std::printf("  %-19s %s\n", label, value.c_str());
}

void PrintText(const Report& r) {
  const CpuFeatures& f = r.cpu;
  std::printf("hearth doctor: device constraints (book section 1.1) measured on this device\n");
  std::printf("\nCPU\n");
  Line("arch", f.arch);
  Line("model", f.model_name);
  Line("cores", StrFormat("%d logical, %d physical (usable by this process)", f.logical_cores,
                          f.physical_cores));
  std::vector<std::string> have, missing;
  for (const auto& [name, on] : ChecklistIsa(f)) (on ? have : missing).push_back(name);
  Line("ISA usable", have.empty() ? "none of the checklist" : Join(have, " "));
  Line("ISA missing", missing.empty() ? "none" : Join(missing, " "));
  if (!f.not_enabled_by_os.empty()) {
    Line("disabled by OS", f.not_enabled_by_os + " (CPU has it, the kernel does not allow it)");
  }
  Line("last-level cache",
       r.llc_bytes ? Mb(r.llc_bytes) + " (as reported; VMs may misreport)" : "unknown");
  Line("frequency", r.power.cpu_max_khz ? StrFormat("%.0f-%.0f MHz", r.power.cpu_min_khz / 1e3,
                                                    r.power.cpu_max_khz / 1e3)
                                        : "unknown (no cpufreq)");
  Line("governor", r.power.governor.empty() ? "unknown" : r.power.governor);

  std::printf("\nMemory\n");
  if (r.memory) {
    const MemoryInfo& m = *r.memory;
    Line("RAM total", Mb(m.total_bytes));
    Line("RAM available", Mb(m.available_bytes));
    Line("cgroup limit", m.cgroup_limit_bytes
                             ? StrFormat("%s (%s used)", Mb(m.cgroup_limit_bytes).c_str(),
                                         Mb(m.cgroup_usage_bytes).c_str())
                             : "none");
    Line("usable by Hearth",
         Mb(m.EffectiveAvailableBytes()) +
             StrFormat(" (%.0f%% budget: %s)", kRamBudgetFraction * 100,
                       Mb(static_cast<uint64_t>(kRamBudgetFraction *
                                                static_cast<double>(m.EffectiveAvailableBytes())))
                           .c_str()));
  } else {
    Line("RAM", "unknown");
  }
  if (r.bandwidth) {
    const BandwidthResult& b = *r.bandwidth;
    Line("read bandwidth",
         StrFormat("%.1f GB/s (%d threads, %s buffer, best of %d passes, %.0f ms)", b.gb_per_s,
                   b.threads, Mb(b.buffer_bytes).c_str(), b.passes, b.elapsed_ms));
    if (!b.best_pattern.empty()) Line("best read pattern", b.best_pattern);
  } else {
    Line("read bandwidth", "unknown");
  }

  std::printf("\nStorage\n");
  Line("models dir", r.models_dir_exists
                         ? r.models_dir
                         : r.models_dir + " (missing; measured " + r.disk_path + ")");
  Line("free disk", r.disk ? StrFormat("%s of %s", Mb(r.disk->free_bytes).c_str(),
                                       Mb(r.disk->total_bytes).c_str())
                           : "unknown");
  if (r.models.empty()) Line("models found", "none (*.gguf)");
  for (size_t i = 0; i < r.models.size() && i < kMaxModelsListed; ++i) {
    const ModelFile& m = r.models[i];
    const std::optional<double> tps = DecodeCeiling(r, m.bytes);
    const std::optional<bool> fits = FitsInRam(r, m.bytes);
    Line(i == 0 ? "models found" : "",
         StrFormat("%s  %s  decode <= %s tok/s  %s", Gb(m.bytes).c_str(),
                   m.path.substr(m.path.find_last_of('/') + 1).c_str(),
                   tps ? StrFormat("%.1f", *tps).c_str() : "?",
                   !fits   ? ""
                   : *fits ? "fits in RAM budget"
                           : "EXCEEDS RAM budget"));
  }

  std::printf("\nEnvironment\n");
  Line("container", r.virt.container ? r.virt.container_kind : "not detected");
  Line("virtual machine", r.virt.vm ? r.virt.hypervisor : "not detected");
  if (!r.virt.evidence.empty()) Line("evidence", Join(r.virt.evidence, "; "));
  Line("power", !r.power.battery_present ? "no battery (mains or unknown)"
                : r.power.on_battery     ? "ON BATTERY: expect throttling under sustained load"
                                         : "battery present, not discharging");
  std::vector<std::string> gpus;
  for (const GpuNode& g : r.gpus)
    gpus.push_back(g.path + (g.driver.empty() ? "" : " (" + g.driver + ")"));
  Line("GPU render nodes", gpus.empty() ? "none (CPU only)" : Join(gpus, ", "));

  std::printf("\nWhat this means\n");
  Line("kernel tier", KernelTier(f).second);
  if (r.bandwidth && r.bandwidth->gb_per_s > 0) {
    const double per_gb = r.bandwidth->gb_per_s;
    Line("decode ceiling",
         StrFormat("~%.0f tokens/s per GB of weights (bandwidth / model bytes)", per_gb));
    Line("", StrFormat("e.g. a 1 GB model: <= %.0f tok/s; a 4 GB model: <= %.1f tok/s", per_gb,
                       per_gb / 4));
  } else {
    Line("decode ceiling", "unknown (no bandwidth measurement)");
  }
  for (const std::string& e : r.errors) Line("error", e);
}

// ---- JSON ------------------------------------------------------------------------

// Measurements are noisy well above these resolutions; keeps the JSON readable.
double Round(double v, double per_unit) {
  return std::round(v * per_unit) / per_unit;
}

void Write(json::Writer& w, bool v) {
  w.Bool(v);
}
void Write(json::Writer& w, int v) {
  w.Int(v);
}
void Write(json::Writer& w, uint64_t v) {
  w.Uint(v);
}
void Write(json::Writer& w, double v) {
  w.Double(v);
}
void Write(json::Writer& w, const std::string& v) {
  w.String(v);
}
void Write(json::Writer& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const std::string& s : v) w.String(s);
  w.EndArray();
}
template <typename T>
void Write(json::Writer& w, const std::optional<T>& v) {
  if (v) {
    Write(w, *v);
  } else {
    w.Null();
  }
}
template <typename T>
void Put(json::Writer& w, const char* key, const T& v) {
  w.Key(key);
  Write(w, v);
}
// A value that is null in JSON unless `known`.
template <typename T>
std::optional<T> If(bool known, T v) {
  return known ? std::optional<T>(std::move(v)) : std::nullopt;
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  for (std::string_view t : StrSplit(s, ' ')) {
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

void PrintJson(const Report& r) {
  const CpuFeatures& f = r.cpu;
  json::Writer w(2);
  w.BeginObject();
  Put(w, "schema", std::string("hearth.doctor/v1"));

  w.Key("cpu");
  w.BeginObject();
  Put(w, "arch", f.arch);
  Put(w, "model", f.model_name);
  Put(w, "logical_cores", f.logical_cores);
  Put(w, "physical_cores", f.physical_cores);
  Put(w, "features", SplitWords(f.UsableList()));
  w.Key("isa");
  w.BeginObject();
  const std::pair<const char*, bool> isa[] = {{"avx2", f.avx2},
                                              {"fma", f.fma},
                                              {"f16c", f.f16c},
                                              {"avx512f", f.avx512f},
                                              {"avx512bw", f.avx512bw},
                                              {"avx512vnni", f.avx512vnni},
                                              {"avx512bf16", f.avx512bf16},
                                              {"avxvnni", f.avxvnni},
                                              {"amx_tile", f.amx_tile},
                                              {"amx_int8", f.amx_int8},
                                              {"amx_bf16", f.amx_bf16},
                                              {"neon", f.neon},
                                              {"dotprod", f.dotprod},
                                              {"i8mm", f.i8mm},
                                              {"fp16_arith", f.fp16_arith},
                                              {"sve", f.sve}};
  for (const auto& [name, on] : isa) Put(w, name, on);
  w.EndObject();
  Put(w, "not_enabled_by_os", SplitWords(f.not_enabled_by_os));
  Put(w, "llc_bytes", If(r.llc_bytes != 0, r.llc_bytes));
  Put(w, "min_freq_khz", If(r.power.cpu_min_khz != 0, r.power.cpu_min_khz));
  Put(w, "max_freq_khz", If(r.power.cpu_max_khz != 0, r.power.cpu_max_khz));
  Put(w, "governor", If(!r.power.governor.empty(), r.power.governor));
  w.EndObject();

  const bool m = r.memory.has_value();
  const MemoryInfo mem = r.memory.value_or(MemoryInfo());
  const bool limited = m && mem.cgroup_limit_bytes != 0;
  w.Key("memory");
  w.BeginObject();
  Put(w, "total_bytes", If(m, mem.total_bytes));
  Put(w, "available_bytes", If(m, mem.available_bytes));
  Put(w, "cgroup_limit_bytes", If(limited, mem.cgroup_limit_bytes));
  Put(w, "cgroup_usage_bytes", If(limited, mem.cgroup_usage_bytes));
  Put(w, "effective_available_bytes", If(m, mem.EffectiveAvailableBytes()));
  w.EndObject();

  const bool b = r.bandwidth.has_value();
  const BandwidthResult bw = r.bandwidth.value_or(BandwidthResult());
  w.Key("bandwidth");
  w.BeginObject();
  Put(w, "read_gb_per_s", If(b, Round(bw.gb_per_s, 100)));
  Put(w, "threads", r.bandwidth_threads);
  Put(w, "buffer_bytes", If(b, bw.buffer_bytes));
  Put(w, "passes", If(b, bw.passes));
  Put(w, "best_pattern", If(b, bw.best_pattern));
  Put(w, "elapsed_ms", If(b, Round(bw.elapsed_ms, 10)));
  w.EndObject();

  w.Key("disk");
  w.BeginObject();
  Put(w, "models_dir", r.models_dir);
  Put(w, "models_dir_exists", r.models_dir_exists);
  Put(w, "measured_path", r.disk_path);
  Put(w, "free_bytes", If(r.disk.has_value(), r.disk ? r.disk->free_bytes : 0));
  Put(w, "total_bytes", If(r.disk.has_value(), r.disk ? r.disk->total_bytes : 0));
  w.EndObject();

  w.Key("models");
  w.BeginArray();
  for (size_t i = 0; i < r.models.size() && i < kMaxModelsListed; ++i) {
    const ModelFile& mf = r.models[i];
    const std::optional<double> tps = DecodeCeiling(r, mf.bytes);
    w.BeginObject();
    Put(w, "path", mf.path);
    Put(w, "bytes", mf.bytes);
    Put(w, "decode_ceiling_tokens_per_s", If(tps.has_value(), Round(tps.value_or(0), 100)));
    Put(w, "fits_in_ram_budget", FitsInRam(r, mf.bytes));
    w.EndObject();
  }
  w.EndArray();

  w.Key("environment");
  w.BeginObject();
  Put(w, "container", r.virt.container);
  Put(w, "container_kind", If(r.virt.container, r.virt.container_kind));
  Put(w, "vm", r.virt.vm);
  Put(w, "hypervisor", If(r.virt.vm, r.virt.hypervisor));
  Put(w, "evidence", r.virt.evidence);
  Put(w, "battery_present", r.power.battery_present);
  Put(w, "on_battery", r.power.on_battery);
  w.Key("gpu_render_nodes");
  w.BeginArray();
  for (const GpuNode& g : r.gpus) {
    w.BeginObject();
    Put(w, "path", g.path);
    Put(w, "driver", If(!g.driver.empty(), g.driver));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  w.Key("assessment");
  w.BeginObject();
  Put(w, "kernel_tier", std::string(KernelTier(f).first));
  Put(w, "decode_tokens_per_s_per_gb", If(b && bw.gb_per_s > 0, Round(bw.gb_per_s, 100)));
  Put(w, "ram_budget_fraction", kRamBudgetFraction);
  w.EndObject();

  Put(w, "errors", r.errors);
  w.EndObject();
  std::printf("%s\n", w.str().c_str());
}

}  // namespace

int RunDoctor(int argc, char** argv) {
  ArgParser p("hearth doctor",
              "Measure this device against the deployment checklist: cores, ISA, RAM, disk, "
              "memory bandwidth, container/VM, power and GPU hints.");
  p.Flag("json", 0, "print one JSON object (schema hearth.doctor/v1, see docs/doctor.md)");
  p.Option("models-dir", 'm', "DIR", "where models live (free disk is measured there)",
           "$HEARTH_MODELS or ~/.cache/hearth/models");
  p.Option("threads", 't', "N", "threads for the memory bandwidth measurement", "physical cores");
  p.Epilog(
      "Units: MB/GB = 1e6/1e9 bytes, bandwidth in GB/s (1e9 bytes/s), times in ms.\n"
      "The bandwidth test reads a 256 MB buffer for about half a second.\n\n"
      "Examples:\n"
      "  hearth doctor\n"
      "  hearth doctor --json --models-dir /data/models");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("doctor", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  auto threads = args->GetInt("threads", 0, 1, 1024);
  if (!threads.ok()) return ReportError("doctor", threads.status());
  std::string models_dir = args->Get("models-dir", DefaultModelsDir());
  while (models_dir.size() > 1 && models_dir.back() == '/') models_dir.pop_back();
  const Report report = Gather(models_dir, static_cast<int>(*threads));
  if (args->Has("json")) {
    PrintJson(report);
  } else {
    PrintText(report);
  }
  return kExitOk;
}

}  // namespace hearth::cli
