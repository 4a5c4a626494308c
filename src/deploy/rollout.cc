#include "deploy/rollout.h"

#include <algorithm>

#include "base/build_info.h"
#include "base/cpu_features.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "base/sysinfo.h"
#include "deploy/semver.h"

namespace hearth::deploy {

uint32_t RolloutBucket(std::string_view device_id, std::string_view salt) {
  Sha256 h;
  if (!salt.empty()) {
    h.Update(salt);
    h.Update(":");
  }
  h.Update(device_id);
  const std::array<uint8_t, 32> d = h.Final();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[static_cast<size_t>(i)];  // big-endian
  return static_cast<uint32_t>(v % 1000);
}

Result<RolloutPolicy> ParseRolloutPolicy(const json::Value& v) {
  auto bad = [](const std::string& why) {
    return InvalidArgumentError("rollout policy: " + why, "rollout.policy");
  };
  if (!v.is_object()) return bad("must be a JSON object");
  RolloutPolicy p;
  bool have_permille = false;
  for (const auto& [key, value] : v.as_object()) {
    if (key == "rollout_permille") {
      if (!value.is_integer() || value.as_int() < 0 || value.as_int() > 1000)
        return bad("'rollout_permille' must be an integer in [0, 1000] (per mille: 120 = 12%)");
      p.rollout_permille = static_cast<uint32_t>(value.as_int());
      have_permille = true;
    } else if (key == "salt") {
      if (!value.is_string()) return bad("'salt' must be a string");
      p.salt = value.as_string();
    } else if (key == "eligibility") {
      if (!value.is_object()) return bad("'eligibility' must be an object");
      for (const auto& [k, e] : value.as_object()) {
        if (k == "min_runtime_version") {
          if (!e.is_string() || !ParseSemVer(e.as_string()).ok())
            return bad("'min_runtime_version' must be a version such as \"0.2.0\"");
          p.eligibility.min_runtime_version = e.as_string();
        } else if (k == "min_free_ram_mib" || k == "min_free_disk_mib") {
          if (!e.is_integer() || e.as_int() < 0) return bad("'" + k + "' must be an integer >= 0");
          (k == "min_free_ram_mib" ? p.eligibility.min_free_ram_mib
                                   : p.eligibility.min_free_disk_mib) =
              static_cast<uint64_t>(e.as_int());
        } else if (k == "isa") {
          if (!e.is_array()) return bad("'isa' must be an array of feature names");
          for (const json::Value& f : e.as_array()) {
            if (!f.is_string() || f.as_string().empty()) return bad("'isa' must hold names");
            p.eligibility.isa.push_back(f.as_string());
          }
        } else {
          return bad("unknown eligibility field '" + k + "'");
        }
      }
    } else {
      return bad("unknown field '" + key + "'");
    }
  }
  if (!have_permille) return bad("missing 'rollout_permille'");
  return p;
}

json::Value RolloutPolicyToJson(const RolloutPolicy& p) {
  json::Value::Array isa;
  for (const std::string& f : p.eligibility.isa) isa.push_back(f);
  json::Value::Object el;
  if (!p.eligibility.min_runtime_version.empty())
    el.emplace_back("min_runtime_version", p.eligibility.min_runtime_version);
  if (p.eligibility.min_free_ram_mib)
    el.emplace_back("min_free_ram_mib", p.eligibility.min_free_ram_mib);
  if (p.eligibility.min_free_disk_mib)
    el.emplace_back("min_free_disk_mib", p.eligibility.min_free_disk_mib);
  if (!isa.empty()) el.emplace_back("isa", isa);
  return json::Value::Object{
      {"rollout_permille", p.rollout_permille}, {"salt", p.salt}, {"eligibility", el}};
}

Result<DeviceFacts> ReadDeviceFacts(const std::string& device_id, const std::string& disk_path) {
  DeviceFacts d;
  d.device_id = device_id;
  d.runtime_version = BuildVersion();
  HEARTH_ASSIGN_OR_RETURN(MemoryInfo mem, GetMemoryInfo());
  d.free_ram_mib = mem.EffectiveAvailableBytes() >> 20;
  HEARTH_ASSIGN_OR_RETURN(DiskInfo disk, GetDiskInfo(disk_path));
  d.free_disk_mib = disk.free_bytes >> 20;
  const CpuFeatures& f = GetCpuFeatures();
  const std::pair<bool, const char*> flags[] = {{f.sse42, "sse4.2"},
                                                {f.avx, "avx"},
                                                {f.avx2, "avx2"},
                                                {f.fma, "fma"},
                                                {f.f16c, "f16c"},
                                                {f.avx512f, "avx512f"},
                                                {f.avx512bw, "avx512bw"},
                                                {f.avx512vnni, "avx512vnni"},
                                                {f.avx512bf16, "avx512bf16"},
                                                {f.avxvnni, "avxvnni"},
                                                {f.amx_int8, "amx_int8"},
                                                {f.amx_bf16, "amx_bf16"},
                                                {f.neon, "neon"},
                                                {f.dotprod, "dotprod"},
                                                {f.i8mm, "i8mm"},
                                                {f.sve, "sve"}};
  for (const auto& [have, name] : flags)
    if (have) d.isa.push_back(name);
  return d;
}

RolloutDecision DecideRollout(const RolloutPolicy& p, const DeviceFacts& d) {
  RolloutDecision r;
  r.bucket = RolloutBucket(d.device_id, p.salt);
  const Eligibility& e = p.eligibility;
  r.eligible = true;
  if (!e.min_runtime_version.empty()) {
    Result<int> c = CompareVersions(d.runtime_version, e.min_runtime_version);
    if (!c.ok() || *c < 0) {
      r.eligible = false;
      r.reason = "runtime " + d.runtime_version + " is older than " + e.min_runtime_version;
    }
  }
  if (r.eligible && d.free_ram_mib < e.min_free_ram_mib) {
    r.eligible = false;
    r.reason = StrFormat("%llu MiB RAM available, %llu required",
                         static_cast<unsigned long long>(d.free_ram_mib),
                         static_cast<unsigned long long>(e.min_free_ram_mib));
  }
  if (r.eligible && d.free_disk_mib < e.min_free_disk_mib) {
    r.eligible = false;
    r.reason = StrFormat("%llu MiB disk free, %llu required",
                         static_cast<unsigned long long>(d.free_disk_mib),
                         static_cast<unsigned long long>(e.min_free_disk_mib));
  }
  for (const std::string& f : e.isa) {
    if (!r.eligible) break;
    if (std::find(d.isa.begin(), d.isa.end(), f) == d.isa.end()) {
      r.eligible = false;
      r.reason = "the CPU lacks " + f;
    }
  }
  if (!r.eligible) return r;
  r.selected = r.bucket < p.rollout_permille;
  r.reason = r.selected ? "selected"
                        : StrFormat("bucket %u is not below rollout_permille %u", r.bucket,
                                    p.rollout_permille);
  return r;
}

json::Value RolloutDecisionToJson(const RolloutDecision& d) {
  return json::Value::Object{{"bucket", d.bucket},
                             {"eligible", d.eligible},
                             {"selected", d.selected},
                             {"reason", d.reason}};
}

}  // namespace hearth::deploy
