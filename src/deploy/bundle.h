// Reading and writing bundles: a directory or a deterministic tar holding
// manifest.json, manifest.sig and the files the manifest lists (DESIGN §7).
//
// Layout written by Pack:
//   manifest.json  manifest.sig (after signing)
//   model/<file>.gguf
//   config/template.jinja      (--template)
//   eval/suite.jsonl, eval/baseline.json   (--eval-suite / --eval-baseline)
// Generation defaults live inside the manifest (they are signed with it).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "deploy/keys.h"
#include "deploy/manifest.h"
#include "format/gguf.h"

namespace hearth::deploy {

using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// Read access to a bundle without extracting it. A directory bundle may hold
// only regular files and directories (a symlink or device is an error naming it).
class BundleReader {
 public:
  struct Entry {
    std::string path;  // relative, '/'-separated
    uint64_t size = 0;
    uint64_t tar_offset = 0;  // data offset inside the tar (tar bundles)
  };

  static Result<std::unique_ptr<BundleReader>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  bool is_tar() const { return is_tar_; }
  // Regular files, sorted by path.
  const std::vector<Entry>& files() const { return files_; }
  const Entry* Find(std::string_view rel) const;

  // Reads a small member whole (manifest, signature); NotFound if absent.
  Result<std::string> ReadSmall(std::string_view rel, size_t max_bytes) const;
  // SHA-256 (hex) of a member, streamed in 1 MiB reads.
  Result<std::string> HashFile(std::string_view rel, const ProgressFn& progress = {}) const;
  // Parses a GGUF member in place (mapped; no copy).
  Result<GgufFile> OpenGguf(std::string_view rel) const;

 private:
  Status Walk(const std::string& dir, const std::string& prefix);
  std::string path_;
  bool is_tar_ = false;
  std::vector<Entry> files_;
  std::shared_ptr<MappedFile> tar_map_;  // tar bundles: mapped lazily by OpenGguf
};

struct PackOptions {
  std::string gguf_path;
  std::string name;
  std::string version;
  std::optional<uint64_t> version_counter;  // default: CounterFromVersion(version)
  std::string min_runtime_version;          // default: this build's version
  std::string template_path;                // optional chat template (Jinja) file
  std::string defaults_path;                // optional generation defaults JSON
  std::string eval_suite_path;              // optional JSONL suite
  std::string eval_baseline_path;           // optional baseline JSON
  std::string output;                       // "*.tar" → tar file, else a new directory
  const SecretKey* sign_key = nullptr;      // sign while packing
  ProgressFn progress;
};

struct PackResult {
  Manifest manifest;
  std::string manifest_text;
  std::string output;
};

Result<PackResult> Pack(const PackOptions& options);

// Adds (or replaces) `key`'s signature in a bundle (directory or tar).
Status SignBundle(const std::string& bundle_path, const SecretKey& key);

// Copies a regular file (fsyncs the copy). Errors name both paths.
Status CopyFile(const std::string& from, const std::string& to, const ProgressFn& progress = {});
// Removes a directory tree (making read-only entries writable first).
Status RemoveTree(const std::string& path);
// fsync of a directory.
Status SyncDir(const std::string& dir);

}  // namespace hearth::deploy
