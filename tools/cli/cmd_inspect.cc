// `hearth inspect FILE`: what is inside a GGUF file, and what it will need in memory.
// The --json schema ("hearth.inspect/v1") is documented in docs/inspect.md.
#include <cstdio>
#include <map>

#include "args.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "commands.h"
#include "format/gguf.h"
#include "model/hparams.h"

namespace hearth::cli {
namespace {

struct Options {
  std::string path;
  bool json = false;
  uint64_t n_ctx = 0;
  uint64_t n_parallel = 1;
  KvType kv_type = KvType::kF16;
  bool show_metadata = false;
};

// Short text of a metadata value: scalars in full (strings escaped and cut),
// arrays as "[str × 32000]".
std::string ValueText(const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::kString:
      return "\"" + EscapeForDisplay(v.string(), 60) + "\"";
    case GgufValueType::kArray:
      return StrFormat("[%s x %llu]", std::string(GgufValueTypeName(v.elem_type())).c_str(),
                       static_cast<unsigned long long>(v.size()));
    case GgufValueType::kBool:
      return v.scalar_bits() ? "true" : "false";
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64:
      return StrFormat("%g", *v.ToDouble());
    case GgufValueType::kUint64:
      return std::to_string(v.scalar_bits());
    default:
      return std::to_string(*v.ToInt());
  }
}

void WriteValueJson(json::Writer& w, const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::kString:
      w.String(v.string());
      break;
    case GgufValueType::kBool:
      w.Bool(v.scalar_bits() != 0);
      break;
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64:
      w.Double(*v.ToDouble());
      break;
    case GgufValueType::kUint64:
      w.Uint(v.scalar_bits());
      break;
    case GgufValueType::kArray:
      w.BeginObject();
      w.Key("element_type");
      w.String(GgufValueTypeName(v.elem_type()));
      w.Key("length");
      w.Uint(v.size());
      w.EndObject();
      break;
    default:
      w.Int(*v.ToInt());
      break;
  }
}

std::string ShapeText(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    s += (d ? ", " : "") + std::to_string(t.ne[d]);
  }
  return s + "]";
}

