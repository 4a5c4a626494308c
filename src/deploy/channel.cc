#include "deploy/channel.h"

#include <sys/stat.h>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "deploy/bundle.h"
#include "deploy/manifest.h"

namespace hearth::deploy {

Result<Channel> ParseChannel(std::string_view text) {
  auto bad = [](const std::string& why) {
    return DataLossError("channel file: " + why, "channel.invalid");
  };
  Result<json::Value> doc = json::Parse(text, {.max_depth = 16, .max_bytes = 1 << 20});
  if (!doc.ok()) return bad(doc.status().message());
  if (!doc->is_object()) return bad("must be a JSON object");
  for (const auto& [key, v] : doc->as_object())
    if (key != "schema" && key != "channel" && key != "sequence" && key != "bundle" &&
        key != "rollout")
      return bad("unknown field '" + key + "'");
  Result<std::string> schema = json::GetString(*doc, "schema");
  if (!schema.ok() || *schema != "hearth.channel/v1") return bad("schema is not hearth.channel/v1");
  Channel c;
  Result<std::string> name = json::GetString(*doc, "channel");
  Result<int64_t> seq = json::GetInt(*doc, "sequence");
  if (!name.ok() || !ValidateName("channel", *name).ok()) return bad("bad 'channel'");
  if (!seq.ok() || *seq < 0) return bad("'sequence' must be an integer >= 0");
  c.channel = *name;
  c.sequence = static_cast<uint64_t>(*seq);
  const json::Value* b = doc->Find("bundle");
  if (b == nullptr || !b->is_object()) return bad("missing object 'bundle'");
  Result<std::string> id = json::GetString(*b, "bundle_id");
  Result<int64_t> counter = json::GetInt(*b, "version_counter");
  Result<std::string> url = json::GetString(*b, "url");
  Result<int64_t> size = json::GetInt(*b, "size");
  Result<std::string> sha = json::GetString(*b, "sha256");
  if (!id.ok() || !ValidateName("bundle_id", *id).ok()) return bad("bad bundle.bundle_id");
  if (!counter.ok() || *counter < 0) return bad("bad bundle.version_counter");
  if (!url.ok() || url->empty()) return bad("bad bundle.url");
  if (!size.ok() || *size <= 0) return bad("bad bundle.size");
  if (!sha.ok() || sha->size() != 64) return bad("bad bundle.sha256");
  c.bundle = {*id, static_cast<uint64_t>(*counter), *url, static_cast<uint64_t>(*size), *sha};
  const json::Value* r = doc->Find("rollout");
  if (r == nullptr) return bad("missing object 'rollout'");
  Result<RolloutPolicy> policy = ParseRolloutPolicy(*r);
  if (!policy.ok()) return bad(policy.status().message());
  c.rollout = *policy;
  return c;
}

std::string SerializeChannel(const Channel& c) {
  json::Value doc = json::Value::Object{
      {"schema", "hearth.channel/v1"},
      {"channel", c.channel},
      {"sequence", c.sequence},
      {"bundle", json::Value::Object{{"bundle_id", c.bundle.bundle_id},
                                     {"version_counter", c.bundle.version_counter},
                                     {"url", c.bundle.url},
                                     {"size", c.bundle.size},
                                     {"sha256", c.bundle.sha256}}},
      {"rollout", RolloutPolicyToJson(c.rollout)}};
  return json::Serialize(doc, 2) + "\n";
}

std::string JoinOrigin(const std::string& origin, const std::string& rel) {
  if (StartsWith(rel, "http://") || StartsWith(rel, "https://") || StartsWith(rel, "file://"))
    return rel;
  std::string base = origin;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + rel;
}

Result<Channel> Publish(const PublishOptions& o) {
  if (o.key == nullptr) return InvalidArgumentError("publishing needs a signing key", "cli.usage");
  HEARTH_RETURN_IF_ERROR(ValidateName("channel", o.channel));
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> b, BundleReader::Open(o.bundle_tar));
  if (!b->is_tar()) return InvalidArgumentError("publish takes a bundle .tar", "cli.usage");
  HEARTH_ASSIGN_OR_RETURN(std::string text, b->ReadSmall(kManifestName, 16 << 20));
  HEARTH_ASSIGN_OR_RETURN(Manifest m, ParseManifest(text));
  for (const char* sub : {"", "/bundles", "/channels"}) {
    const std::string d = o.origin_dir + sub;
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
      return ErrnoError("creating '" + d + "'", errno);
  }
  const std::string rel = "bundles/" + m.bundle_id + ".tar";
  const std::string dest = o.origin_dir + "/" + rel;
  ::unlink((dest + ".part").c_str());
  HEARTH_RETURN_IF_ERROR(CopyFile(o.bundle_tar, dest + ".part"));
  if (::rename((dest + ".part").c_str(), dest.c_str()) != 0)
    return ErrnoError("placing '" + dest + "'", errno);
  Channel c;
  c.channel = o.channel;
  const std::string channel_path = o.origin_dir + "/channels/" + o.channel + ".json";
  if (o.sequence) {
    c.sequence = *o.sequence;
  } else if (Result<std::string> old = ReadFileToString(channel_path, 1 << 20); old.ok()) {
    if (Result<Channel> prev = ParseChannel(*old); prev.ok()) c.sequence = prev->sequence + 1;
  } else {
    c.sequence = 1;
  }
  struct stat st;
  if (::stat(dest.c_str(), &st) != 0) return ErrnoError("reading '" + dest + "'", errno);
  HEARTH_ASSIGN_OR_RETURN(std::string sha, Sha256FileHex(dest));
  c.bundle = {m.bundle_id, m.version_counter, rel, static_cast<uint64_t>(st.st_size), sha};
  c.rollout = o.rollout;
  const std::string channel_text = SerializeChannel(c);
  HEARTH_ASSIGN_OR_RETURN(std::string sig, AddSignature(*o.key, channel_text, ""));
  // Signature first: a client never sees a new channel file without its signature
  // (it may briefly see the old file with the new signature, which fails closed).
  HEARTH_RETURN_IF_ERROR(WriteFileAtomic(channel_path + ".sig", sig));
  HEARTH_RETURN_IF_ERROR(WriteFileAtomic(channel_path, channel_text));
  return c;
}

}  // namespace hearth::deploy
