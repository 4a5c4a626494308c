#include "model/hparams.h"

#include <algorithm>

#include "base/strings.h"
#include "format/ggml_types.h"

namespace hearth {
namespace {

// Reads an integer key; arrays (per-layer values) yield their maximum.
std::optional<uint64_t> ReadUint(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_array() && v->size() > 0 && v->elem_type() != GgufValueType::kString &&
      v->elem_type() != GgufValueType::kArray) {
    int64_t m = 0;
    for (uint64_t i = 0; i < v->size(); ++i) m = std::max(m, v->IntAt(i));
    return static_cast<uint64_t>(m);
  }
  auto r = v->ToUint();
  if (!r.ok()) return std::nullopt;
  return *r;
}

std::optional<double> ReadDouble(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return std::nullopt;
  auto r = v->ToDouble();
  if (!r.ok()) return std::nullopt;
  return *r;
}

std::optional<std::string> ReadString(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->string());
}

RopeType RopeTypeForArch(const std::string& arch) {
  static const char* kNeox[] = {"qwen2",    "qwen2moe",   "qwen3",   "qwen3moe", "phi2",
                                "phi3",     "gemma",      "gemma2",  "gemma3",   "falcon",
                                "stablelm", "starcoder2", "gptneox", "olmo2",    "exaone",
                                "nemotron", "codeshell",  "bitnet"};
  static const char* kNone[] = {"gpt2",   "bert",  "nomic-bert", "jina-bert-v2", "mpt",
                                "refact", "bloom", "starcoder",  "t5",           "t5encoder"};
  for (const char* a : kNeox) {
    if (arch == a) return RopeType::kNeox;
  }
  for (const char* a : kNone) {
    if (arch == a) return RopeType::kNone;
  }
  return RopeType::kNorm;  // llama, mistral, deepseek, baichuan, ...
}

}  // namespace

const char* RopeTypeName(RopeType t) {
  switch (t) {
    case RopeType::kNone:
      return "none";
    case RopeType::kNorm:
      return "norm";
    case RopeType::kNeox:
      return "neox";
  }
  return "?";
}

HParams ReadHParams(const GgufFile& f) {
  HParams hp;
  hp.arch = ReadString(f, "general.architecture").value_or("");
  if (hp.arch.empty()) hp.missing.push_back("general.architecture");
  hp.name = ReadString(f, "general.name").value_or("");
  const std::string p = hp.arch + ".";
  auto req = [&](const std::string& key, uint64_t* out) {
    auto v = ReadUint(f, p + key);
    if (v) {
      *out = *v;
    } else {
      hp.missing.push_back(p + key);
    }
  };
  req("embedding_length", &hp.n_embd);
  req("block_count", &hp.n_layer);
  req("attention.head_count", &hp.n_head);
  req("feed_forward_length", &hp.n_ff);
  req("context_length", &hp.n_ctx_train);
  hp.n_head_kv = ReadUint(f, p + "attention.head_count_kv").value_or(hp.n_head);
  uint64_t derived_head_dim = hp.n_head > 0 ? hp.n_embd / hp.n_head : 0;
  hp.head_dim = ReadUint(f, p + "attention.key_length").value_or(derived_head_dim);
  hp.head_dim_v = ReadUint(f, p + "attention.value_length").value_or(hp.head_dim);

  if (auto eps = ReadDouble(f, p + "attention.layer_norm_rms_epsilon")) {
    hp.norm_eps = *eps;
  } else if (auto eps2 = ReadDouble(f, p + "attention.layer_norm_epsilon")) {
    hp.norm_eps = *eps2;
  } else {
    hp.missing.push_back(p + "attention.layer_norm_rms_epsilon");
  }

  hp.rope_type = RopeTypeForArch(hp.arch);
  hp.rope_dims = ReadUint(f, p + "rope.dimension_count").value_or(hp.head_dim);
  hp.rope_freq_base = ReadDouble(f, p + "rope.freq_base").value_or(10000.0);
  hp.rope_scaling = ReadString(f, p + "rope.scaling.type").value_or("none");
  hp.rope_scaling_factor = ReadDouble(f, p + "rope.scaling.factor").value_or(1.0);
  hp.rope_orig_ctx = ReadUint(f, p + "rope.scaling.original_context_length").value_or(0);
  if (hp.rope_scaling == "none" && f.Find(p + "rope.scaling.low_freq_factor") != nullptr) {
    hp.rope_scaling = "llama3";  // llama 3.1+ stores its scaling as rope_freqs + these keys
  }

  if (const GgufValue* toks = f.Find("tokenizer.ggml.tokens"); toks && toks->is_array()) {
    hp.n_vocab = toks->size();
  } else if (auto vs = ReadUint(f, p + "vocab_size")) {
    hp.n_vocab = *vs;
  } else if (const GgufTensorInfo* emb = f.FindTensor("token_embd.weight")) {
    hp.n_vocab = emb->ne[1];
  }
  hp.tied_output =
      f.FindTensor("token_embd.weight") != nullptr && f.FindTensor("output.weight") == nullptr;
  hp.has_qkv_bias = f.FindTensor("blk.0.attn_q.bias") != nullptr;
  return hp;
}

