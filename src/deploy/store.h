// The device's bundle store and its crash-safe state machine (DESIGN §7).
//
//   <root>/state.json          {"active","previous","trial","restore_*","highest_counter"}
//   <root>/bundles/<id>/       installed bundles, read-only (dirs 0555, files 0444)
//   <root>/staging/            work in progress; emptied by recovery
//   <root>/quarantine/<id>/    bundles that failed their trial, + <id>.json (reason, time)
//   <root>/trusted-keys/       default trust anchors (*.pub)
//   <root>/events.jsonl        one line per install / trial / commit / rollback / quarantine
//   <root>/lock                flock: one writer at a time
//
// state.json is only ever replaced whole (temp in the same directory, fsync,
// rename, fsync of the directory), and a bundle directory appears in bundles/
// by one rename after it was copied, verified and sealed. So at any instant
// the active bundle named by state.json is complete. A trial (a new bundle
// made active until its smoke test passes) that is interrupted by a crash is
// undone by the next writer: the previous state is restored and the bundle
// stays installed, so it can be tried again. The second interrupted trial of
// the same bundle in a row quarantines it (like a boot counter: a bundle that
// kills its host must not be retried forever).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "deploy/bundle.h"
#include "deploy/keys.h"
#include "deploy/manifest.h"

namespace hearth::deploy {

struct StoreState {
  std::string active, previous, trial;
  // What a failed or interrupted trial restores.
  std::string restore_active, restore_previous;
  uint64_t highest_counter = 0;
  // The bundle whose trial was last interrupted, and how many times in a row.
  std::string interrupted;
  int interrupted_count = 0;
};

inline constexpr int kMaxInterruptedTrials = 2;

using SmokeFn = std::function<Status(const std::string& bundle_dir, const Manifest& manifest)>;
using LogFn = std::function<void(const std::string& line)>;

struct InstallOptions {
  const TrustedKeys* trusted = nullptr;
  bool activate = true;  // run the trial right after installing
  SmokeFn smoke;         // empty: no smoke test (tests only)
  ProgressFn progress;   // copy / hash progress
  LogFn log;             // human-readable steps
};

struct QuarantineRecord {
  std::string bundle_id, reason, timestamp;
};

class Store {
 public:
  ~Store();
  Store(Store&& other) noexcept;
  Store& operator=(Store&&) = delete;

  // Opens (creating with `create`) the store for writing: takes the lock,
  // waiting for another writer, then recovers from any interrupted operation.
  static Result<Store> OpenForWrite(const std::string& root, bool create, LogFn log = {});
  // Reads the state without locking (state.json is always whole).
  static Result<StoreState> ReadState(const std::string& root);
  // True when a writer holds the lock right now.
  static bool WriterActive(const std::string& root);

  const std::string& root() const { return root_; }
  std::string BundleDir(const std::string& id) const { return root_ + "/bundles/" + id; }
  const StoreState& state() const { return state_; }

  // verify → stage → verify the staged copy → seal → move into bundles/ →
  // (activate: trial). Returns the bundle id. Nothing changes when the bundle
  // fails verification, is a downgrade or is quarantined.
  Result<std::string> Install(const std::string& bundle_path, const InstallOptions& options);
  // Trial-activates an installed bundle: it becomes active with the old state
  // kept for restore, the smoke test runs, then it is committed or rolled back
  // and quarantined (returning the smoke error).
  Status Activate(const std::string& id, const SmokeFn& smoke, const LogFn& log = {});
  // The explicit rollback: active ← previous (or `to`, a retained bundle), the
  // version counter check skipped. With `quarantine`, the bundle rolled away
  // from is quarantined (it is no longer `previous`).
  Status Rollback(const std::string& to, bool quarantine, const std::string& reason,
                  const LogFn& log = {});

  std::vector<std::string> InstalledIds() const;
  std::vector<QuarantineRecord> Quarantined() const;
  static std::vector<QuarantineRecord> ListQuarantine(const std::string& root);

 private:
  Store() = default;
  Status Recover(const LogFn& log);
  Status WriteState(const StoreState& s);
  Status Quarantine(const std::string& id, const std::string& reason);
  Status CollectGarbage();
  void Event(const std::string& event, const std::string& bundle_id, const std::string& detail);
  Result<Manifest> InstalledManifest(const std::string& id) const;

  std::string root_;
  int lock_fd_ = -1;
  StoreState state_;
};

// Bundle ids under <root>/bundles, sorted.
std::vector<std::string> ListInstalled(const std::string& root);

// Parses / serializes state.json (exposed for tests).
Result<StoreState> ParseStoreState(std::string_view text);
std::string SerializeStoreState(const StoreState& s);
// RFC 3339 UTC time of now ("2026-11-25T07:22:42Z").
std::string NowUtc();

}  // namespace hearth::deploy
