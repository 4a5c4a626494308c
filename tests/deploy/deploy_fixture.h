// Shared fixtures for the deploy tests: small real models (written by the
// synthesizer), a signing key, bundles and stores in temporary directories.
#pragma once

#include <string>

#include "deploy/bundle.h"
#include "deploy/keys.h"
#include "testing/test_paths.h"

namespace hearth::deploy::testing {

// A new empty directory, unique for the process (never reused, unlike
// TempDir(), which empties the test's one directory on every call). All of
// them are removed when the process exits, read-only store bundles included.
std::string FreshDir();

// A tiny llama model (Q8_0, ~4 MB), written once per test process.
const std::string& TinyModel();
// The same model with output_norm.weight set to NaN: loads, but every logit is
// NaN, so its smoke test fails.
const std::string& NanModel();
// A release key pair written once per process: <dir>/rel.key, rel.pub.
const SecretKey& ReleaseKey();
const std::string& ReleaseKeyDir();  // holds rel.key and rel.pub
std::string ReleasePub();            // <dir>/rel.pub
TrustedKeys ReleaseTrust();

struct BundleSpec {
  std::string name = "tiny-chat";
  std::string version = "1.0.0";
  std::string model;  // default TinyModel()
  bool tar = false;
  bool with_extras = false;  // template, defaults, eval suite + baseline
  bool sign = true;
  std::string min_runtime;
};
// Packs (and signs) a bundle into a fresh temp dir; returns its path.
std::string MakeBundle(const BundleSpec& spec);

// Runs the hearth CLI: "[env] <hearth> <args>" with stderr merged; `env` is
// "NAME=value ..." or empty.
::hearth::testing::CommandResult Hearth(const std::string& args, const std::string& env = "");

// Copies a directory tree (for tampering with a bundle).
void CopyTree(const std::string& from, const std::string& to);

}  // namespace hearth::deploy::testing
