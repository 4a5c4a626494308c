#include "deploy/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "base/mapped_file.h"
#include "base/strings.h"
#include "deploy/crash_point.h"
#include "deploy/tar.h"
#include "deploy/verify.h"

namespace hearth::deploy {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// A directory's entries; a missing directory has none.
std::vector<std::string> ListDir(const std::string& dir) {
  Result<std::vector<std::string>> names = ListDirectory(dir);
  return names.ok() ? std::move(names).value() : std::vector<std::string>{};
}

Status MakeDir(const std::string& dir, mode_t mode = 0755) {
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    return ErrnoError("creating '" + dir + "'", errno);
  return Status::Ok();
}

Status MakeParents(const std::string& root, const std::string& rel) {
  size_t pos = 0;
  while ((pos = rel.find('/', pos)) != std::string::npos) {
    HEARTH_RETURN_IF_ERROR(MakeDir(root + "/" + rel.substr(0, pos)));
    ++pos;
  }
  return Status::Ok();
}

// Files 0444, directories 0555, each directory fsynced (children first).
Status Seal(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoError("sealing '" + path + "'", errno);
  if (S_ISDIR(st.st_mode)) {
    for (const std::string& n : ListDir(path)) HEARTH_RETURN_IF_ERROR(Seal(path + "/" + n));
    HEARTH_RETURN_IF_ERROR(SyncDir(path));
    if (::chmod(path.c_str(), 0555) != 0) return ErrnoError("sealing '" + path + "'", errno);
  } else if (::chmod(path.c_str(), 0444) != 0) {
    return ErrnoError("sealing '" + path + "'", errno);
  }
  return Status::Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return ErrnoError("renaming '" + from + "' to '" + to + "'", errno);
  return Status::Ok();
}

void Say(const LogFn& log, const std::string& line) {
  if (log) log(line);
}

}  // namespace

std::string NowUtc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string SerializeStoreState(const StoreState& s) {
  auto id = [](const std::string& v) { return v.empty() ? json::Value() : json::Value(v); };
  json::Value doc = json::Value::Object{{"schema", "hearth.store/v1"},
                                        {"active", id(s.active)},
                                        {"previous", id(s.previous)},
                                        {"trial", id(s.trial)},
                                        {"restore_active", id(s.restore_active)},
                                        {"restore_previous", id(s.restore_previous)},
                                        {"highest_counter", s.highest_counter},
                                        {"interrupted", id(s.interrupted)},
                                        {"interrupted_count", s.interrupted_count},
                                        {"updated_at", NowUtc()}};
  return json::Serialize(doc, 2) + "\n";
}

Result<StoreState> ParseStoreState(std::string_view text) {
  auto bad = [](const std::string& why) {
    return DataLossError("state.json: " + why, "store.state_corrupt");
  };
  Result<json::Value> doc = json::Parse(text);
  if (!doc.ok()) return bad(doc.status().message());
  Result<std::string> schema = json::GetString(*doc, "schema");
  if (!schema.ok() || *schema != "hearth.store/v1") return bad("schema is not hearth.store/v1");
  StoreState s;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"active", &s.active},
                          {"previous", &s.previous},
                          {"trial", &s.trial},
                          {"restore_active", &s.restore_active},
                          {"restore_previous", &s.restore_previous},
                          {"interrupted", &s.interrupted}}) {
    const json::Value* v = doc->Find(key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string() || !ValidateName(key, v->as_string()).ok())
      return bad(std::string("'") + key + "' is not a bundle id");
    *out = v->as_string();
  }
  Result<int64_t> h = json::GetInt(*doc, "highest_counter");
  if (!h.ok() || *h < 0) return bad("'highest_counter' must be an integer >= 0");
  s.highest_counter = static_cast<uint64_t>(*h);
  if (const json::Value* n = doc->Find("interrupted_count")) {
    if (!n->is_integer() || n->as_int() < 0 || n->as_int() > 1000)
      return bad("'interrupted_count' must be a small integer");
    s.interrupted_count = static_cast<int>(n->as_int());
  }
  return s;
}

