// `hearth pack | keygen | sign | verify`: making and checking model bundles.
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

constexpr char kExitCodes[] =
    "Exit codes: 0 ok, 1 integrity (missing/extra/resized/modified file), 2 usage,\n"
    "3 signature (missing, bad or untrusted), 4 incompatible (runtime too old, model facts\n"
    "disagree, unsupported tensor types), 5 malformed bundle or manifest.\n";

}  // namespace

int RunPack(int argc, char** argv) {
  ArgParser p(
      "hearth pack",
      "Package a GGUF model into a bundle: manifest.json (schema hearth.bundle/v1) with\n"
      "the model's facts, generation defaults and the size and SHA-256 of every file.\n"
      "A .tar output is deterministic: packing the same inputs twice gives identical bytes.");
  p.Positional("MODEL.gguf", "the model");
  p.Option("name", 0, "NAME", "bundle name ([A-Za-z0-9._-])");
  p.Option("version", 0, "X.Y.Z", "bundle version (semantic)");
  p.Option("counter", 0, "N", "monotonic version_counter", "X*1000000 + Y*1000 + Z");
  p.Option("min-runtime", 0, "X.Y.Z", "oldest hearth that may load the bundle", "this version");
  p.Option("template", 0, "FILE", "chat template (Jinja) overriding the GGUF's");
  p.Option("defaults", 0, "FILE.json",
           "generation defaults: temperature, top_p, top_k, min_p, repetition_penalty, "
           "frequency_penalty, presence_penalty, seed, max_tokens, stop");
  p.Option("eval-suite", 0, "S.jsonl", "evaluation suite shipped with the bundle");
  p.Option("eval-baseline", 0, "B.json", "the suite's baseline results");
  p.Option("sign-key", 0, "NAME.key", "sign while packing (same as `hearth sign` afterwards)");
  p.Option("output", 'o', "BUNDLE[.tar]", "output: a .tar file, or a new directory");
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog(
      "Example:\n"
      "  hearth pack tiny.gguf --name tiny-chat --version 1.2.0 --defaults defaults.json \\\n"
      "      --sign-key release.key -o tiny-chat-1.2.0.tar\n");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("pack", p, a, &rc)) return rc;
  if (!a->Has("name") || !a->Has("version") || !a->Has("output"))
    return ReportError("pack", InvalidArgumentError("--name, --version and -o are required "
                                                    "(see hearth pack --help)",
                                                    "cli.usage"));
  deploy::PackOptions o;
  o.gguf_path = a->positionals[0];
  o.name = a->Get("name");
  o.version = a->Get("version");
  if (a->Has("counter")) {
    auto c = a->GetInt("counter", 0, 0, int64_t{1} << 53);
    if (!c.ok()) return ReportError("pack", c.status());
    o.version_counter = static_cast<uint64_t>(*c);
  }
  o.min_runtime_version = a->Get("min-runtime");
  o.template_path = a->Get("template");
  o.defaults_path = a->Get("defaults");
  o.eval_suite_path = a->Get("eval-suite");
  o.eval_baseline_path = a->Get("eval-baseline");
  o.output = a->Get("output");
  Result<deploy::SecretKey> key = InvalidArgumentError("unused");
  if (a->Has("sign-key")) {
    key = deploy::LoadSecretKey(a->Get("sign-key"));
    if (!key.ok()) return ReportDeployError("pack", key.status());
    o.sign_key = &*key;
  }
  ProgressLine progress("hashing", a->Has("quiet"));
  o.progress = [&](uint64_t d, uint64_t t) { progress.Update(d, t); };
  Result<deploy::PackResult> r = deploy::Pack(o);
  progress.Finish();
  if (!r.ok()) return ReportDeployError("pack", r.status());
  std::printf("Wrote %s: bundle %s (%zu files, version_counter %llu%s)\n", r->output.c_str(),
              r->manifest.bundle_id.c_str(), r->manifest.files.size(),
              static_cast<unsigned long long>(r->manifest.version_counter),
              o.sign_key ? ", signed" : ", unsigned: run hearth sign");
  return kExitOk;
}

