#include "deploy/update_agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "deploy/channel.h"
#include "deploy/http_fetch.h"

namespace hearth::deploy {
namespace {

bool IsUrl(const std::string& s) {
  return StartsWith(s, "http://") || StartsWith(s, "https://") || StartsWith(s, "file://");
}

Result<std::string> FetchSmall(const std::string& origin, const std::string& rel, size_t max) {
  const std::string where = JoinOrigin(origin, rel);
  if (IsUrl(where)) return FetchToString(where, max);
  return ReadFileToString(where, max);
}

// The last channel sequence seen (0 when none, or the file is unreadable).
uint64_t LastSequence(const std::string& root, const std::string& channel) {
  Result<std::string> text = ReadFileToString(root + "/update-state.json", 1 << 20);
  if (!text.ok()) return 0;
  Result<json::Value> doc = json::Parse(*text);
  if (!doc.ok()) return 0;
  const json::Value* seqs = doc->Find("sequences");
  const json::Value* v = seqs ? seqs->Find(channel) : nullptr;
  return v && v->is_integer() && v->as_int() > 0 ? static_cast<uint64_t>(v->as_int()) : 0;
}

Status SaveSequence(const std::string& root, const std::string& channel, uint64_t seq) {
  json::Value doc = json::Value::Object{{"sequences", json::Value::Object{}}};
  if (Result<std::string> text = ReadFileToString(root + "/update-state.json", 1 << 20); text.ok())
    if (Result<json::Value> old = json::Parse(*text);
        old.ok() && old->Find("sequences") && old->Find("sequences")->is_object())
      doc = *old;
  doc.Find("sequences")->Set(channel, seq);
  return WriteFileAtomic(root + "/update-state.json", json::Serialize(doc, 2) + "\n");
}

void Fail(UpdateReport* r, const Status& s) {
  r->result = "failed";
  r->message = s.message();
  r->reason = s.reason();
}

}  // namespace

json::Value UpdateReport::ToJson() const {
  json::Value::Object o{{"event", "update"},
                        {"result", result},
                        {"channel", channel},
                        {"sequence", sequence},
                        {"bundle_id", bundle_id},
                        {"active", active.empty() ? json::Value() : json::Value(active)},
                        {"bucket", bucket},
                        {"downloaded_bytes", downloaded_bytes},
                        {"resumed_from", resumed_from}};
  if (!message.empty()) o.emplace_back("message", message);
  if (!reason.empty()) o.emplace_back("reason", reason);
  return o;
}

Result<std::string> ResolveDeviceId(const std::string& explicit_id, const std::string& root) {
  if (!explicit_id.empty()) return explicit_id;
  for (const std::string& path : {root + "/device-id", std::string("/etc/machine-id")}) {
    if (Result<std::string> text = ReadFileToString(path, 4096); text.ok()) {
      std::string id(StripWhitespace(*text));
      if (!id.empty()) return id;
    }
  }
  return NotFoundError("no device id: pass --device-id, or write one to " + root +
                           "/device-id (/etc/machine-id is missing)",
                       "update.device_id");
}

UpdateReport RunUpdateOnce(const UpdateOptions& o) {
  UpdateReport r;
  r.channel = o.channel;
  auto say = [&](const std::string& s) {
    if (o.log) o.log(s);
  };

  Result<Store> opened = Store::OpenForWrite(o.root, /*create=*/true, o.log);
  if (!opened.ok()) return Fail(&r, opened.status()), r;
  Store& store = *opened;
  r.active = store.state().active;

  // 1. The channel file, authenticated before anything in it is used.
  const std::string rel = "channels/" + o.channel + ".json";
  Result<std::string> text = FetchSmall(o.origin, rel, 1 << 20);
  if (!text.ok()) return Fail(&r, text.status().WithContext("fetching " + rel)), r;
  Result<std::string> sig = FetchSmall(o.origin, rel + ".sig", 1 << 20);
  if (!sig.ok()) return Fail(&r, sig.status().WithContext("fetching " + rel + ".sig")), r;
  TrustedKeys none;
  if (Status s = CheckSignatures(*text, *sig, o.trusted ? *o.trusted : none, nullptr); !s.ok())
    return Fail(&r, s.WithContext("channel " + o.channel)), r;
  Result<Channel> channel = ParseChannel(*text);
  if (!channel.ok()) return Fail(&r, channel.status()), r;
  const Channel& c = *channel;
  r.sequence = c.sequence;
  r.bundle_id = c.bundle.bundle_id;
  if (c.channel != o.channel)
    return Fail(&r, DataLossError("the file for channel '" + o.channel + "' is signed for '" +
                                      c.channel + "'",
                                  "channel.mismatch")),
           r;
  const uint64_t last = LastSequence(o.root, o.channel);
  if (c.sequence < last)
    return Fail(&r, DataLossError(StrFormat("channel sequence %llu is older than %llu seen before "
                                            "(a replayed channel file?)",
                                            static_cast<unsigned long long>(c.sequence),
                                            static_cast<unsigned long long>(last)),
                                  "channel.rollback")),
           r;
  (void)SaveSequence(o.root, o.channel, c.sequence);

  // 2. Is there anything to do for this device?
  if (store.state().active == c.bundle.bundle_id) {
    r.result = "up_to_date";
    return r;
  }
  for (const QuarantineRecord& q : store.Quarantined())
    if (q.bundle_id == c.bundle.bundle_id) {
      r.result = "skipped";
      r.message = "bundle is quarantined: " + q.reason;
      return r;
    }
  if (c.bundle.version_counter < store.state().highest_counter) {
    r.result = "skipped";
    r.message = "the channel's bundle is older than the highest installed";
    return r;
  }
  Result<DeviceFacts> facts = ReadDeviceFacts(o.device_id, o.root);
  if (!facts.ok()) return Fail(&r, facts.status()), r;
  const RolloutDecision d = DecideRollout(c.rollout, *facts);
  r.bucket = d.bucket;
  if (!d.eligible || !d.selected) {
    r.result = d.eligible ? "not_selected" : "not_eligible";
    r.message = d.reason;
    return r;
  }

  // 3. Download (resumable) and check against the signed channel.
  const std::string downloads = o.root + "/downloads";
  if (::mkdir(downloads.c_str(), 0755) != 0 && errno != EEXIST)
    return Fail(&r, ErrnoError("creating '" + downloads + "'", errno)), r;
  const std::string part = downloads + "/" + c.bundle.sha256 + ".part";
  const std::string done = downloads + "/" + c.bundle.sha256 + ".tar";
  struct stat st;
  if (::stat(part.c_str(), &st) == 0) r.resumed_from = static_cast<uint64_t>(st.st_size);
  if (r.resumed_from > 0)
    say(StrFormat("resuming the download at %s", HumanBytes(r.resumed_from).c_str()));
  const std::string url = JoinOrigin(o.origin, c.bundle.url);
  if (!IsUrl(url)) {
    if (Status s = CopyFile(url, part + ".copy"); !s.ok()) return Fail(&r, s), r;
    ::rename((part + ".copy").c_str(), part.c_str());
  } else {
    FetchOptions fo;
    fo.expected_size = c.bundle.size;
    fo.max_attempts = o.fetch_attempts;
    fo.stall_timeout_s = o.stall_timeout_s;
    fo.on_progress = o.download_progress;
    Result<uint64_t> got = FetchToFile(url, part, fo);
    if (!got.ok()) return Fail(&r, got.status().WithContext("downloading " + url)), r;
  }
  if (::stat(part.c_str(), &st) != 0) return Fail(&r, ErrnoError("reading " + part, errno)), r;
  r.downloaded_bytes =
      static_cast<uint64_t>(st.st_size) - std::min<uint64_t>(r.resumed_from, st.st_size);
  Result<std::string> sha = Sha256FileHex(part);
  if (!sha.ok() || static_cast<uint64_t>(st.st_size) != c.bundle.size || *sha != c.bundle.sha256) {
    ::unlink(part.c_str());  // a wrong file must not be resumed from
    return Fail(&r, DataLossError("the downloaded bundle does not match the channel's size and "
                                  "sha256 (deleted; the next poll downloads it again)",
                                  "update.hash_mismatch")),
           r;
  }
  if (::rename(part.c_str(), done.c_str()) != 0)
    return Fail(&r, ErrnoError("renaming " + part, errno)), r;

  // 4. Install, trial, commit.
  InstallOptions io;
  io.trusted = o.trusted;
  io.smoke = o.smoke;
  io.log = o.log;
  Result<std::string> id = store.Install(done, io);
  ::unlink(done.c_str());
  r.active = store.state().active;
  if (!id.ok()) return Fail(&r, id.status()), r;
  if (*id != c.bundle.bundle_id)
    say("note: the channel names " + c.bundle.bundle_id + " but the bundle is " + *id);
  r.result = "installed";
  return r;
}

}  // namespace hearth::deploy
