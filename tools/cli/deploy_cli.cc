#include "deploy_cli.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/strings.h"
#include "commands.h"
#include "deploy/http_fetch.h"
#include "deploy/smoke.h"

namespace hearth::cli {

int DeployExitCode(const Status& s) {
  const std::string& r = s.reason();
  if (r == "cli.usage" || r == "cli.bad_value" || r == "cli.out_of_range") return kExitUsage;
  if (r == "verify.missing" || r == "verify.extra" || r == "verify.size_mismatch" ||
      r == "verify.hash_mismatch" || r == "store.staged_mismatch")
    return kExitIntegrity;
  if (r == "verify.signature" || StartsWith(r, "sig.")) return kExitSignature;
  if (r == "verify.runtime_too_old" || r == "verify.facts" || r == "verify.unsupported")
    return kExitIncompatible;
  if (r == "verify.malformed" || StartsWith(r, "manifest.") || StartsWith(r, "tar.") ||
      StartsWith(r, "bundle."))
    return kExitMalformed;
  if (r == "store.downgrade" || r == "store.quarantined" || r == "store.conflict")
    return kExitRefused;
  if (r == "store.smoke_failed") return kExitSmokeFailed;
  return kExitFailure;
}

int ReportDeployError(const char* command, const Status& s) {
  std::fprintf(stderr, "hearth %s: error: %s\n", command, s.message().c_str());
  return DeployExitCode(s);
}

ProgressLine::ProgressLine(std::string label, bool quiet)
    : label_(std::move(label)), quiet_(quiet), tty_(::isatty(2) != 0) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void ProgressLine::Update(uint64_t done, uint64_t total) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  if (tty_) {
    if (now - last_ < std::chrono::milliseconds(100) && done != total) return;
    last_ = now;
    std::fprintf(stderr, "\r%s %s\033[K", label_.c_str(),
                 deploy::FormatProgress(done, total, rate).c_str());
    shown_ = true;
    return;
  }
  if (total < (uint64_t{64} << 20)) return;  // logs: only long operations report progress
  const int decile = static_cast<int>(done * 10 / total);
  if (decile <= last_decile_) return;
  last_decile_ = decile;
  std::fprintf(stderr, "%s %s\n", label_.c_str(),
               deploy::FormatProgress(done, total, rate).c_str());
}

void ProgressLine::Finish() {
  if (tty_ && shown_) std::fprintf(stderr, "\n");
  shown_ = false;
}

Result<deploy::TrustedKeys> LoadTrust(const std::string& flag, const std::string& root) {
  if (!flag.empty()) return deploy::TrustedKeys::Load(flag);
  if (!root.empty()) {
    Result<deploy::TrustedKeys> k = deploy::TrustedKeys::Load(root + "/trusted-keys");
    if (k.ok()) return k;
  }
  if (const char* env = std::getenv("HEARTH_TRUSTED_KEYS"); env && *env)
    return deploy::TrustedKeys::Load(env);
  return NotFoundError(
      "no trusted keys: pass --trusted-keys DIR|KEY.pub" +
          (root.empty() ? std::string() : ", or put *.pub files in " + root + "/trusted-keys") +
          " (verification fails closed without a trust anchor)",
      "sig.no_keys");
}

deploy::SmokeFn DefaultSmoke() {
  return [](const std::string& dir, const deploy::Manifest& m) {
    return deploy::RunSmokeTest(dir, m);
  };
}

std::string DefaultRoot() {
  if (const char* env = std::getenv("HEARTH_ROOT"); env && *env) return env;
  return "/var/lib/hearth";
}

}  // namespace hearth::cli
