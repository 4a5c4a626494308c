// `hearth install | activate | rollback | status`: the device's bundle store.
#include <cstdio>

#include "args.h"
#include "base/json.h"
#include "base/strings.h"
#include "commands.h"
#include "deploy/bundle.h"
#include "deploy/verify.h"
#include "deploy_cli.h"

namespace hearth::cli {
namespace {

void RootOption(ArgParser& p) {
  p.Option("root", 0, "DIR", "the device store", "$HEARTH_ROOT or /var/lib/hearth");
}

deploy::LogFn StderrLog(bool quiet) {
  if (quiet) return {};
  return [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
}

constexpr char kStoreExitCodes[] =
    "Exit codes: 0 ok, 1 failed (I/O, integrity), 2 usage, 3 signature, 4 incompatible,\n"
    "5 malformed bundle, 6 refused (downgrade, quarantined, id conflict), 7 smoke test failed\n"
    "(rolled back and quarantined).\n";

// What `status` says about one installed bundle.
json::Value DescribeBundle(const std::string& root, const std::string& id, bool hash) {
  if (id.empty()) return json::Value();
  json::Value::Object o{{"bundle_id", id}};
  auto reader = deploy::BundleReader::Open(root + "/bundles/" + id);
  if (!reader.ok()) {
    o.emplace_back("loadable", false);
    o.emplace_back("problem", reader.status().message());
    return o;
  }
  deploy::VerifyOptions vo;
  vo.check_signature = false;  // checked at install; the store is read-only
  vo.hash_files = hash;
  deploy::VerifyReport r = deploy::VerifyBundle(**reader, vo);
  if (!r.manifest.name.empty()) {
    o.emplace_back("name", r.manifest.name);
    o.emplace_back("version", r.manifest.version);
    o.emplace_back("version_counter", r.manifest.version_counter);
    o.emplace_back("arch", r.manifest.model.arch);
    o.emplace_back("quant", r.manifest.model.quant);
  }
  o.emplace_back("loadable", r.ok());
  o.emplace_back("problem", r.ok() ? json::Value() : json::Value(r.problems.front().message));
  return o;
}

std::string Line(const json::Value& b) {
  if (b.is_null()) return "none";
  std::string s = b.Find("bundle_id")->as_string();
  if (const json::Value* n = b.Find("name"))
    s += StrFormat("  (%s %s, counter %lld, %s %s)", n->as_string().c_str(),
                   b.Find("version")->as_string().c_str(),
                   static_cast<long long>(b.Find("version_counter")->as_int()),
                   b.Find("arch")->as_string().c_str(), b.Find("quant")->as_string().c_str());
  s += b.Find("loadable")->as_bool() ? "  ok" : "  NOT LOADABLE: " + b.Find("problem")->as_string();
  return s;
}

}  // namespace

int RunInstall(int argc, char** argv) {
  ArgParser p("hearth install",
              "Install a signed bundle into the device store: verify (fail closed) -> copy into\n"
              "staging -> verify the copy -> seal read-only -> move into bundles/ -> trial:\n"
              "make it active, run a smoke generation, then commit it, or roll back to the\n"
              "previous bundle and quarantine it. A lower version_counter than the highest\n"
              "installed is refused (use hearth rollback).");
  p.Positional("BUNDLE", "bundle directory or .tar");
  RootOption(p);
  p.Option("trusted-keys", 0, "DIR|KEY.pub", "trusted public keys", "<root>/trusted-keys");
  p.Flag("no-activate", 0, "install only; activate later with hearth activate");
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog(kStoreExitCodes);
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("install", p, a, &rc)) return rc;
  const std::string root = a->Get("root", DefaultRoot());
  const bool quiet = a->Has("quiet");
  auto store = deploy::Store::OpenForWrite(root, /*create=*/true, StderrLog(quiet));
  if (!store.ok()) return ReportDeployError("install", store.status());
  auto trust = LoadTrust(a->Get("trusted-keys"), root);
  if (!trust.ok()) return ReportDeployError("install", trust.status());
  ProgressLine progress("verifying", quiet);
  deploy::InstallOptions io;
  io.trusted = &*trust;
  io.activate = !a->Has("no-activate");
  io.smoke = DefaultSmoke();
  io.progress = [&](uint64_t d, uint64_t t) { progress.Update(d, t); };
  io.log = [&](const std::string& line) {
    progress.Finish();
    if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
  };
  Result<std::string> id = store->Install(a->positionals[0], io);
  progress.Finish();
  if (!id.ok()) return ReportDeployError("install", id.status());
  std::printf("%s %s; active: %s\n", *id == store->state().active ? "activated" : "installed",
              id->c_str(), store->state().active.empty() ? "none" : store->state().active.c_str());
  return kExitOk;
}

int RunActivate(int argc, char** argv) {
  ArgParser p("hearth activate",
              "Trial-activate an installed bundle: it becomes active, a smoke generation runs,\n"
              "then it is committed or rolled back and quarantined.");
  p.Positional("BUNDLE_ID", "an installed bundle (see hearth status)");
  RootOption(p);
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog(kStoreExitCodes);
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("activate", p, a, &rc)) return rc;
  const std::string root = a->Get("root", DefaultRoot());
  auto store = deploy::Store::OpenForWrite(root, false, StderrLog(a->Has("quiet")));
  if (!store.ok()) return ReportDeployError("activate", store.status());
  if (Status s = store->Activate(a->positionals[0], DefaultSmoke(), StderrLog(a->Has("quiet")));
      !s.ok())
    return ReportDeployError("activate", s);
  std::printf("active: %s\n", store->state().active.c_str());
  return kExitOk;
}

