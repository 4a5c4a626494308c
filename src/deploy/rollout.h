// Deterministic staged rollout (DESIGN §7, book 14.3).
//
// bucket = the first 8 bytes of SHA-256(salt ":" device_id), big-endian, mod
// 1000; with an empty salt, SHA-256(device_id) ("u-1042" → 30). A device is
// selected when it is eligible and bucket < rollout_permille (0–1000, per
// mille: 120 = 12.0 %). Raising rollout_permille only adds devices (monotonic
// ramp); the same inputs give the same answer on every platform.
//
// Policy JSON (the "rollout" object of a channel file, or a rollout.json):
//   {"rollout_permille": 120, "salt": "tiny-chat-1.2.0",
//    "eligibility": {"min_runtime_version": "0.1.0", "min_free_ram_mib": 512,
//                    "min_free_disk_mib": 1024, "isa": ["avx2"]}}
// "isa" lists features the device must all have (lower-case names of
// `hearth --version`'s list: sse4.2 avx avx2 fma f16c avx512f avx512bw
// avx512vnni amx_int8 neon dotprod …).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace hearth::deploy {

uint32_t RolloutBucket(std::string_view device_id, std::string_view salt);

struct Eligibility {
  std::string min_runtime_version;  // "" = any
  uint64_t min_free_ram_mib = 0;
  uint64_t min_free_disk_mib = 0;
  std::vector<std::string> isa;
};

struct RolloutPolicy {
  uint32_t rollout_permille = 0;
  std::string salt;
  Eligibility eligibility;
};

// Strict: unknown fields and out-of-range values are errors (reason "rollout.policy").
Result<RolloutPolicy> ParseRolloutPolicy(const json::Value& v);
json::Value RolloutPolicyToJson(const RolloutPolicy& p);

struct DeviceFacts {
  std::string device_id;
  std::string runtime_version;
  uint64_t free_ram_mib = 0;
  uint64_t free_disk_mib = 0;
  std::vector<std::string> isa;  // lower-case feature names this device has
};

// This device: runtime version, available RAM, free disk under `disk_path`, ISA.
Result<DeviceFacts> ReadDeviceFacts(const std::string& device_id, const std::string& disk_path);

struct RolloutDecision {
  bool selected = false;
  bool eligible = false;
  uint32_t bucket = 0;
  std::string reason;  // why not eligible / not selected, or "selected"
};

RolloutDecision DecideRollout(const RolloutPolicy& policy, const DeviceFacts& device);
json::Value RolloutDecisionToJson(const RolloutDecision& d);

}  // namespace hearth::deploy
