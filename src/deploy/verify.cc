#include "deploy/verify.h"

#include <set>

#include "base/build_info.h"
#include "base/strings.h"
#include "deploy/semver.h"

namespace hearth::deploy {
namespace {

void Fail(VerifyReport* r, int exit_code, std::string kind, std::string path, std::string msg) {
  if (r->exit_code == kVerifyOk) r->exit_code = exit_code;
  r->problems.push_back({std::move(kind), std::move(path), std::move(msg)});
}

bool CheckFiles(const BundleReader& b, const VerifyOptions& o, VerifyReport* r) {
  const Manifest& m = r->manifest;
  std::set<std::string> listed;
  uint64_t total = 0;
  std::vector<const ManifestFile*> to_hash;
  for (const ManifestFile& f : m.files) {
    listed.insert(f.path);
    const BundleReader::Entry* e = b.Find(f.path);
    if (e == nullptr) {
      Fail(r, kVerifyIntegrity, "missing", f.path, "missing: " + f.path);
    } else if (e->size != f.size) {
      Fail(r, kVerifyIntegrity, "size_mismatch", f.path,
           StrFormat("size mismatch: %s (manifest %llu bytes, found %llu)", f.path.c_str(),
                     static_cast<unsigned long long>(f.size),
                     static_cast<unsigned long long>(e->size)));
    } else {
      to_hash.push_back(&f);
      total += f.size;
    }
  }
  for (const BundleReader::Entry& e : b.files()) {
    if (e.path == kManifestName || e.path == kSignatureName || listed.count(e.path)) continue;
    Fail(r, kVerifyIntegrity, "extra", e.path, "extra: " + e.path + " (not in the manifest)");
  }
  if (!r->ok()) return false;  // sizes first: no hashing of a bundle already known bad
  if (!o.hash_files) return true;
  uint64_t base = 0;
  for (const ManifestFile* f : to_hash) {
    ProgressFn progress;
    if (o.progress) progress = [&](uint64_t done, uint64_t) { o.progress(base + done, total); };
    Result<std::string> h = b.HashFile(f->path, progress);
    if (!h.ok()) {
      Fail(r, kVerifyIntegrity, "missing", f->path, f->path + ": " + h.status().message());
    } else if (*h != f->sha256) {
      Fail(r, kVerifyIntegrity, "hash_mismatch", f->path, "hash mismatch: " + f->path);
    }
    base += f->size;
  }
  return r->ok();
}

}  // namespace

std::string VerifyReport::Summary() const {
  if (ok()) return "Integrity check passed";
  std::string s = "Integrity check failed:";
  for (const VerifyProblem& p : problems) s += "\n- " + p.message;
  return s;
}

VerifyReport VerifyBundle(const BundleReader& b, const VerifyOptions& o) {
  VerifyReport r;
  // 1. The manifest bytes.
  Result<std::string> text = b.ReadSmall(kManifestName, 16 << 20);
  if (!text.ok()) {
    Fail(&r, kVerifyMalformed, "missing", kManifestName,
         text.status().reason() == "bundle.missing" ? std::string("missing: manifest.json")
                                                    : text.status().message());
    return r;
  }
  r.manifest_text = *text;

  // 2. The signature, over the exact bytes, before anything in them is used.
  if (o.check_signature) {
    Result<std::string> sig = b.ReadSmall(kSignatureName, 1 << 20);
    if (!sig.ok()) {
      Fail(&r, kVerifySignature, "signature", kSignatureName,
           sig.status().reason() == "bundle.missing"
               ? std::string("missing: manifest.sig (the bundle is not signed)")
               : sig.status().message());
      return r;
    }
    TrustedKeys none;
    Status s = CheckSignatures(*text, *sig, o.trusted ? *o.trusted : none, &r.signer);
    if (s.reason() == "sig.bad") {
      Fail(&r, kVerifySignature, "signature", kManifestName,
           "signature: manifest.json does not match manifest.sig: " + s.message());
      return r;
    }
    if (!s.ok()) {
      Fail(&r, kVerifySignature, "signature", kSignatureName,
           "signature: manifest.sig: " + s.message());
      return r;
    }
  }

  // 3. Schema.
  Result<Manifest> m = ParseManifest(*text);
  if (!m.ok()) {
    Fail(&r, kVerifyMalformed, "malformed", kManifestName, m.status().message());
    return r;
  }
  r.manifest = std::move(m).value();

  // 4. Runtime version, before any hashing (book T14.1-a).
  const std::string runtime = o.runtime_version.empty() ? BuildVersion() : o.runtime_version;
  Result<int> cmp = CompareVersions(runtime, r.manifest.runtime_min_version);
  if (!cmp.ok() || *cmp < 0) {
    Fail(&r, kVerifyIncompatible, "runtime_too_old", "",
         StrFormat("runtime too old: the bundle needs hearth >= %s, this is %s",
                   r.manifest.runtime_min_version.c_str(), runtime.c_str()));
    return r;
  }

  // 5. Files.
  if (!CheckFiles(b, o, &r)) return r;

  // 6. The model against its facts.
  if (!o.check_model) return r;
  Result<GgufFile> gguf = b.OpenGguf(r.manifest.model_path);
  if (!gguf.ok()) {
    Fail(&r, kVerifyIncompatible, "facts", r.manifest.model_path,
         r.manifest.model_path + ": " + gguf.status().message());
    return r;
  }
  for (const std::string& d : DiffFacts(r.manifest.model, ReadModelFacts(*gguf)))
    Fail(&r, kVerifyIncompatible, "facts", r.manifest.model_path,
         "tokenizer/model facts disagree: " + d);
  if (Status e = gguf->CheckEngineSupport(); !e.ok())
    Fail(&r, kVerifyIncompatible, "unsupported", r.manifest.model_path,
         r.manifest.model_path + ": " + e.message());
  return r;
}

}  // namespace hearth::deploy
