#include "run_record.h"

#include "base/build_info.h"
#include "base/json.h"
#include "base/json_writer.h"
#include "base/mapped_file.h"
#include "base/sha256.h"

namespace hearth::cli {
namespace {

constexpr const char* kSchema = "hearth.run/v1";

void WriteIds(json::Writer& w, const char* key, const std::vector<int32_t>& ids) {
  w.Key(key);
  w.BeginArray();
  for (int32_t id : ids) w.Int(id);
  w.EndArray();
}

Result<std::vector<int32_t>> ReadIds(const json::Value& doc, const char* key) {
  HEARTH_ASSIGN_OR_RETURN(const json::Value::Array* arr, json::GetArray(doc, key));
  std::vector<int32_t> ids;
  for (const json::Value& v : *arr) {
    if (!v.is_integer()) return InvalidArgumentError(std::string(key) + " must hold integers");
    ids.push_back(static_cast<int32_t>(v.as_int()));
  }
  return ids;
}

}  // namespace

Status WriteRunRecord(const std::string& path, const RunRecord& r) {
  json::Writer w(2);
  w.BeginObject();
  w.Key("schema"), w.String(kSchema);
  w.Key("hearth_version"), w.String(BuildVersion());
  w.Key("hearth_commit"), w.String(BuildGitCommit());
  w.Key("model"), w.String(r.model_path);
  w.Key("model_sha256"), w.String(r.model_sha256);
  w.Key("prompt"), w.String(r.prompt);
  w.Key("prompt_sha256"), w.String(Sha256Hex(r.prompt));
  w.Key("seed"), w.Uint(r.sampling.seed);
  w.Key("parameters");
  w.BeginObject();
  w.Key("temperature"), w.Double(r.sampling.temperature);
  w.Key("top_k"), w.Int(r.sampling.top_k);
  w.Key("top_p"), w.Double(r.sampling.top_p);
  w.Key("min_p"), w.Double(r.sampling.min_p);
  w.Key("repetition_penalty"), w.Double(r.sampling.repetition_penalty);
  w.Key("penalty_last_n"), w.Int(r.sampling.penalty_last_n);
  w.Key("frequency_penalty"), w.Double(r.sampling.frequency_penalty);
  w.Key("presence_penalty"), w.Double(r.sampling.presence_penalty);
  w.Key("max_tokens"), w.Int(r.max_tokens);
  w.Key("ignore_eos"), w.Bool(r.ignore_eos);
  w.Key("stop");
  w.BeginArray();
  for (const auto& s : r.stop) w.String(s);
  w.EndArray();
  w.EndObject();
  w.Key("threads"), w.Int(r.threads);
  w.Key("n_ctx"), w.Int(r.n_ctx);
  w.Key("kv_type"), w.String(KvTypeName(r.kv_type));
  w.Key("isa"), w.String(r.isa);
  WriteIds(w, "prompt_ids", r.prompt_ids);
  WriteIds(w, "output_ids", r.output_ids);
  w.Key("stop_reason"), w.String(r.stop_reason);
  w.EndObject();
  return WriteFileAtomic(path, w.str() + "\n");
}

Result<RunRecord> ReadRunRecord(const std::string& path) {
  HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, size_t{64} << 20));
  auto parsed = json::Parse(text);
  if (!parsed.ok()) return parsed.status().WithContext("run record '" + path + "'");
  const json::Value& doc = *parsed;
  auto get = [&]() -> Result<RunRecord> {
    RunRecord r;
    HEARTH_ASSIGN_OR_RETURN(std::string schema, json::GetString(doc, "schema"));
    if (schema != kSchema) {
      return InvalidArgumentError("unknown run record schema '" + schema + "'", "replay.schema");
    }
    HEARTH_ASSIGN_OR_RETURN(r.model_path, json::GetString(doc, "model"));
    HEARTH_ASSIGN_OR_RETURN(r.model_sha256, json::GetString(doc, "model_sha256"));
    HEARTH_ASSIGN_OR_RETURN(r.prompt, json::GetString(doc, "prompt"));
    HEARTH_ASSIGN_OR_RETURN(int64_t seed, json::GetInt(doc, "seed"));
    r.sampling.seed = static_cast<uint64_t>(seed);
    const json::Value* p = doc.Find("parameters");
    if (p == nullptr || !p->is_object()) return InvalidArgumentError("missing field 'parameters'");
    HEARTH_ASSIGN_OR_RETURN(double temp, json::GetDouble(*p, "temperature"));
    HEARTH_ASSIGN_OR_RETURN(int64_t top_k, json::GetInt(*p, "top_k"));
    HEARTH_ASSIGN_OR_RETURN(double top_p, json::GetDouble(*p, "top_p"));
    HEARTH_ASSIGN_OR_RETURN(double min_p, json::GetDouble(*p, "min_p"));
    HEARTH_ASSIGN_OR_RETURN(double rep, json::GetDouble(*p, "repetition_penalty"));
    HEARTH_ASSIGN_OR_RETURN(int64_t last_n, json::GetInt(*p, "penalty_last_n"));
    HEARTH_ASSIGN_OR_RETURN(double freq, json::GetDouble(*p, "frequency_penalty"));
    HEARTH_ASSIGN_OR_RETURN(double pres, json::GetDouble(*p, "presence_penalty"));
    HEARTH_ASSIGN_OR_RETURN(r.max_tokens, json::GetInt(*p, "max_tokens"));
    HEARTH_ASSIGN_OR_RETURN(r.ignore_eos, json::GetBool(*p, "ignore_eos"));
    HEARTH_ASSIGN_OR_RETURN(const json::Value::Array* stops, json::GetArray(*p, "stop"));
    for (const json::Value& s : *stops) {
      if (!s.is_string()) return InvalidArgumentError("stop must hold strings");
      r.stop.push_back(s.as_string());
    }
    r.sampling.temperature = static_cast<float>(temp);
    r.sampling.top_k = static_cast<int32_t>(top_k);
    r.sampling.top_p = static_cast<float>(top_p);
    r.sampling.min_p = static_cast<float>(min_p);
    r.sampling.repetition_penalty = static_cast<float>(rep);
    r.sampling.penalty_last_n = static_cast<int32_t>(last_n);
    r.sampling.frequency_penalty = static_cast<float>(freq);
    r.sampling.presence_penalty = static_cast<float>(pres);
    HEARTH_ASSIGN_OR_RETURN(int64_t threads, json::GetInt(doc, "threads"));
    HEARTH_ASSIGN_OR_RETURN(int64_t n_ctx, json::GetInt(doc, "n_ctx"));
    r.threads = static_cast<int>(threads);
    r.n_ctx = static_cast<int>(n_ctx);
    HEARTH_ASSIGN_OR_RETURN(std::string kv, json::GetString(doc, "kv_type"));
    auto kv_type = ParseKvType(kv);
    if (!kv_type) return InvalidArgumentError("unknown kv_type '" + kv + "'");
    r.kv_type = *kv_type;
    HEARTH_ASSIGN_OR_RETURN(r.isa, json::GetString(doc, "isa"));
    HEARTH_ASSIGN_OR_RETURN(r.prompt_ids, ReadIds(doc, "prompt_ids"));
    HEARTH_ASSIGN_OR_RETURN(r.output_ids, ReadIds(doc, "output_ids"));
    HEARTH_ASSIGN_OR_RETURN(r.stop_reason, json::GetString(doc, "stop_reason"));
    return r;
  };
  auto r = get();
  if (!r.ok()) return r.status().WithContext("run record '" + path + "'");
  return r;
}

}  // namespace hearth::cli