int RunRollback(int argc, char** argv) {
  ArgParser p("hearth rollback",
              "Switch the active bundle back to the retained previous one in one atomic step\n"
              "(the explicit exception to the version_counter rule).");
  RootOption(p);
  p.Option("to", 0, "BUNDLE_ID", "an installed bundle other than the previous one");
  p.Flag("quarantine", 0, "quarantine the bundle rolled away from");
  p.Option("reason", 0, "TEXT", "recorded with --quarantine");
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog(kStoreExitCodes);
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("rollback", p, a, &rc)) return rc;
  const std::string root = a->Get("root", DefaultRoot());
  auto store = deploy::Store::OpenForWrite(root, false, StderrLog(a->Has("quiet")));
  if (!store.ok()) return ReportDeployError("rollback", store.status());
  if (Status s = store->Rollback(a->Get("to"), a->Has("quarantine"), a->Get("reason"),
                                 StderrLog(a->Has("quiet")));
      !s.ok())
    return ReportDeployError("rollback", s);
  std::printf("active: %s\n", store->state().active.c_str());
  return kExitOk;
}

int RunStatus(int argc, char** argv) {
  ArgParser p("hearth status",
              "Show the store: the active, previous and trial bundles (each checked to be\n"
              "complete and loadable), other installed bundles and quarantined ones. Reads only;\n"
              "an interrupted operation is repaired by the next install/activate/rollback/update.");
  RootOption(p);
  p.Flag("json", 0, "print JSON (schema hearth.status/v1)");
  p.Flag("verify", 0, "also re-hash every file of the active and previous bundles");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("status", p, a, &rc)) return rc;
  const std::string root = a->Get("root", DefaultRoot());
  auto state = deploy::Store::ReadState(root);
  if (!state.ok()) return ReportDeployError("status", state.status());
  const bool hash = a->Has("verify");
  json::Value active = DescribeBundle(root, state->active, hash);
  json::Value previous = DescribeBundle(root, state->previous, hash);
  json::Value trial;
  const bool writer = deploy::Store::WriterActive(root);
  if (!state->trial.empty())
    trial = json::Value::Object{{"bundle_id", state->trial}, {"in_progress", writer}};
  json::Value::Array installed, quarantined;
  for (const auto& q : deploy::Store::ListQuarantine(root))
    quarantined.push_back(json::Value::Object{
        {"bundle_id", q.bundle_id}, {"reason", q.reason}, {"timestamp", q.timestamp}});
  for (const std::string& id : deploy::ListInstalled(root)) installed.push_back(id);
  const bool ok = active.is_null() || active.Find("loadable")->as_bool();
  if (a->Has("json")) {
    json::Value doc = json::Value::Object{{"schema", "hearth.status/v1"},
                                          {"root", root},
                                          {"active", active},
                                          {"previous", previous},
                                          {"trial", trial},
                                          {"highest_counter", state->highest_counter},
                                          {"installed", installed},
                                          {"quarantined", quarantined},
                                          {"writer_active", writer}};
    std::printf("%s\n", json::Serialize(doc, 2).c_str());
  } else {
    std::printf("store:    %s\n", root.c_str());
    std::printf("active:   %s\n", Line(active).c_str());
    std::printf("previous: %s\n", Line(previous).c_str());
    std::printf("trial:    %s\n",
                state->trial.empty()
                    ? "none"
                    : (state->trial + (writer ? " (smoke test running)"
                                              : " (interrupted; the next store command rolls it "
                                                "back)"))
                          .c_str());
    std::printf("highest version_counter: %llu\n",
                static_cast<unsigned long long>(state->highest_counter));
    std::printf("installed: %zu bundle(s)\n", installed.size());
    for (const auto& q : quarantined)
      std::printf("quarantined: %s  %s  %s\n", q.Find("bundle_id")->as_string().c_str(),
                  q.Find("timestamp")->as_string().c_str(), q.Find("reason")->as_string().c_str());
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace hearth::cli

namespace hearth::cli {

int RunRecover(int argc, char** argv) {
  ArgParser p("hearth recover",
              "Repair the store after a crash or power loss (run it at boot, before serving):\n"
              "remove unfinished staging work, treat an interrupted trial as failed (restore the\n"
              "previous state, quarantine the bundle) and finish interrupted quarantines. Every\n"
              "install/activate/rollback/update does the same first.");
  RootOption(p);
  p.Flag("quiet", 'q', "print nothing but errors");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("recover", p, a, &rc)) return rc;
  const std::string root = a->Get("root", DefaultRoot());
  auto store = deploy::Store::OpenForWrite(root, false, StderrLog(a->Has("quiet")));
  if (!store.ok()) return ReportDeployError("recover", store.status());
  if (!a->Has("quiet"))
    std::printf("active: %s\n",
                store->state().active.empty() ? "none" : store->state().active.c_str());
  return kExitOk;
}

}  // namespace hearth::cli
