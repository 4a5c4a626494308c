// `hearth rollout | update | publish`: staged rollout and the update agent.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "args.h"
#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "commands.h"
#include "deploy/channel.h"
#include "deploy/rollout.h"
#include "deploy/update_agent.h"
#include "deploy_cli.h"

namespace hearth::cli {
namespace {

int RolloutBucketCmd(int argc, char** argv) {
  ArgParser p(
      "hearth rollout bucket",
      "Print a device's rollout bucket: the first 8 bytes of SHA-256(salt \":\" device_id),\n"
      "big-endian, mod 1000 (SHA-256(device_id) when the salt is empty).");
  p.Option("device-id", 0, "ID", "the device (or user) id");
  p.Option("salt", 0, "S", "the rollout's salt", "empty");
  p.Flag("json", 0, "print JSON");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("rollout bucket", p, a, &rc)) return rc;
  if (!a->Has("device-id"))
    return ReportError("rollout", InvalidArgumentError("--device-id is required", "cli.usage"));
  const uint32_t b = deploy::RolloutBucket(a->Get("device-id"), a->Get("salt"));
  if (a->Has("json"))
    std::printf("{\"device_id\":%s,\"salt\":%s,\"bucket\":%u}\n",
                json::Serialize(json::Value(a->Get("device-id"))).c_str(),
                json::Serialize(json::Value(a->Get("salt"))).c_str(), b);
  else
    std::printf("%u\n", b);
  return kExitOk;
}

int RolloutCheckCmd(int argc, char** argv) {
  ArgParser p("hearth rollout check",
              "Decide whether this device takes a rollout: eligibility (runtime version, free\n"
              "RAM and disk, ISA) and bucket < rollout_permille. Exit 0 selected, 1 not.");
  p.Option("policy", 0, "rollout.json", "the policy");
  p.Option("device-id", 0, "ID", "the device id");
  p.Option("disk", 0, "DIR", "where free disk is measured", ".");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("rollout check", p, a, &rc)) return rc;
  if (!a->Has("policy") || !a->Has("device-id"))
    return ReportError("rollout",
                       InvalidArgumentError("--policy and --device-id are required", "cli.usage"));
  auto text = ReadFileToString(a->Get("policy"), 1 << 20);
  if (!text.ok()) return ReportError("rollout", text.status());
  auto doc = json::Parse(*text);
  if (!doc.ok()) return ReportError("rollout", doc.status().WithContext(a->Get("policy")));
  auto policy = deploy::ParseRolloutPolicy(*doc);
  if (!policy.ok()) return ReportError("rollout", policy.status());
  auto facts = deploy::ReadDeviceFacts(a->Get("device-id"), a->Get("disk", "."));
  if (!facts.ok()) return ReportError("rollout", facts.status());
  deploy::RolloutDecision d = deploy::DecideRollout(*policy, *facts);
  std::printf("%s\n", json::Serialize(deploy::RolloutDecisionToJson(d)).c_str());
  return d.selected ? kExitOk : kExitFailure;
}

}  // namespace

int RunRollout(int argc, char** argv) {
  if (argc >= 1 && std::string(argv[0]) == "bucket") return RolloutBucketCmd(argc - 1, argv + 1);
  if (argc >= 1 && std::string(argv[0]) == "check") return RolloutCheckCmd(argc - 1, argv + 1);
  std::fprintf(argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h")
                   ? stdout
                   : stderr,
               "Usage: hearth rollout bucket --device-id ID [--salt S] [--json]\n"
               "       hearth rollout check --policy rollout.json --device-id ID [--disk DIR]\n"
               "Staged rollout: a device is selected when eligible and its bucket (0-999) is\n"
               "below the policy's rollout_permille.\n");
  return argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h")
             ? kExitOk
             : kExitUsage;
}