int RunKeygen(int argc, char** argv) {
  ArgParser p("hearth keygen",
              "Create an Ed25519 signing key pair: NAME.key (secret, mode 0600, PKCS#8 PEM) and\n"
              "NAME.pub (public, PEM). Devices trust NAME.pub; keep NAME.key off devices.");
  p.Option("output", 'o', "NAME", "base path of the two files");
  p.Flag("force", 0, "replace existing files");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("keygen", p, a, &rc)) return rc;
  if (!a->Has("output"))
    return ReportError("keygen", InvalidArgumentError("-o NAME is required", "cli.usage"));
  Result<deploy::SecretKey> key = deploy::GenerateKey();
  if (!key.ok()) return ReportDeployError("keygen", key.status());
  const std::string base = a->Get("output");
  if (Status s = deploy::WriteKeyPair(*key, base, a->Has("force")); !s.ok())
    return ReportDeployError("keygen", s);
  std::printf("Wrote %s.key (secret) and %s.pub; key id %s\n", base.c_str(), base.c_str(),
              key->pub.key_id.c_str());
  return kExitOk;
}

int RunSign(int argc, char** argv) {
  ArgParser p("hearth sign",
              "Sign a bundle's manifest.json (Ed25519 over its exact bytes) into manifest.sig.\n"
              "Signing again with another key adds a signature; the same key replaces its own.");
  p.Positional("BUNDLE", "bundle directory or .tar");
  p.Option("key", 'k', "NAME.key", "secret key from hearth keygen");
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("sign", p, a, &rc)) return rc;
  if (!a->Has("key"))
    return ReportError("sign", InvalidArgumentError("--key NAME.key is required", "cli.usage"));
  Result<deploy::SecretKey> key = deploy::LoadSecretKey(a->Get("key"));
  if (!key.ok()) return ReportDeployError("sign", key.status());
  if (Status s = deploy::SignBundle(a->positionals[0], *key); !s.ok())
    return ReportDeployError("sign", s);
  std::printf("Signed %s with key %s\n", a->positionals[0].c_str(), key->pub.key_id.c_str());
  return kExitOk;
}

int RunVerify(int argc, char** argv) {
  ArgParser p(
      "hearth verify",
      "Verify a bundle, failing closed: signature by a trusted key, runtime version,\n"
      "every file's presence, size and SHA-256 (no extra files), and the model's facts\n"
      "(architecture, quantization, context, vocabulary, special tokens, template) against\n"
      "the GGUF itself.");
  p.Positional("BUNDLE", "bundle directory or .tar");
  p.Option("trusted-keys", 0, "DIR|KEY.pub", "trusted public keys", "$HEARTH_TRUSTED_KEYS");
  p.Flag("json", 0, "print the report as JSON");
  p.Flag("quiet", 'q', "no progress output");
  p.Epilog(kExitCodes);
  auto a = p.Parse(argc, argv);
  int rc;
  if (HelpOrError("verify", p, a, &rc)) return rc;
  Result<deploy::TrustedKeys> trust = LoadTrust(a->Get("trusted-keys"), "");
  auto bundle = deploy::BundleReader::Open(a->positionals[0]);
  if (!bundle.ok()) return ReportDeployError("verify", bundle.status());
  deploy::VerifyOptions vo;
  vo.trusted = trust.ok() ? &*trust : nullptr;
  ProgressLine progress("hashing", a->Has("quiet") || a->Has("json"));
  vo.progress = [&](uint64_t d, uint64_t t) { progress.Update(d, t); };
  deploy::VerifyReport r = deploy::VerifyBundle(**bundle, vo);
  progress.Finish();
  if (!trust.ok() && r.exit_code == deploy::kVerifySignature)
    r.problems.back().message += " (" + trust.status().message() + ")";
  if (a->Has("json")) {
    json::Value::Array problems;
    for (const auto& pr : r.problems)
      problems.push_back(
          json::Value::Object{{"kind", pr.kind}, {"path", pr.path}, {"message", pr.message}});
    json::Value doc = json::Value::Object{{"ok", r.ok()},
                                          {"exit_code", r.exit_code},
                                          {"bundle_id", r.manifest.bundle_id},
                                          {"signer", r.signer},
                                          {"problems", problems}};
    std::printf("%s\n", json::Serialize(doc).c_str());
  } else if (r.ok()) {
    std::printf("Integrity check passed: %s %s (signed by %s)\n", r.manifest.bundle_id.c_str(),
                r.manifest.version.c_str(), r.signer.c_str());
  } else {
    std::fprintf(stderr, "%s\n", r.Summary().c_str());
  }
  return r.exit_code;
}

}  // namespace hearth::cli
