// The update agent: one poll of a channel on a static origin (DESIGN §7).
//
//   fetch <origin>/channels/<channel>.json + .sig → check the signature (the
//   device's trusted keys) and that its sequence is not older than the last
//   one seen → nothing to do when the bundle is already active, quarantined or
//   older than the highest installed → rollout decision (bucket, eligibility)
//   → download into <root>/downloads/<sha256>.part, resuming a previous partial
//   download → size + SHA-256 against the channel → install, trial-activate,
//   smoke test, commit (or roll back and quarantine) → report.
// The store's lock is held for the whole poll, so two agents never interleave.
#pragma once

#include <functional>
#include <string>

#include "base/json.h"
#include "base/status.h"
#include "deploy/keys.h"
#include "deploy/store.h"

namespace hearth::deploy {

struct UpdateOptions {
  std::string origin;  // http(s):// URL, file:// URL or a directory
  std::string channel = "stable";
  std::string root;
  std::string device_id;
  const TrustedKeys* trusted = nullptr;
  SmokeFn smoke;
  ProgressFn download_progress;
  LogFn log;
  int fetch_attempts = 3;
  int stall_timeout_s = 30;
};

struct UpdateReport {
  // up_to_date | not_selected | not_eligible | skipped | installed | failed
  std::string result;
  std::string channel;
  uint64_t sequence = 0;
  std::string bundle_id;
  std::string active;  // the active bundle after the poll
  uint32_t bucket = 0;
  uint64_t downloaded_bytes = 0;
  uint64_t resumed_from = 0;  // bytes already present from an earlier attempt
  std::string message;
  std::string reason;  // error reason slug when failed
  json::Value ToJson() const;
};

// Never returns a Status: every outcome, failures included, is a report (the
// caller prints it as a JSON line and picks the exit code from `result`).
UpdateReport RunUpdateOnce(const UpdateOptions& options);

// The device id: `explicit_id`, else <root>/device-id, else /etc/machine-id.
Result<std::string> ResolveDeviceId(const std::string& explicit_id, const std::string& root);

}  // namespace hearth::deploy
