// Fail-closed bundle verification (DESIGN §7, book 13.1 / 14.1 / 14.2).
//
// Stages, in order; the first failing stage ends the check (nothing after it
// is trusted), but the integrity stage reports every bad file:
//   1. manifest.json present and readable             → malformed   (exit 5)
//   2. manifest.sig by a trusted key over its bytes   → signature   (exit 3)
//   3. manifest parses (schema hearth.bundle/v1)      → malformed   (exit 5)
//   4. runtime.min_version <= this runtime            → incompatible (exit 4)
//   5. every listed file present with its size, no extra files (sizes before
//      any hashing), then every SHA-256               → integrity   (exit 1)
//   6. the GGUF parses, its facts (arch, quant, context, vocab, tokenizer,
//      special ids, template hash) equal the manifest's, and the engine can
//      compute every tensor type                      → incompatible (exit 4)
// Problems read "missing: model/x.gguf", "size mismatch: …", "hash mismatch: …",
// "extra: …" (the book's 13.1 wording), each with its path.
#pragma once

#include <string>
#include <vector>

#include "deploy/bundle.h"
#include "deploy/keys.h"
#include "deploy/manifest.h"

namespace hearth::deploy {

enum VerifyExit : int {
  kVerifyOk = 0,
  kVerifyIntegrity = 1,
  kVerifySignature = 3,
  kVerifyIncompatible = 4,
  kVerifyMalformed = 5,
};

struct VerifyProblem {
  std::string kind;  // missing | extra | size_mismatch | hash_mismatch | signature | malformed
                     // | runtime_too_old | facts | unsupported
  std::string path;  // the file concerned ("" when none)
  std::string message;
};

struct VerifyOptions {
  const TrustedKeys* trusted = nullptr;  // nullptr: every signature is untrusted
  std::string runtime_version;           // default: this build's version
  bool check_model = true;               // stage 6
  // For `hearth status` on an installed (already verified) bundle only:
  bool check_signature = true;  // false skips stage 2
  bool hash_files = true;       // false checks presence and sizes only
  ProgressFn progress;          // hashing progress over all files
};

struct VerifyReport {
  int exit_code = kVerifyOk;
  std::vector<VerifyProblem> problems;
  std::string manifest_text;
  Manifest manifest;   // valid when stage 3 passed
  std::string signer;  // key id
  bool ok() const { return exit_code == kVerifyOk; }
  // "Integrity check failed:\n- missing: x\n…" or "Integrity check passed".
  std::string Summary() const;
};

VerifyReport VerifyBundle(const BundleReader& bundle, const VerifyOptions& options);

}  // namespace hearth::deploy