TokenizerSummary ReadTokenizerSummary(const GgufFile& f) {
  TokenizerSummary s;
  s.model = ReadString(f, "tokenizer.ggml.model").value_or("");
  s.pre = ReadString(f, "tokenizer.ggml.pre").value_or("");
  const GgufValue* toks = f.Find("tokenizer.ggml.tokens");
  bool have_tokens =
      toks != nullptr && toks->is_array() && toks->elem_type() == GgufValueType::kString;
  if (have_tokens) s.n_tokens = toks->size();
  if (const GgufValue* m = f.Find("tokenizer.ggml.merges"); m && m->is_array()) {
    s.n_merges = m->size();
  }
  static const char* kRoles[][2] = {
      {"bos", "tokenizer.ggml.bos_token_id"},       {"eos", "tokenizer.ggml.eos_token_id"},
      {"eot", "tokenizer.ggml.eot_token_id"},       {"eom", "tokenizer.ggml.eom_token_id"},
      {"pad", "tokenizer.ggml.padding_token_id"},   {"unk", "tokenizer.ggml.unknown_token_id"},
      {"sep", "tokenizer.ggml.seperator_token_id"}, {"mask", "tokenizer.ggml.mask_token_id"},
  };
  for (const auto& r : kRoles) {
    const GgufValue* v = f.Find(r[1]);
    if (v == nullptr) continue;
    auto id = v->ToInt();
    // 0xFFFFFFFF (-1 as u32) means "no such token".
    if (!id.ok() || *id < 0 || *id == 0xFFFFFFFFLL) continue;
    SpecialToken t{r[0], *id, ""};
    if (have_tokens && *id >= 0 && static_cast<uint64_t>(*id) < s.n_tokens) {
      t.text = std::string(toks->StringAt(static_cast<uint64_t>(*id)));
    }
    s.specials.push_back(std::move(t));
  }
  if (const GgufValue* v = f.Find("tokenizer.ggml.add_bos_token"); v && v->is_bool()) {
    s.add_bos = v->scalar_bits() != 0;
  }
  if (const GgufValue* v = f.Find("tokenizer.ggml.add_eos_token"); v && v->is_bool()) {
    s.add_eos = v->scalar_bits() != 0;
  }
  s.has_chat_template = f.Find("tokenizer.chat_template") != nullptr;
  return s;
}

std::optional<KvType> ParseKvType(const std::string& s) {
  if (s == "f32") return KvType::kF32;
  if (s == "f16") return KvType::kF16;
  if (s == "q8_0") return KvType::kQ8_0;
  return std::nullopt;
}

const char* KvTypeName(KvType t) {
  switch (t) {
    case KvType::kF32:
      return "f32";
    case KvType::kF16:
      return "f16";
    case KvType::kQ8_0:
      return "q8_0";
  }
  return "?";
}

MemoryPlan PlanMemory(const GgufFile& f, const HParams& hp, uint64_t n_ctx, uint64_t n_parallel,
                      KvType kv_type) {
  MemoryPlan m;
  for (const GgufTensorInfo& t : f.tensors()) m.weight_bytes += t.n_bytes;
  m.kv_type = kv_type;
  m.n_ctx = n_ctx != 0 ? n_ctx : hp.n_ctx_train;
  m.n_parallel = std::max<uint64_t>(1, n_parallel);
  // Elements per token per layer, K and V.
  const uint64_t k_elems = hp.n_head_kv * hp.head_dim;
  const uint64_t v_elems = hp.n_head_kv * hp.head_dim_v;
  auto row_bytes = [&](uint64_t elems) -> uint64_t {
    switch (kv_type) {
      case KvType::kF32:
        return elems * 4;
      case KvType::kF16:
        return elems * 2;
      case KvType::kQ8_0:
        return (elems + 31) / 32 * 34;
    }
    return 0;
  };
  m.kv_bytes_per_token = hp.n_layer * (row_bytes(k_elems) + row_bytes(v_elems));
  m.kv_bytes = m.kv_bytes_per_token * m.n_ctx * m.n_parallel;
  // Activations for a prefill micro-batch of kUbatch tokens (F32): residual and
  // normed stream, q/k/v, attention output, two FFN buffers; attention scores for
  // one head over the whole context per thread; logits for one row per sequence;
  // 8-bit copies of the activations.
  constexpr uint64_t kUbatch = 512;
  constexpr uint64_t kScoreRows = 16;  // rows of attention scores in flight (one per thread)
  const uint64_t q_elems = hp.n_head * hp.head_dim;
  const uint64_t per_token = 3 * hp.n_embd + q_elems + k_elems + v_elems + 2 * hp.n_ff;
  m.scratch_bytes = kUbatch * per_token * 4 + kScoreRows * m.n_ctx * 4 +
                    m.n_parallel * hp.n_vocab * 4 + kUbatch * std::max(hp.n_embd, hp.n_ff) * 2;
  m.total_bytes = m.weight_bytes + m.kv_bytes + m.scratch_bytes;
  return m;
}

}  // namespace hearth
