#include "deploy/manifest.h"

#include <algorithm>
#include <cmath>

#include "base/sha256.h"
#include "base/strings.h"
#include "deploy/semver.h"
#include "deploy/tar.h"
#include "format/ggml_types.h"
#include "model/hparams.h"
#include "sampling/sampling_params.h"

namespace hearth::deploy {
namespace {

Status Bad(const std::string& what) {
  return DataLossError("manifest: " + what, "manifest.invalid");
}

// llama.cpp's general.file_type values (the "ftype" a quantizer writes).
std::string FileTypeName(uint64_t ftype) {
  switch (ftype) {
    case 0:
      return "F32";
    case 1:
      return "F16";
    case 2:
      return "Q4_0";
    case 3:
      return "Q4_1";
    case 7:
      return "Q8_0";
    case 8:
      return "Q5_0";
    case 9:
      return "Q5_1";
    case 10:
      return "Q2_K";
    case 11:
      return "Q3_K_S";
    case 12:
      return "Q3_K_M";
    case 13:
      return "Q3_K_L";
    case 14:
      return "Q4_K_S";
    case 15:
      return "Q4_K_M";
    case 16:
      return "Q5_K_S";
    case 17:
      return "Q5_K_M";
    case 18:
      return "Q6_K";
    case 32:
      return "BF16";
    default:
      return "ftype_" + std::to_string(ftype);
  }
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Checks that `obj` has only members named in `allowed`.
Status OnlyKnownFields(const json::Value& obj, std::string_view where,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : obj.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return Bad(StrFormat("unknown field '%s' in %s (a newer schema?)", key.c_str(),
                           std::string(where).c_str()));
  }
  return Status::Ok();
}

Result<std::string> Str(const json::Value& obj, std::string_view key, std::string_view where) {
  Result<std::string> s = json::GetString(obj, key);
  if (!s.ok()) return Bad(std::string(where) + ": " + s.status().message());
  return s;
}

Result<uint64_t> Uint(const json::Value& obj, std::string_view key, std::string_view where) {
  Result<int64_t> v = json::GetInt(obj, key);
  if (!v.ok()) return Bad(std::string(where) + ": " + v.status().message());
  if (*v < 0)
    return Bad(StrFormat("%s: field '%s' must not be negative", std::string(where).c_str(),
                         std::string(key).c_str()));
  return static_cast<uint64_t>(*v);
}

Result<std::string> PathField(const json::Value& obj, std::string_view key,
                              std::string_view where) {
  HEARTH_ASSIGN_OR_RETURN(std::string p, Str(obj, key, where));
  if (Status s = ValidateMemberPath(p); !s.ok())
    return Bad(std::string(where) + ": " + s.message());
  return p;
}

}  // namespace

Status ValidateName(std::string_view what, std::string_view value) {
  bool ok =
      !value.empty() && value.size() <= 64 && std::isalnum(static_cast<unsigned char>(value[0]));
  for (char c : value)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    return InvalidArgumentError(
        StrFormat("%s '%s' must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or "
                  "digit",
                  std::string(what).c_str(), EscapeForDisplay(value).c_str()),
        "manifest.name");
  return Status::Ok();
}

Status ValidateGenerationDefaults(const json::Value& d) {
  auto bad = [](const std::string& why) {
    return InvalidArgumentError("generation defaults: " + why, "manifest.defaults");
  };
  if (!d.is_object()) return bad("must be a JSON object");
  sampling::SamplingParams p;
  for (const auto& member : d.as_object()) {
    const std::string& key = member.first;  // (clang 14 cannot capture structured bindings)
    const json::Value& v = member.second;
    auto number = [&](float* out) -> Status {
      if (!v.is_number() || !std::isfinite(v.as_double()))
        return bad("'" + key + "' must be a finite number");
      *out = static_cast<float>(v.as_double());
      return Status::Ok();
    };
    if (key == "temperature") {
      HEARTH_RETURN_IF_ERROR(number(&p.temperature));
    } else if (key == "top_p") {
      HEARTH_RETURN_IF_ERROR(number(&p.top_p));
    } else if (key == "min_p") {
      HEARTH_RETURN_IF_ERROR(number(&p.min_p));
    } else if (key == "repetition_penalty") {
      HEARTH_RETURN_IF_ERROR(number(&p.repetition_penalty));
    } else if (key == "frequency_penalty") {
      HEARTH_RETURN_IF_ERROR(number(&p.frequency_penalty));
    } else if (key == "presence_penalty") {
      HEARTH_RETURN_IF_ERROR(number(&p.presence_penalty));
    } else if (key == "top_k") {
      if (!v.is_integer() || v.as_int() < 0 || v.as_int() > (1 << 30))
        return bad("'top_k' must be an integer >= 0");
      p.top_k = static_cast<int32_t>(v.as_int());
    } else if (key == "seed") {
      if (!v.is_integer() || v.as_int() < 0) return bad("'seed' must be an integer >= 0");
    } else if (key == "max_tokens") {
      if (!v.is_integer() || v.as_int() < 1 || v.as_int() > (1 << 20))
        return bad("'max_tokens' must be an integer in [1, 1048576]");
    } else if (key == "stop") {
      if (!v.is_array() || v.as_array().size() > 16)
        return bad("'stop' must be an array of at most 16 strings");
      for (const json::Value& s : v.as_array())
        if (!s.is_string() || s.as_string().empty())
          return bad("'stop' must hold non-empty strings");
    } else {
      return bad("unknown key '" + key + "'");
    }
  }
  if (Status s = sampling::ValidateSamplingParams(p); !s.ok()) return bad(s.message());
  return Status::Ok();
}

ModelFacts ReadModelFacts(const GgufFile& gguf) {
  ModelFacts f;
  const HParams hp = ReadHParams(gguf);
  f.arch = hp.arch;
  f.context_length = hp.n_ctx_train;
  f.vocab_size = hp.n_vocab;
  if (Result<uint64_t> ftype = gguf.GetUint("general.file_type"); ftype.ok()) {
    f.quant = FileTypeName(*ftype);
  } else {
    std::map<std::string, uint64_t> bytes;  // the type holding most weight bytes
    for (const GgufTensorInfo& t : gguf.tensors())
      if (t.n_dims >= 2) bytes[std::string(GetGgmlTypeInfo(t.type).name)] += t.n_bytes;
    uint64_t best = 0;
    for (const auto& [name, n] : bytes)
      if (n > best) best = n, f.quant = name;
  }
  const TokenizerSummary tok = ReadTokenizerSummary(gguf);
  f.tokenizer = tok.model;
  for (const SpecialToken& s : tok.specials)
    if (s.id >= 0) f.special_tokens[s.role] = s.id;
  if (Result<std::string_view> tmpl = gguf.GetString("tokenizer.chat_template"); tmpl.ok())
    f.chat_template_sha256 = Sha256Hex(*tmpl);
  return f;
}

std::vector<std::string> DiffFacts(const ModelFacts& m, const ModelFacts& g) {
  std::vector<std::string> out;
  auto diff = [&](const char* what, const std::string& a, const std::string& b) {
    if (a != b)
      out.push_back(
          StrFormat("%s: the manifest says '%s', the GGUF has '%s'", what, a.c_str(), b.c_str()));
  };
  diff("arch", m.arch, g.arch);
  diff("quant", m.quant, g.quant);
  diff("context_length", std::to_string(m.context_length), std::to_string(g.context_length));
  diff("vocab_size", std::to_string(m.vocab_size), std::to_string(g.vocab_size));
  diff("tokenizer", m.tokenizer, g.tokenizer);
  diff("chat_template_sha256", m.chat_template_sha256, g.chat_template_sha256);
  for (const auto& [role, id] : m.special_tokens) {
    auto it = g.special_tokens.find(role);
    diff(("special token '" + role + "'").c_str(), std::to_string(id),
         it == g.special_tokens.end() ? "none" : std::to_string(it->second));
  }
  for (const auto& [role, id] : g.special_tokens)
    if (!m.special_tokens.count(role))
      diff(("special token '" + role + "'").c_str(), "none", std::to_string(id));
  return out;
}

std::string SerializeManifest(const Manifest& m) {
  json::Value::Object specials;
  for (const auto& [role, id] : m.model.special_tokens) specials.emplace_back(role, id);
  json::Value::Object model{
      {"path", m.model_path},
      {"arch", m.model.arch},
      {"quant", m.model.quant},
      {"context_length", m.model.context_length},
      {"vocab_size", m.model.vocab_size},
      {"tokenizer", m.model.tokenizer},
      {"special_tokens", specials},
      {"chat_template_sha256", m.model.chat_template_sha256.empty()
                                   ? json::Value()
                                   : json::Value(m.model.chat_template_sha256)}};
  json::Value::Object doc{
      {"schema", kManifestSchema},
      {"bundle_id", m.bundle_id},
      {"name", m.name},
      {"version", m.version},
      {"version_counter", m.version_counter},
      {"runtime", json::Value::Object{{"name", "hearth"}, {"min_version", m.runtime_min_version}}},
      {"model", model}};
  if (!m.template_path.empty())
    doc.emplace_back("chat_template", json::Value::Object{{"path", m.template_path}});
  doc.emplace_back("generation_defaults", m.generation_defaults);
  if (!m.eval_suite_path.empty()) {
    json::Value::Object eval{{"suite", m.eval_suite_path}};
    if (!m.eval_baseline_path.empty()) eval.emplace_back("baseline", m.eval_baseline_path);
    doc.emplace_back("eval", eval);
  }
  json::Value::Array files;
  std::vector<ManifestFile> sorted = m.files;
  std::sort(sorted.begin(), sorted.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  for (const ManifestFile& f : sorted)
    files.push_back(json::Value::Object{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  doc.emplace_back("files", files);
  return json::Serialize(json::Value(doc), 2) + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  Result<json::Value> parsed = json::Parse(text, {.max_depth = 16, .max_bytes = 16 << 20});
  if (!parsed.ok()) return Bad("not valid JSON: " + parsed.status().message());
  const json::Value& doc = *parsed;
  if (!doc.is_object()) return Bad("must be a JSON object");
  HEARTH_ASSIGN_OR_RETURN(std::string schema, Str(doc, "schema", "manifest"));
  if (schema != kManifestSchema)
    return Bad(
        StrFormat("schema is '%s'; this runtime reads '%s'", schema.c_str(), kManifestSchema));
  HEARTH_RETURN_IF_ERROR(
      OnlyKnownFields(doc, "the manifest",
                      {"schema", "bundle_id", "name", "version", "version_counter", "runtime",
                       "model", "chat_template", "generation_defaults", "eval", "files"}));
  Manifest m;
  HEARTH_ASSIGN_OR_RETURN(m.bundle_id, Str(doc, "bundle_id", "manifest"));
  HEARTH_ASSIGN_OR_RETURN(m.name, Str(doc, "name", "manifest"));
  HEARTH_ASSIGN_OR_RETURN(m.version, Str(doc, "version", "manifest"));
  for (auto [what, value] : {std::pair<const char*, const std::string*>{"bundle_id", &m.bundle_id},
                             {"name", &m.name},
                             {"version", &m.version}})
    if (Status s = ValidateName(what, *value); !s.ok()) return Bad(s.message());
  HEARTH_ASSIGN_OR_RETURN(m.version_counter, Uint(doc, "version_counter", "manifest"));

  const json::Value* runtime = doc.Find("runtime");
  if (runtime == nullptr || !runtime->is_object()) return Bad("missing object 'runtime'");
  HEARTH_RETURN_IF_ERROR(OnlyKnownFields(*runtime, "'runtime'", {"name", "min_version"}));
  HEARTH_ASSIGN_OR_RETURN(std::string runtime_name, Str(*runtime, "name", "runtime"));
  if (runtime_name != "hearth") return Bad("runtime.name is '" + runtime_name + "', not 'hearth'");
  HEARTH_ASSIGN_OR_RETURN(m.runtime_min_version, Str(*runtime, "min_version", "runtime"));
  if (Result<SemVer> v = ParseSemVer(m.runtime_min_version); !v.ok())
    return Bad("runtime.min_version: " + v.status().message());

  const json::Value* model = doc.Find("model");
  if (model == nullptr || !model->is_object()) return Bad("missing object 'model'");
  HEARTH_RETURN_IF_ERROR(OnlyKnownFields(*model, "'model'",
                                         {"path", "arch", "quant", "context_length", "vocab_size",
                                          "tokenizer", "special_tokens", "chat_template_sha256"}));
  HEARTH_ASSIGN_OR_RETURN(m.model_path, PathField(*model, "path", "model"));
  HEARTH_ASSIGN_OR_RETURN(m.model.arch, Str(*model, "arch", "model"));
  HEARTH_ASSIGN_OR_RETURN(m.model.quant, Str(*model, "quant", "model"));
  HEARTH_ASSIGN_OR_RETURN(m.model.context_length, Uint(*model, "context_length", "model"));
  HEARTH_ASSIGN_OR_RETURN(m.model.vocab_size, Uint(*model, "vocab_size", "model"));
  HEARTH_ASSIGN_OR_RETURN(m.model.tokenizer, Str(*model, "tokenizer", "model"));
  const json::Value* specials = model->Find("special_tokens");
  if (specials == nullptr || !specials->is_object())
    return Bad("model: missing object 'special_tokens'");
  for (const auto& [role, id] : specials->as_object()) {
    if (!id.is_integer() || id.as_int() < 0)
      return Bad("special token '" + role + "' must be an id >= 0");
    m.model.special_tokens[role] = id.as_int();
  }
  const json::Value* tmpl_sha = model->Find("chat_template_sha256");
  if (tmpl_sha == nullptr) return Bad("model: missing field 'chat_template_sha256'");
  if (!tmpl_sha->is_null()) {
    if (!tmpl_sha->is_string() || !IsHex64(tmpl_sha->as_string()))
      return Bad("model.chat_template_sha256 must be 64 lower-case hex digits or null");
    m.model.chat_template_sha256 = tmpl_sha->as_string();
  }

  if (const json::Value* t = doc.Find("chat_template")) {
    if (!t->is_object()) return Bad("'chat_template' must be an object");
    HEARTH_RETURN_IF_ERROR(OnlyKnownFields(*t, "'chat_template'", {"path"}));
    HEARTH_ASSIGN_OR_RETURN(m.template_path, PathField(*t, "path", "chat_template"));
  }
  if (const json::Value* d = doc.Find("generation_defaults")) {
    if (Status s = ValidateGenerationDefaults(*d); !s.ok()) return Bad(s.message());
    m.generation_defaults = *d;
  }
  if (const json::Value* e = doc.Find("eval")) {
    if (!e->is_object()) return Bad("'eval' must be an object");
    HEARTH_RETURN_IF_ERROR(OnlyKnownFields(*e, "'eval'", {"suite", "baseline"}));
    HEARTH_ASSIGN_OR_RETURN(m.eval_suite_path, PathField(*e, "suite", "eval"));
    if (e->Find("baseline")) {
      HEARTH_ASSIGN_OR_RETURN(m.eval_baseline_path, PathField(*e, "baseline", "eval"));
    }
  }

  Result<const json::Value::Array*> files = json::GetArray(doc, "files");
  if (!files.ok()) return Bad(files.status().message());
  std::string last;
  for (const json::Value& f : **files) {
    if (!f.is_object()) return Bad("each entry of 'files' must be an object");
    HEARTH_RETURN_IF_ERROR(OnlyKnownFields(f, "a 'files' entry", {"path", "size", "sha256"}));
    ManifestFile mf;
    HEARTH_ASSIGN_OR_RETURN(mf.path, PathField(f, "path", "files"));
    HEARTH_ASSIGN_OR_RETURN(mf.size, Uint(f, "size", "files"));
    HEARTH_ASSIGN_OR_RETURN(mf.sha256, Str(f, "sha256", "files"));
    if (!IsHex64(mf.sha256))
      return Bad("files: sha256 of '" + mf.path + "' is not 64 lower-case hex digits");
    if (mf.path == kManifestName || mf.path == kSignatureName)
      return Bad("files must not list '" + mf.path + "'");
    if (!m.files.empty() && mf.path <= last)
      return Bad("files must be sorted by path without duplicates ('" + mf.path + "')");
    last = mf.path;
    m.files.push_back(std::move(mf));
  }
  // Every path the manifest names must be one of its files.
  auto listed = [&](const std::string& p) {
    return std::any_of(m.files.begin(), m.files.end(),
                       [&](const ManifestFile& f) { return f.path == p; });
  };
  for (const std::string* p :
       {&m.model_path, &m.template_path, &m.eval_suite_path, &m.eval_baseline_path})
    if (!p->empty() && !listed(*p)) return Bad("'" + *p + "' is named but not listed in files");
  return m;
}

}  // namespace hearth::deploy