int RunPublish(int argc, char** argv) {
  ArgParser p("hearth publish",
              "Place a signed bundle .tar on a static origin directory (to upload to a CDN,\n"
              "S3 or nginx) and point a signed channel file at it: bundles/<id>.tar,\n"
              "channels/<channel>.json and channels/<channel>.json.sig.");
  p.Positional("BUNDLE.tar", "a signed bundle");
  p.Option("origin-dir", 0, "DIR", "the origin's root directory");
  p.Option("channel", 0, "NAME", "channel name", "stable");
  p.Option("key", 'k', "NAME.key", "key that signs the channel file");
  p.Option("sequence", 0, "N", "channel sequence", "previous + 1");
  p.Option("rollout-permille", 0, "N", "0-1000 (120 = 12%)", "1000");
  p.Option("salt", 0, "S", "rollout salt (bucket = SHA-256(salt \":\" device_id))",
           "empty: SHA-256(device_id)");
  p.Option("min-runtime", 0, "X.Y.Z", "eligibility: oldest runtime");
  p.Option("min-free-ram-mib", 0, "N", "eligibility: available RAM");
  p.Option("min-free-disk-mib", 0, "N", "eligibility: free disk");
  p.Option("isa", 0, "A,B", "eligibility: required CPU features (e.g. avx2)");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("publish", p, a, &rc)) return rc;
  if (!a->Has("origin-dir") || !a->Has("key"))
    return ReportError("publish",
                       InvalidArgumentError("--origin-dir and --key are required", "cli.usage"));
  auto key = deploy::LoadSecretKey(a->Get("key"));
  if (!key.ok()) return ReportDeployError("publish", key.status());
  deploy::PublishOptions o;
  o.bundle_tar = a->positionals[0];
  o.origin_dir = a->Get("origin-dir");
  o.channel = a->Get("channel", "stable");
  o.key = &*key;
  if (a->Has("sequence")) {
    auto s = a->GetInt("sequence", 0, 0, int64_t{1} << 53);
    if (!s.ok()) return ReportError("publish", s.status());
    o.sequence = static_cast<uint64_t>(*s);
  }
  auto permille = a->GetInt("rollout-permille", 1000, 0, 1000);
  auto ram = a->GetInt("min-free-ram-mib", 0, 0, int64_t{1} << 40);
  auto disk = a->GetInt("min-free-disk-mib", 0, 0, int64_t{1} << 40);
  for (const Status& s : {permille.status(), ram.status(), disk.status()})
    if (!s.ok()) return ReportError("publish", s);
  o.rollout.rollout_permille = static_cast<uint32_t>(*permille);
  o.rollout.salt = a->Get("salt");
  o.rollout.eligibility.min_runtime_version = a->Get("min-runtime");
  o.rollout.eligibility.min_free_ram_mib = static_cast<uint64_t>(*ram);
  o.rollout.eligibility.min_free_disk_mib = static_cast<uint64_t>(*disk);
  const std::string isa = a->Get("isa");  // StrSplit returns views into it
  for (std::string_view f : StrSplit(isa, ','))
    if (!f.empty()) o.rollout.eligibility.isa.emplace_back(f);
  auto c = deploy::Publish(o);
  if (!c.ok()) return ReportDeployError("publish", c.status());
  std::printf("Published %s on channel %s (sequence %llu, rollout %u per mille)\n",
              c->bundle.bundle_id.c_str(), c->channel.c_str(),
              static_cast<unsigned long long>(c->sequence), c->rollout.rollout_permille);
  return kExitOk;
}

int RunUpdate(int argc, char** argv) {
  ArgParser p("hearth update",
              "Poll a signed channel on a static origin (http(s) URL or directory), and when\n"
              "this device is selected by the rollout, download the bundle (resuming an\n"
              "interrupted download), verify it, install it and trial-activate it. Prints one\n"
              "JSON line per poll: {\"event\":\"update\",\"result\":...}.");
  p.Option("origin", 0, "URL|DIR", "the origin");
  p.Option("channel", 0, "NAME", "channel", "stable");
  p.Option("root", 0, "DIR", "the device store", "$HEARTH_ROOT or /var/lib/hearth");
  p.Option("trusted-keys", 0, "DIR|KEY.pub", "trusted public keys", "<root>/trusted-keys");
  p.Option("device-id", 0, "ID", "this device's id", "<root>/device-id or /etc/machine-id");
  p.Flag("once", 0, "poll once and exit (the default)");
  p.Option("interval", 0, "S", "poll every S seconds until stopped");
  p.Option("attempts", 0, "N", "download attempts per poll", "3");
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog("Exit codes (--once): 0 installed, up to date, not selected or skipped; 1 failed.\n");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("update", p, a, &rc)) return rc;
  if (!a->Has("origin"))
    return ReportError("update", InvalidArgumentError("--origin is required", "cli.usage"));
  auto interval = a->GetInt("interval", 0, 1, 7 * 24 * 3600);
  auto attempts = a->GetInt("attempts", 3, 1, 100);
  if (!interval.ok()) return ReportError("update", interval.status());
  if (!attempts.ok()) return ReportError("update", attempts.status());
  const std::string root = a->Get("root", DefaultRoot());
  const bool quiet = a->Has("quiet");
  auto trust = LoadTrust(a->Get("trusted-keys"), root);
  if (!trust.ok()) return ReportDeployError("update", trust.status());
  auto device = deploy::ResolveDeviceId(a->Get("device-id"), root);
  if (!device.ok()) return ReportError("update", device.status());
  for (;;) {
    ProgressLine progress("downloading", quiet);
    deploy::UpdateOptions o;
    o.origin = a->Get("origin");
    o.channel = a->Get("channel", "stable");
    o.root = root;
    o.device_id = *device;
    o.trusted = &*trust;
    o.smoke = DefaultSmoke();
    o.fetch_attempts = static_cast<int>(*attempts);
    o.download_progress = [&](uint64_t d, uint64_t t) { progress.Update(d, t); };
    o.log = [&](const std::string& line) {
      progress.Finish();
      if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
    };
    deploy::UpdateReport r = deploy::RunUpdateOnce(o);
    progress.Finish();
    std::printf("%s\n", json::Serialize(r.ToJson()).c_str());
    std::fflush(stdout);
    if (!a->Has("interval")) return r.result == "failed" ? kExitFailure : kExitOk;
    std::this_thread::sleep_for(std::chrono::seconds(*interval));
  }
}

}  // namespace hearth::cli