struct TypeTotal {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

std::map<std::string, TypeTotal> TotalsByType(const GgufFile& f) {
  std::map<std::string, TypeTotal> totals;
  for (const auto& t : f.tensors()) {
    auto& tt = totals[std::string(GetGgmlTypeInfo(t.type).name)];
    ++tt.count;
    tt.bytes += t.n_bytes;
  }
  return totals;
}

std::string Yes(bool b) {
  return b ? "yes" : "no";
}

void PrintText(const Options& o, const GgufFile& f, const HParams& hp, const TokenizerSummary& tok,
               const MemoryPlan& plan) {
  std::printf("file        %s\n", f.path().c_str());
  std::printf(
      "            %s, GGUF v%u, %zu metadata keys, %zu tensors, alignment %llu, data at "
      "byte %llu\n",
      HumanBytes(f.file_size()).c_str(), f.version(), f.metadata().size(), f.tensors().size(),
      static_cast<unsigned long long>(f.alignment()),
      static_cast<unsigned long long>(f.data_offset()));
  std::printf("model       %s (architecture %s)\n", hp.name.empty() ? "(unnamed)" : hp.name.c_str(),
              hp.arch.empty() ? "?" : hp.arch.c_str());

  std::printf("\nhyper-parameters\n");
  auto row = [](const char* k, const std::string& v) { std::printf("  %-22s %s\n", k, v.c_str()); };
  auto num = [](uint64_t v) { return std::to_string(v); };
  row("n_embd", num(hp.n_embd));
  row("n_layer", num(hp.n_layer));
  row("n_head", num(hp.n_head));
  row("n_head_kv", num(hp.n_head_kv));
  row("head_dim", num(hp.head_dim));
  row("n_ff", num(hp.n_ff));
  row("n_ctx_train", num(hp.n_ctx_train));
  row("n_vocab", num(hp.n_vocab));
  row("norm_eps", StrFormat("%g", hp.norm_eps));
  row("rope",
      StrFormat("%s, base %g, %llu dims, scaling %s", RopeTypeName(hp.rope_type), hp.rope_freq_base,
                static_cast<unsigned long long>(hp.rope_dims), hp.rope_scaling.c_str()));
  if (hp.rope_scaling != "none") {
    row("rope scaling", StrFormat("factor %g, original context %llu", hp.rope_scaling_factor,
                                  static_cast<unsigned long long>(hp.rope_orig_ctx)));
  }
  row("tied output", Yes(hp.tied_output));
  row("q/k/v bias", Yes(hp.has_qkv_bias));
  if (!hp.missing.empty()) {
    std::string m;
    for (const auto& k : hp.missing) m += (m.empty() ? "" : ", ") + k;
    row("missing keys", m);
  }

  std::printf("\ntokenizer\n");
  row("model", tok.model.empty() ? "(none)" : tok.model);
  row("pre-tokenizer", tok.pre.empty() ? "(default)" : tok.pre);
  row("tokens / merges", StrFormat("%llu / %llu", static_cast<unsigned long long>(tok.n_tokens),
                                   static_cast<unsigned long long>(tok.n_merges)));
  for (const auto& s : tok.specials) {
    row((s.role + " token").c_str(),
        StrFormat("%lld '%s'", static_cast<long long>(s.id), EscapeForDisplay(s.text).c_str()));
  }
  row("add_bos / add_eos", (tok.add_bos ? Yes(*tok.add_bos) : "(default)") + " / " +
                               (tok.add_eos ? Yes(*tok.add_eos) : "(default)"));
  row("chat template", Yes(tok.has_chat_template));

  if (o.show_metadata) {
    std::printf("\nmetadata (%zu keys)\n", f.metadata().size());
    for (const auto& kv : f.metadata()) {
      std::printf("  %-44s %-4s %s\n", EscapeForDisplay(kv.key).c_str(),
                  std::string(GgufValueTypeName(kv.value.type())).c_str(),
                  ValueText(kv.value).c_str());
    }
  }

  if (!f.tensors().empty()) {
    std::printf("\ntensors (%zu)\n", f.tensors().size());
    std::printf("  %-36s %-6s %-22s %12s %12s\n", "name", "type", "shape", "bytes", "offset");
    for (const auto& t : f.tensors()) {
      const auto& info = GetGgmlTypeInfo(t.type);
      std::printf("  %-36s %-6s %-22s %12llu %12llu%s\n", EscapeForDisplay(t.name).c_str(),
                  std::string(info.name).c_str(), ShapeText(t).c_str(),
                  static_cast<unsigned long long>(t.n_bytes),
                  static_cast<unsigned long long>(t.offset),
                  info.engine_supported ? "" : "  (not computable)");
    }
    std::printf("\ntotals by type\n");
    for (const auto& [name, tt] : TotalsByType(f)) {
      std::printf("  %-6s %5llu tensors %12s\n", name.c_str(),
                  static_cast<unsigned long long>(tt.count), HumanBytes(tt.bytes).c_str());
    }
    Status support = f.CheckEngineSupport();
    if (!support.ok()) std::printf("\nwarning: %s\n", support.message().c_str());
  }

  std::printf("\nmemory plan (context %llu x %llu sequence%s, KV cache %s)\n",
              static_cast<unsigned long long>(plan.n_ctx),
              static_cast<unsigned long long>(plan.n_parallel), plan.n_parallel == 1 ? "" : "s",
              KvTypeName(plan.kv_type));
  row("weights", HumanBytes(plan.weight_bytes));
  row("KV cache", StrFormat("%s (%llu bytes per token)", HumanBytes(plan.kv_bytes).c_str(),
                            static_cast<unsigned long long>(plan.kv_bytes_per_token)));
  row("scratch (estimate)", HumanBytes(plan.scratch_bytes));
  row("total", HumanBytes(plan.total_bytes));
}

void PrintJson(const GgufFile& f, const HParams& hp, const TokenizerSummary& tok,
               const MemoryPlan& plan) {
  json::Writer w(2);
  w.BeginObject();
  w.Key("schema");
  w.String("hearth.inspect/v1");

  w.Key("file");
  w.BeginObject();
  w.Key("path"), w.String(f.path());
  w.Key("bytes"), w.Uint(f.file_size());
  w.Key("gguf_version"), w.Uint(f.version());
  w.Key("alignment"), w.Uint(f.alignment());
  w.Key("data_offset"), w.Uint(f.data_offset());
  w.EndObject();

  w.Key("model");
  w.BeginObject();
  w.Key("name"), w.String(hp.name);
  w.Key("arch"), w.String(hp.arch);
  w.EndObject();

  w.Key("hparams");
  w.BeginObject();
  w.Key("n_embd"), w.Uint(hp.n_embd);
  w.Key("n_layer"), w.Uint(hp.n_layer);
  w.Key("n_head"), w.Uint(hp.n_head);
  w.Key("n_head_kv"), w.Uint(hp.n_head_kv);
  w.Key("head_dim"), w.Uint(hp.head_dim);
  w.Key("head_dim_v"), w.Uint(hp.head_dim_v);
  w.Key("n_ff"), w.Uint(hp.n_ff);
  w.Key("n_ctx_train"), w.Uint(hp.n_ctx_train);
  w.Key("n_vocab"), w.Uint(hp.n_vocab);
  w.Key("norm_eps"), w.Double(hp.norm_eps);
  w.Key("rope");
  w.BeginObject();
  w.Key("type"), w.String(RopeTypeName(hp.rope_type));
  w.Key("freq_base"), w.Double(hp.rope_freq_base);
  w.Key("dimension_count"), w.Uint(hp.rope_dims);
  w.Key("scaling"), w.String(hp.rope_scaling);
  w.Key("scaling_factor"), w.Double(hp.rope_scaling_factor);
  w.Key("original_context_length"), w.Uint(hp.rope_orig_ctx);
  w.EndObject();
  w.Key("tied_output"), w.Bool(hp.tied_output);
  w.Key("qkv_bias"), w.Bool(hp.has_qkv_bias);
  w.Key("missing_keys");
  w.BeginArray();
  for (const auto& k : hp.missing) w.String(k);
  w.EndArray();
  w.EndObject();

  w.Key("tokenizer");
  w.BeginObject();
  w.Key("model"), w.String(tok.model);
  w.Key("pre"), w.String(tok.pre);
  w.Key("n_tokens"), w.Uint(tok.n_tokens);
  w.Key("n_merges"), w.Uint(tok.n_merges);
  w.Key("add_bos");
  tok.add_bos ? w.Bool(*tok.add_bos) : w.Null();
  w.Key("add_eos");
  tok.add_eos ? w.Bool(*tok.add_eos) : w.Null();
  w.Key("chat_template"), w.Bool(tok.has_chat_template);
  w.Key("special");
  w.BeginObject();
  for (const auto& s : tok.specials) {
    w.Key(s.role);
    w.BeginObject();
    w.Key("id"), w.Int(s.id);
    w.Key("text"), w.String(s.text);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();

  w.Key("metadata");
  w.BeginArray();
  for (const auto& kv : f.metadata()) {
    w.BeginObject();
    w.Key("key"), w.String(kv.key);
    w.Key("type"), w.String(GgufValueTypeName(kv.value.type()));
    w.Key("value");
    WriteValueJson(w, kv.value);
    w.EndObject();
  }
  w.EndArray();

  w.Key("tensors");
  w.BeginArray();
  for (const auto& t : f.tensors()) {
    const auto& info = GetGgmlTypeInfo(t.type);
    w.BeginObject();
    w.Key("name"), w.String(t.name);
    w.Key("type"), w.String(info.name);
    w.Key("shape");
    w.BeginArray();
    for (uint32_t d = 0; d < t.n_dims; ++d) w.Uint(t.ne[d]);
    w.EndArray();
    w.Key("bytes"), w.Uint(t.n_bytes);
    w.Key("offset"), w.Uint(t.offset);
    w.Key("engine_supported"), w.Bool(info.engine_supported);
    w.EndObject();
  }
  w.EndArray();

  w.Key("totals_by_type");
  w.BeginArray();
  for (const auto& [name, tt] : TotalsByType(f)) {
    w.BeginObject();
    w.Key("type"), w.String(name);
    w.Key("count"), w.Uint(tt.count);
    w.Key("bytes"), w.Uint(tt.bytes);
    w.EndObject();
  }
  w.EndArray();

  Status support = f.CheckEngineSupport();
  w.Key("engine_support");
  w.BeginObject();
  w.Key("ok"), w.Bool(support.ok());
  w.Key("error");
  support.ok() ? w.Null() : w.String(support.message());
  w.EndObject();

  w.Key("memory_plan");
  w.BeginObject();
  w.Key("weights_bytes"), w.Uint(plan.weight_bytes);
  w.Key("kv_type"), w.String(KvTypeName(plan.kv_type));
  w.Key("n_ctx"), w.Uint(plan.n_ctx);
  w.Key("n_parallel"), w.Uint(plan.n_parallel);
  w.Key("kv_bytes_per_token"), w.Uint(plan.kv_bytes_per_token);
  w.Key("kv_bytes"), w.Uint(plan.kv_bytes);
  w.Key("scratch_bytes"), w.Uint(plan.scratch_bytes);
  w.Key("total_bytes"), w.Uint(plan.total_bytes);
  w.EndObject();

  w.EndObject();
  std::printf("%s\n", w.str().c_str());
}

}  // namespace

int RunInspect(int argc, char** argv) {
  ArgParser p("hearth inspect",
              "Show a GGUF file's architecture, hyper-parameters, tokenizer, tensors and the\n"
              "memory it needs (weights + KV cache + scratch). Works on any GGUF, including\n"
              "vocab-only files; malformed files are rejected with the byte offset of the fault.");
  p.Positional("FILE", "the GGUF file");
  p.Flag("json", 0, "print one JSON object (schema hearth.inspect/v1, docs/inspect.md)");
  p.Option("ctx", 'c', "N", "context length for the memory plan", "the model's n_ctx_train");
  p.Option("parallel", 0, "N", "sequences decoded together (KV cache per sequence)", "1");
  p.Option("kv-type", 0, "TYPE", "KV cache element type: f16, f32 or q8_0", "f16");
  p.Flag("metadata", 0, "also list every metadata key (text output)");
  p.Epilog("Example:\n  hearth inspect model.gguf --ctx 4096 --parallel 2");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("inspect", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  Options o;
  o.path = args->positionals[0];
  o.json = args->Has("json");
  o.show_metadata = args->Has("metadata");
  auto ctx = args->GetInt("ctx", 0, 1, int64_t{1} << 24);
  if (!ctx.ok()) return ReportError("inspect", ctx.status());
  auto par = args->GetInt("parallel", 1, 1, 4096);
  if (!par.ok()) return ReportError("inspect", par.status());
  auto kv = args->GetChoice("kv-type", "f16", {"f16", "f32", "q8_0"});
  if (!kv.ok()) return ReportError("inspect", kv.status());
  o.n_ctx = static_cast<uint64_t>(*ctx);
  o.n_parallel = static_cast<uint64_t>(*par);
  o.kv_type = *ParseKvType(*kv);

  auto file = GgufFile::Open(o.path);
  if (!file.ok()) return ReportError("inspect", file.status());
  HParams hp = ReadHParams(*file);
  TokenizerSummary tok = ReadTokenizerSummary(*file);
  MemoryPlan plan = PlanMemory(*file, hp, o.n_ctx, o.n_parallel, o.kv_type);
  if (o.json) {
    PrintJson(*file, hp, tok, plan);
  } else {
    PrintText(o, *file, hp, tok, plan);
  }
  return kExitOk;
}

}  // namespace hearth::cli
