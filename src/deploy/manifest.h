// The bundle manifest (schema "hearth.bundle/v1", DESIGN §7).
//
// One schema replaces the book's six (requirements ch. 11–15, contradiction 1):
//   {
//     "schema": "hearth.bundle/v1",
//     "bundle_id": "tiny-chat-1.2.0", "name": "tiny-chat", "version": "1.2.0",
//     "version_counter": 1002000,
//     "runtime": {"name": "hearth", "min_version": "0.1.0"},
//     "model": {"path": "model/tiny.gguf", "arch": "llama", "quant": "Q4_0",
//               "context_length": 2048, "vocab_size": 32000, "tokenizer": "llama",
//               "special_tokens": {"bos": 1, "eos": 2},
//               "chat_template_sha256": "…" | null},
//     "chat_template": {"path": "config/template.jinja"},          (optional override)
//     "generation_defaults": {"temperature": 0.7, "max_tokens": 256, …},
//     "eval": {"suite": "eval/suite.jsonl", "baseline": "eval/baseline.json"},  (optional)
//     "files": [{"path": "…", "size": 123, "sha256": "…"}, …]     (sorted by path)
//   }
// `files` lists every file of the bundle except manifest.json and manifest.sig,
// the weights included. Paths are relative, '/'-separated, without "." or "..".
// The parser is strict (unknown fields are refused: a newer schema must not be
// half-understood) and every error has a reason "manifest.*".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "format/gguf.h"

namespace hearth::deploy {

inline constexpr char kManifestSchema[] = "hearth.bundle/v1";
inline constexpr char kManifestName[] = "manifest.json";
inline constexpr char kSignatureName[] = "manifest.sig";

struct ManifestFile {
  std::string path;
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

// Facts about the model that a device checks against the GGUF before loading.
struct ModelFacts {
  std::string arch;
  std::string quant;  // general.file_type name ("Q4_K_M"), else the dominant weight type
  uint64_t context_length = 0;
  uint64_t vocab_size = 0;
  std::string tokenizer;                          // tokenizer.ggml.model
  std::map<std::string, int64_t> special_tokens;  // role -> id (bos, eos, eot, pad, unk, …)
  std::string chat_template_sha256;               // "" when the GGUF has no template
  friend bool operator==(const ModelFacts&, const ModelFacts&) = default;
};

struct Manifest {
  std::string bundle_id;
  std::string name;
  std::string version;
  uint64_t version_counter = 0;
  std::string runtime_min_version;
  std::string model_path;  // the GGUF inside the bundle
  ModelFacts model;
  std::string template_path;  // optional chat template override
  json::Value generation_defaults = json::Value::Object{};
  std::string eval_suite_path;     // optional
  std::string eval_baseline_path;  // optional
  std::vector<ManifestFile> files;
};

// Canonical text (2-space indent, fixed member order, trailing newline): the
// exact bytes that get signed.
std::string SerializeManifest(const Manifest& m);
Result<Manifest> ParseManifest(std::string_view text);

// Reads the facts from a GGUF (lenient about absent keys: they stay empty/0).
ModelFacts ReadModelFacts(const GgufFile& gguf);
// "llama: expected vocab_size 32000, the GGUF has 32001" lines, empty when equal.
std::vector<std::string> DiffFacts(const ModelFacts& manifest, const ModelFacts& gguf);

// Names and versions use [A-Za-z0-9._-], start with a letter or digit, ≤ 64 bytes.
Status ValidateName(std::string_view what, std::string_view value);
// generation_defaults: an object with the keys temperature, top_k, top_p, min_p,
// repetition_penalty, frequency_penalty, presence_penalty, seed, max_tokens, stop,
// each within the sampler's ranges (reason "manifest.defaults").
Status ValidateGenerationDefaults(const json::Value& defaults);

}  // namespace hearth::deploy