Store::~Store() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Store::Store(Store&& o) noexcept
    : root_(std::move(o.root_)), lock_fd_(o.lock_fd_), state_(std::move(o.state_)) {
  o.lock_fd_ = -1;
}

Result<StoreState> Store::ReadState(const std::string& root) {
  const std::string path = root + "/state.json";
  if (!Exists(path)) {
    if (!Exists(root + "/bundles"))
      return NotFoundError("'" + root + "' is not a Hearth store (no state.json)", "store.missing");
    return StoreState{};
  }
  HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 1 << 20));
  return ParseStoreState(text);
}

bool Store::WriterActive(const std::string& root) {
  const int fd = ::open((root + "/lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return busy;
}

Result<Store> Store::OpenForWrite(const std::string& root, bool create, LogFn log) {
  if (create) {
    HEARTH_RETURN_IF_ERROR(MakeDir(root));
    for (const char* sub : {"bundles", "staging", "quarantine", "trusted-keys"})
      HEARTH_RETURN_IF_ERROR(MakeDir(root + "/" + sub));
  } else if (!Exists(root + "/bundles")) {
    return NotFoundError("'" + root + "' is not a Hearth store (no bundles/)", "store.missing");
  }
  Store store;
  store.root_ = root;
  store.lock_fd_ = ::open((root + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (store.lock_fd_ < 0) return ErrnoError("opening '" + root + "/lock'", errno);
  if (::flock(store.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    Say(log, "waiting for another hearth process that holds " + root + "/lock");
    if (::flock(store.lock_fd_, LOCK_EX) != 0) return ErrnoError("locking the store", errno);
  }
  HEARTH_ASSIGN_OR_RETURN(store.state_, ReadState(root));
  HEARTH_RETURN_IF_ERROR(store.Recover(log));
  return store;
}

Status Store::WriteState(const StoreState& s) {
  const std::string path = root_ + "/state.json";
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const std::string text = SerializeStoreState(s);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("creating '" + tmp + "'", errno);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return ErrnoError("writing '" + tmp + "'", err);
  }
  CrashPoint("state.written");
  HEARTH_RETURN_IF_ERROR(Rename(tmp, path));
  CrashPoint("state.renamed");
  HEARTH_RETURN_IF_ERROR(SyncDir(root_));
  CrashPoint("state.synced");
  state_ = s;
  return Status::Ok();
}

void Store::Event(const std::string& event, const std::string& bundle_id,
                  const std::string& detail) {
  json::Value line = json::Value::Object{
      {"ts", NowUtc()}, {"event", event}, {"bundle_id", bundle_id}, {"detail", detail}};
  const std::string text = json::Serialize(line) + "\n";
  const int fd =
      ::open((root_ + "/events.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;  // the event log is best effort; state.json is the truth
  [[maybe_unused]] ssize_t w = ::write(fd, text.data(), text.size());
  ::close(fd);
}

Result<Manifest> Store::InstalledManifest(const std::string& id) const {
  const std::string path = BundleDir(id) + "/" + kManifestName;
  if (!Exists(path))
    return NotFoundError("bundle '" + id + "' is not installed in " + root_, "store.not_installed");
  HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 16 << 20));
  return ParseManifest(text);
}

std::vector<std::string> ListInstalled(const std::string& root) {
  return ListDir(root + "/bundles");
}

std::vector<std::string> Store::InstalledIds() const {
  return ListInstalled(root_);
}

std::vector<QuarantineRecord> Store::ListQuarantine(const std::string& root) {
  std::vector<QuarantineRecord> out;
  for (const std::string& name : ListDir(root + "/quarantine")) {
    if (!EndsWith(name, ".json")) continue;
    QuarantineRecord r;
    r.bundle_id = name.substr(0, name.size() - 5);
    if (Result<std::string> text = ReadFileToString(root + "/quarantine/" + name, 1 << 16);
        text.ok()) {
      if (Result<json::Value> doc = json::Parse(*text); doc.ok()) {
        if (Result<std::string> v = json::GetString(*doc, "reason"); v.ok()) r.reason = *v;
        if (Result<std::string> v = json::GetString(*doc, "timestamp"); v.ok()) r.timestamp = *v;
      }
    }
    out.push_back(r);
  }
  return out;
}

std::vector<QuarantineRecord> Store::Quarantined() const {
  return ListQuarantine(root_);
}

Status Store::Quarantine(const std::string& id, const std::string& reason) {
  json::Value record = json::Value::Object{{"bundle_id", id},
                                           {"reason", reason},
                                           {"timestamp", NowUtc()},
                                           {"operator_action_required", true}};
  HEARTH_RETURN_IF_ERROR(
      WriteFileAtomic(root_ + "/quarantine/" + id + ".json", json::Serialize(record, 2) + "\n"));
  CrashPoint("quarantine.recorded");
  StoreState s = state_;
  if (s.trial == id) {
    s.active = s.restore_active;
    s.previous = s.restore_previous;
    s.trial.clear();
    s.restore_active.clear();
    s.restore_previous.clear();
  }
  if (s.previous == id) s.previous.clear();
  HEARTH_CHECK(s.active != id, "quarantining the active bundle");
  HEARTH_RETURN_IF_ERROR(WriteState(s));
  const std::string from = BundleDir(id), to = root_ + "/quarantine/" + id;
  if (Exists(from)) {
    if (Exists(to)) HEARTH_RETURN_IF_ERROR(RemoveTree(to));
    ::chmod(from.c_str(), 0755);  // a read-only directory cannot be moved to another parent
    HEARTH_RETURN_IF_ERROR(Rename(from, to));
    CrashPoint("quarantine.moved");
    HEARTH_RETURN_IF_ERROR(SyncDir(root_ + "/bundles"));
    HEARTH_RETURN_IF_ERROR(SyncDir(root_ + "/quarantine"));
  }
  Event("quarantined", id, reason);
  return Status::Ok();
}

Status Store::Recover(const LogFn& log) {
  // Work in progress of a dead writer.
  for (const std::string& name : ListDir(root_ + "/staging")) {
    Say(log, "recovery: removing unfinished staging/" + name);
    HEARTH_RETURN_IF_ERROR(RemoveTree(root_ + "/staging/" + name));
  }
  for (const std::string& name : ListDir(root_))
    if (StartsWith(name, "state.json.tmp-")) ::unlink((root_ + "/" + name).c_str());
  // An interrupted trial is undone; the second one in a row quarantines.
  if (!state_.trial.empty()) {
    const std::string id = state_.trial;
    const int count = state_.interrupted == id ? state_.interrupted_count + 1 : 1;
    Say(log, "recovery: the trial of " + id + " was interrupted; restoring " +
                 (state_.restore_active.empty() ? "no active bundle" : state_.restore_active));
    Event("trial_interrupted", id, StrFormat("%d time(s) in a row", count));
    if (count >= kMaxInterruptedTrials) {
      Say(log, "recovery: quarantining " + id);
      HEARTH_RETURN_IF_ERROR(Quarantine(
          id, StrFormat("trial interrupted %d times: the process ended before the smoke test "
                        "passed",
                        count)));
    } else {
      StoreState s = state_;
      s.active = s.restore_active;
      s.previous = s.restore_previous;
      s.trial.clear();
      s.restore_active.clear();
      s.restore_previous.clear();
      s.interrupted = id;
      s.interrupted_count = count;
      HEARTH_RETURN_IF_ERROR(WriteState(s));
    }
  }
  // A quarantine whose move did not happen yet.
  for (const QuarantineRecord& q : Quarantined()) {
    if (q.bundle_id != state_.active && Exists(BundleDir(q.bundle_id)))
      HEARTH_RETURN_IF_ERROR(Quarantine(q.bundle_id, q.reason));
  }
  return Status::Ok();
}

Status Store::CollectGarbage() {
  for (const std::string& id : InstalledIds()) {
    if (id == state_.active || id == state_.previous) continue;
    const std::string gc = root_ + "/staging/gc-" + id + "-" + std::to_string(::getpid());
    ::chmod(BundleDir(id).c_str(), 0755);
    HEARTH_RETURN_IF_ERROR(Rename(BundleDir(id), gc));
    CrashPoint("gc.moved");
    HEARTH_RETURN_IF_ERROR(SyncDir(root_ + "/bundles"));
    HEARTH_RETURN_IF_ERROR(RemoveTree(gc));
    Event("removed", id, "no longer active or previous");
  }
  return Status::Ok();
}

Result<std::string> Store::Install(const std::string& bundle_path, const InstallOptions& o) {
  Say(o.log, "verifying " + bundle_path);
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> source, BundleReader::Open(bundle_path));
  VerifyOptions vo;
  vo.trusted = o.trusted;
  vo.progress = o.progress;
  VerifyReport report = VerifyBundle(*source, vo);
  if (!report.ok())
    return FailedPreconditionError(
        "verification failed; nothing was installed\n" + report.Summary(),
        "verify." + report.problems.front().kind);
  const Manifest& m = report.manifest;
  const std::string id = m.bundle_id;

  if (Exists(root_ + "/quarantine/" + id + ".json"))
    return FailedPreconditionError(
        "bundle " + id + " is quarantined (see hearth status); it is not retried",
        "store.quarantined");
  if (Exists(BundleDir(id))) {
    HEARTH_ASSIGN_OR_RETURN(std::string installed,
                            ReadFileToString(BundleDir(id) + "/" + kManifestName, 16 << 20));
    if (installed != report.manifest_text)
      return AlreadyExistsError("a different bundle with id " + id + " is already installed",
                                "store.conflict");
    Say(o.log, id + " is already installed");
    if (o.activate && state_.active != id) HEARTH_RETURN_IF_ERROR(Activate(id, o.smoke, o.log));
    return id;
  }
  if (m.version_counter < state_.highest_counter)
    return FailedPreconditionError(
        StrFormat("downgrade refused: %s has version_counter %llu, below the highest installed "
                  "%llu (use `hearth rollback` to return to a retained bundle)",
                  id.c_str(), static_cast<unsigned long long>(m.version_counter),
                  static_cast<unsigned long long>(state_.highest_counter)),
        "store.downgrade");

  // Stage, then verify exactly what was written.
  const std::string stage = root_ + "/staging/" + id + "." + std::to_string(::getpid());
  HEARTH_RETURN_IF_ERROR(MakeDir(stage));
  CrashPoint("install.staging");
  Say(o.log, "copying into " + stage);
  if (source->is_tar()) {
    HEARTH_RETURN_IF_ERROR(ExtractTar(bundle_path, stage, o.progress));
  } else {
    for (const BundleReader::Entry& e : source->files()) {
      HEARTH_RETURN_IF_ERROR(MakeParents(stage, e.path));
      HEARTH_RETURN_IF_ERROR(CopyFile(bundle_path + "/" + e.path, stage + "/" + e.path));
    }
  }
  CrashPoint("install.copied");
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> staged, BundleReader::Open(stage));
  VerifyReport again = VerifyBundle(*staged, vo);
  if (!again.ok() || again.manifest_text != report.manifest_text) {
    (void)RemoveTree(stage);
    return DataLossError(
        "the staged copy does not verify (source changed while copying?)\n" + again.Summary(),
        "store.staged_mismatch");
  }
  CrashPoint("install.verified");
  HEARTH_RETURN_IF_ERROR(Seal(stage));
  CrashPoint("install.sealed");
  ::chmod(stage.c_str(), 0755);  // rename needs a writable dir only for cross-parent moves
  HEARTH_RETURN_IF_ERROR(Rename(stage, BundleDir(id)));
  ::chmod(BundleDir(id).c_str(), 0555);
  CrashPoint("install.renamed");
  HEARTH_RETURN_IF_ERROR(SyncDir(root_ + "/bundles"));
  HEARTH_RETURN_IF_ERROR(SyncDir(root_ + "/staging"));
  Event("installed", id, "signed by " + report.signer);
  Say(o.log, "installed " + id + " (signed by " + report.signer + ")");
  if (o.activate) HEARTH_RETURN_IF_ERROR(Activate(id, o.smoke, o.log));
  return id;
}

Status Store::Activate(const std::string& id, const SmokeFn& smoke, const LogFn& log) {
  HEARTH_ASSIGN_OR_RETURN(Manifest m, InstalledManifest(id));
  if (Exists(root_ + "/quarantine/" + id + ".json"))
    return FailedPreconditionError("bundle " + id + " is quarantined", "store.quarantined");
  if (state_.active == id && state_.trial.empty()) {
    Say(log, id + " is already active");
    return Status::Ok();
  }
  if (m.version_counter < state_.highest_counter)
    return FailedPreconditionError(
        StrFormat("downgrade refused: %s has version_counter %llu, below the highest installed "
                  "%llu (use `hearth rollback --to %s`)",
                  id.c_str(), static_cast<unsigned long long>(m.version_counter),
                  static_cast<unsigned long long>(state_.highest_counter), id.c_str()),
        "store.downgrade");
  StoreState trial = state_;
  trial.restore_active = state_.active;
  trial.restore_previous = state_.previous;
  if (!state_.active.empty() && state_.active != id) trial.previous = state_.active;
  trial.active = id;
  trial.trial = id;
  HEARTH_RETURN_IF_ERROR(WriteState(trial));
  Event("trial_started", id, "");
  Say(log, "trial: " + id + " is active; running the smoke test");
  CrashPoint("activate.smoke");
  Status smoke_status = smoke ? smoke(BundleDir(id), m) : Status::Ok();
  if (!smoke_status.ok()) {
    const std::string restored = state_.restore_active;
    HEARTH_RETURN_IF_ERROR(Quarantine(id, "smoke test failed: " + smoke_status.message()));
    return FailedPreconditionError(
        "the smoke test of " + id + " failed: " + smoke_status.message() + "\nrolled back to " +
            (restored.empty() ? std::string("no active bundle") : restored) + "; " + id +
            " is quarantined",
        "store.smoke_failed");
  }
  StoreState commit = trial;
  commit.trial.clear();
  commit.restore_active.clear();
  commit.restore_previous.clear();
  commit.highest_counter = std::max(state_.highest_counter, m.version_counter);
  if (commit.interrupted == id) {
    commit.interrupted.clear();
    commit.interrupted_count = 0;
  }
  HEARTH_RETURN_IF_ERROR(WriteState(commit));
  CrashPoint("activate.committed");
  Event("committed", id, "");
  Say(log, "committed " + id);
  return CollectGarbage();
}

Status Store::Rollback(const std::string& to, bool quarantine, const std::string& reason,
                       const LogFn& log) {
  const std::string target = to.empty() ? state_.previous : to;
  if (target.empty())
    return FailedPreconditionError("there is no previous bundle to roll back to",
                                   "store.no_previous");
  HEARTH_RETURN_IF_ERROR(InstalledManifest(target).status());
  if (Exists(root_ + "/quarantine/" + target + ".json"))
    return FailedPreconditionError("bundle " + target + " is quarantined", "store.quarantined");
  if (target == state_.active) {
    Say(log, target + " is already active");
    return Status::Ok();
  }
  const std::string old = state_.active;
  StoreState s = state_;
  s.active = target;
  s.previous = quarantine ? std::string() : old;
  HEARTH_RETURN_IF_ERROR(WriteState(s));
  CrashPoint("rollback.switched");
  Event("rolled_back", target, "from " + old);
  Say(log, "rolled back from " + (old.empty() ? std::string("nothing") : old) + " to " + target);
  if (quarantine && !old.empty())
    HEARTH_RETURN_IF_ERROR(
        Quarantine(old, reason.empty() ? "rolled back by the operator" : reason));
  return Status::Ok();
}

}  // namespace hearth::deploy
