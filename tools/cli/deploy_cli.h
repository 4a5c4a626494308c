// Pieces shared by the deploy commands (pack/sign/verify, install/activate/
// rollback/status, rollout/update/publish).
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"
#include "deploy/keys.h"
#include "deploy/store.h"

namespace hearth::cli {

// Exit codes of the deploy commands (docs/bundles.md).
constexpr int kExitIntegrity = 1;     // missing / extra / resized / modified file
constexpr int kExitSignature = 3;     // missing, bad or untrusted signature
constexpr int kExitIncompatible = 4;  // runtime too old, facts disagree, unsupported tensors
constexpr int kExitMalformed = 5;     // not a bundle, bad manifest
constexpr int kExitRefused = 6;       // downgrade, quarantined, id conflict
constexpr int kExitSmokeFailed = 7;   // trial failed: rolled back and quarantined

// Exit code for a deploy error (by its reason).
int DeployExitCode(const Status& s);
int ReportDeployError(const char* command, const Status& s);

// Throttled progress line on stderr ("\r…" on a terminal, a line every 10 %
// otherwise; nothing when quiet).
class ProgressLine {
 public:
  ProgressLine(std::string label, bool quiet);
  void Update(uint64_t done, uint64_t total);
  void Finish();

 private:
  std::string label_;
  bool quiet_, tty_;
  bool shown_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_;
};

// --trusted-keys, else <root>/trusted-keys, else $HEARTH_TRUSTED_KEYS.
Result<deploy::TrustedKeys> LoadTrust(const std::string& flag, const std::string& root);

// The smoke test used by install / activate / update.
deploy::SmokeFn DefaultSmoke();

// Default store root: $HEARTH_ROOT or /var/lib/hearth.
std::string DefaultRoot();

}  // namespace hearth::cli
