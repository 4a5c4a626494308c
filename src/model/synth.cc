#include "model/synth.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/strings.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "format/quant_ref.h"

namespace hearth {
namespace {

// Counter-based random numbers: value i of a tensor depends only on (seed,
// tensor name, i), so any split of the work across threads gives the same bytes.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashName(const std::string& s, uint64_t seed) {
  uint64_t h = Mix(seed);
  for (unsigned char c : s) h = Mix(h ^ c);
  return h;
}

// Approximately standard normal: Irwin-Hall sum of four 16-bit uniforms,
// centred and scaled to unit variance (bounded at ±3.46; cheap and exact to
// reproduce).
float NormalAt(uint64_t key, uint64_t i) {
  uint64_t r = Mix(key ^ (i * 0xd1b54a32d192ed03ULL));
  float s =
      static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48)) *
      (1.0f / 65536.0f);
  return (s - 2.0f) * 1.7320508f;  // sqrt(12 / 4)
}

float UniformAt(uint64_t key, uint64_t i) {
  return static_cast<float>(Mix(key ^ (i * 0xd1b54a32d192ed03ULL)) >> 40) * (1.0f / 16777216.0f);
}

enum class Init { kNormal, kUniformNorm };

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> ne;
  GgmlType type;
  Init init;
  float scale;  // normal: standard deviation
};

// The type of a 2-D weight: `requested`, except that rows which are not a whole
// number of blocks fall back to a 32-block type (as llama.cpp's quantizer does),
// and the Q4_K_M mixture gives Q6_K to the output matrix and to attn_v/ffn_down of
// some layers.
GgmlType MatrixType(GgmlType requested, const std::string& name, uint64_t row, uint64_t n_layer) {
  GgmlType t = requested;
  if (requested == kQ4_K_M) {
    t = GgmlType::kQ4_K;
    if (name == "output.weight") {
      t = GgmlType::kQ6_K;
    } else if (name.find("attn_v.weight") != std::string::npos ||
               name.find("ffn_down.weight") != std::string::npos) {
      const uint64_t i = std::strtoull(name.c_str() + 4, nullptr, 10);  // "blk.<i>."
      const bool more_bits = i < n_layer / 8 || i >= 7 * n_layer / 8 ||
                             (i >= n_layer / 8 && (i - n_layer / 8) % 3 == 2);
      if (more_bits) t = GgmlType::kQ6_K;
    }
  }
  if (row % GetGgmlTypeInfo(t).block_size != 0) {
    switch (t) {
      case GgmlType::kQ4_K:
        return GgmlType::kQ5_0;
      case GgmlType::kQ5_K:
        return GgmlType::kQ5_1;
      default:
        return GgmlType::kQ8_0;
    }
  }
  return t;
}

std::vector<TensorPlan> PlanTensors(const SynthDims& d, GgmlType wtype) {
  const uint64_t hd = d.head_dim ? d.head_dim : d.n_embd / d.n_head;
  const float se = 1.0f / std::sqrt(static_cast<float>(d.n_embd));
  const float sf = 1.0f / std::sqrt(static_cast<float>(d.n_ff));
  std::vector<TensorPlan> t;
  auto mat = [&](std::string name, uint64_t in, uint64_t out, float sd) {
    const GgmlType type = MatrixType(wtype, name, in, d.n_layer);
    t.push_back({std::move(name), {in, out}, type, Init::kNormal, sd});
  };
  auto vec = [&](std::string name, uint64_t n, Init init, float sd) {
    t.push_back({std::move(name), {n}, GgmlType::kF32, init, sd});
  };
  mat("token_embd.weight", d.n_embd, d.n_vocab, d.tied_output ? 4.0f * se : 1.0f);
  if (d.llama3_rope) vec("rope_freqs.weight", hd / 2, Init::kNormal, 0.0f);  // filled specially
  for (uint64_t l = 0; l < d.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    vec(b + "attn_norm.weight", d.n_embd, Init::kUniformNorm, 0);
    mat(b + "attn_q.weight", d.n_embd, d.n_head * hd, 1.2f * se);
    if (d.qkv_bias) vec(b + "attn_q.bias", d.n_head * hd, Init::kNormal, 0.5f);
    mat(b + "attn_k.weight", d.n_embd, d.n_head_kv * hd, 1.2f * se);
    if (d.qkv_bias) vec(b + "attn_k.bias", d.n_head_kv * hd, Init::kNormal, 0.5f);
    mat(b + "attn_v.weight", d.n_embd, d.n_head_kv * hd, 1.2f * se);
    if (d.qkv_bias) vec(b + "attn_v.bias", d.n_head_kv * hd, Init::kNormal, 0.5f);
    mat(b + "attn_output.weight", d.n_head * hd, d.n_embd, se);
    vec(b + "ffn_norm.weight", d.n_embd, Init::kUniformNorm, 0);
    mat(b + "ffn_gate.weight", d.n_embd, d.n_ff, se);
    mat(b + "ffn_up.weight", d.n_embd, d.n_ff, se);
    mat(b + "ffn_down.weight", d.n_ff, d.n_embd, sf);
  }
  vec("output_norm.weight", d.n_embd, Init::kUniformNorm, 0);
  if (!d.tied_output) mat("output.weight", d.n_embd, d.n_vocab, 4.0f * se);
  return t;
}

// llama3 frequency factors (one per rotated pair), as stored in rope_freqs.weight.
std::vector<float> Llama3RopeFactors(const SynthDims& d) {
  const uint64_t hd = d.head_dim ? d.head_dim : d.n_embd / d.n_head;
  const double low_freq_factor = 1.0, high_freq_factor = 4.0;
  const double low_wavelen = static_cast<double>(d.rope_orig_ctx) / low_freq_factor;
  const double high_wavelen = static_cast<double>(d.rope_orig_ctx) / high_freq_factor;
  std::vector<float> f;
  for (uint64_t i = 0; i < hd; i += 2) {
    double freq = 1.0 / std::pow(d.rope_base, static_cast<double>(i) / static_cast<double>(hd));
    double wavelen = 2 * M_PI / freq;
    double factor;
    if (wavelen < high_wavelen) {
      factor = 1.0;
    } else if (wavelen > low_wavelen) {
      factor = d.rope_scale;
    } else {
      double smooth = (static_cast<double>(d.rope_orig_ctx) / wavelen - low_freq_factor) /
                      (high_freq_factor - low_freq_factor);
      factor = 1.0 / ((1 - smooth) / d.rope_scale + smooth);
    }
    f.push_back(static_cast<float>(factor));
  }
  return f;
}

Status FillTensor(const TensorPlan& p, uint64_t key, int threads, std::span<uint8_t> out) {
  const uint64_t ne0 = p.ne[0];
  const uint64_t rows = p.ne.size() > 1 ? p.ne[1] : 1;
  const GgmlTypeInfo& info = GetGgmlTypeInfo(p.type);
  const uint64_t row_bytes = ne0 / info.block_size * info.type_size;
  int n_threads = static_cast<int>(std::min<uint64_t>(rows, static_cast<uint64_t>(threads)));
  n_threads = std::max(1, n_threads);
  std::vector<Status> results(n_threads);
  auto work = [&](int t) {
    std::vector<float> row(ne0);
    for (uint64_t r = rows * t / n_threads; r < rows * (t + 1) / n_threads; ++r) {
      for (uint64_t j = 0; j < ne0; ++j) {
        const uint64_t i = r * ne0 + j;
        row[j] =
            p.init == Init::kNormal ? p.scale * NormalAt(key, i) : 0.8f + 0.4f * UniformAt(key, i);
      }
      Status st =
          QuantizeRowRef(p.type, row.data(), static_cast<int64_t>(ne0), out.data() + r * row_bytes);
      if (!st.ok()) {
        results[t] = st;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (auto& st : results) HEARTH_RETURN_IF_ERROR(st);
  return Status::Ok();
}

// A byte-fallback SentencePiece vocabulary: <unk> <s> </s>, the 256 byte
// tokens, "▁", printable ASCII, "▁a".."▁z", then unused padding up to n_vocab.
void WriteBuiltinVocab(GgufWriter& w, uint64_t n_vocab) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(StrFormat("<0x%02X>", b));
    scores.push_back(0);
    types.push_back(6);
  }
  auto piece = [&](std::string s) {
    tokens.push_back(std::move(s));
    scores.push_back(-static_cast<float>(tokens.size()));
    types.push_back(1);
  };
  piece("\xe2\x96\x81");
  for (char c = 0x21; c < 0x7f; ++c) piece(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) piece("\xe2\x96\x81" + std::string(1, c));
  while (tokens.size() < n_vocab) {
    tokens.push_back(StrFormat("<unused%zu>", tokens.size()));
    scores.push_back(-1e9f);
    types.push_back(5);
  }
  tokens.resize(n_vocab);
  scores.resize(n_vocab);
  types.resize(n_vocab);
  w.SetString("tokenizer.ggml.model", "llama");
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  w.SetFloat32Array("tokenizer.ggml.scores", scores);
  w.SetInt32Array("tokenizer.ggml.token_type", types);
  w.SetUint32("tokenizer.ggml.bos_token_id", 1);
  w.SetUint32("tokenizer.ggml.eos_token_id", 2);
  w.SetUint32("tokenizer.ggml.unknown_token_id", 0);
  w.SetBool("tokenizer.ggml.add_bos_token", true);
}

// Copies tokenizer.* from `vocab`; pads the token arrays with unused tokens
// when the model's vocabulary is larger.
Status CopyVocab(GgufWriter& w, const GgufFile& vocab, uint64_t n_vocab) {
  const GgufValue* toks = vocab.Find("tokenizer.ggml.tokens");
  if (toks == nullptr || !toks->is_array() || toks->elem_type() != GgufValueType::kString) {
    return InvalidArgumentError("'" + vocab.path() + "' has no tokenizer.ggml.tokens array");
  }
  const uint64_t n = toks->size();
  for (const GgufKv& kv : vocab.metadata()) {
    if (!StartsWith(kv.key, "tokenizer.")) continue;
    const GgufValue& v = kv.value;
    bool per_token = v.is_array() && v.size() == n && n < n_vocab;
    if (!per_token) {
      w.SetValue(kv.key, v);
    } else if (v.elem_type() == GgufValueType::kString) {
      std::vector<std::string> s;
      s.reserve(n_vocab);
      for (uint64_t i = 0; i < n; ++i) s.emplace_back(v.StringAt(i));
      while (s.size() < n_vocab) s.push_back(StrFormat("<unused%zu>", s.size()));
      w.SetStringArray(kv.key, s);
    } else if (v.elem_type() == GgufValueType::kFloat32) {
      std::vector<float> f;
      for (uint64_t i = 0; i < n; ++i) f.push_back(static_cast<float>(v.DoubleAt(i)));
      f.resize(n_vocab, -1e9f);
      w.SetFloat32Array(kv.key, f);
    } else if (v.elem_type() == GgufValueType::kInt32) {
      std::vector<int32_t> t;
      for (uint64_t i = 0; i < n; ++i) t.push_back(static_cast<int32_t>(v.IntAt(i)));
      t.resize(n_vocab, 5);  // UNUSED
      w.SetInt32Array(kv.key, t);
    } else {
      w.SetValue(kv.key, v);
    }
  }
  return Status::Ok();
}

uint32_t FileTypeFor(GgmlType t) {
  switch (t) {
    case GgmlType::kF32:
      return 0;
    case GgmlType::kF16:
      return 1;
    case GgmlType::kQ4_0:
      return 2;
    case GgmlType::kQ4_1:
      return 3;
    case GgmlType::kQ8_0:
      return 7;
    case GgmlType::kQ5_0:
      return 8;
    case GgmlType::kQ5_1:
      return 9;
    case GgmlType::kQ4_K:
      return 15;
    case GgmlType::kQ5_K:
      return 17;
    case GgmlType::kQ6_K:
      return 18;
    case GgmlType::kBF16:
      return 32;
    default:
      return 0;
  }
}

}  // namespace

std::optional<GgmlType> ParseSynthType(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "q4_k_m") return kQ4_K_M;
  auto t = ParseGgmlType(lower);
  if (!t || !CanQuantize(*t)) return std::nullopt;
  return t;
}

std::vector<std::string> SynthPresetNames() {
  return {"tinyllama-1.1b", "llama3.2-1b", "qwen2.5-0.5b", "tiny"};
}

std::optional<SynthDims> SynthPreset(const std::string& name) {
  SynthDims d;
  if (name == "tiny") return d;  // the shape of the golden synth-llama-d256 models
  if (name == "tinyllama-1.1b") {
    d.n_embd = 2048, d.n_ff = 5632, d.n_layer = 22, d.n_head = 32, d.n_head_kv = 4;
    d.n_vocab = 32000, d.n_ctx = 2048;
    return d;
  }
  if (name == "llama3.2-1b") {
    d.n_embd = 2048, d.n_ff = 8192, d.n_layer = 16, d.n_head = 32, d.n_head_kv = 8;
    d.n_vocab = 128256, d.n_ctx = 131072, d.rope_base = 500000.0, d.tied_output = true;
    d.llama3_rope = true, d.rope_scale = 32.0, d.rope_orig_ctx = 8192;
    return d;
  }
  if (name == "qwen2.5-0.5b") {
    d.arch = "qwen2";
    d.n_embd = 896, d.n_ff = 4864, d.n_layer = 24, d.n_head = 14, d.n_head_kv = 2;
    d.n_vocab = 151936, d.n_ctx = 32768, d.rope_base = 1000000.0, d.norm_eps = 1e-6;
    d.tied_output = true, d.qkv_bias = true;
    return d;
  }
  return std::nullopt;
}

Status ApplyDimsOverrides(const std::string& spec, SynthDims* d) {
  for (std::string_view item : StrSplit(spec, ',')) {
    item = StripWhitespace(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("--dims item '" + std::string(item) + "' is not key=value",
                                  "cli.bad_value");
    }
    std::string key(item.substr(0, eq));
    std::string_view val = item.substr(eq + 1);
    if (key == "arch") {
      if (val != "llama" && val != "qwen2") {
        return InvalidArgumentError("--dims arch must be llama or qwen2", "cli.bad_value");
      }
      d->arch = std::string(val);
      d->qkv_bias = val == "qwen2";
      continue;
    }
    if (key == "tied") {
      d->tied_output = val == "1" || val == "true";
      continue;
    }
    double num = 0;
    if (!ParseDouble(val, &num) || num < 0) {
      return InvalidArgumentError("--dims " + key + " needs a non-negative number",
                                  "cli.bad_value");
    }
    auto u = static_cast<uint64_t>(num);
    if (key == "n_embd")
      d->n_embd = u;
    else if (key == "n_ff")
      d->n_ff = u;
    else if (key == "n_layer")
      d->n_layer = u;
    else if (key == "n_head")
      d->n_head = u;
    else if (key == "n_head_kv")
      d->n_head_kv = u;
    else if (key == "head_dim")
      d->head_dim = u;
    else if (key == "n_vocab")
      d->n_vocab = u;
    else if (key == "n_ctx")
      d->n_ctx = u;
    else if (key == "rope_base")
      d->rope_base = num;
    else if (key == "norm_eps")
      d->norm_eps = num;
    else
      return InvalidArgumentError("--dims: unknown key '" + key + "'", "cli.bad_value");
  }
  if (d->n_embd == 0 || d->n_ff == 0 || d->n_layer == 0 || d->n_head == 0 || d->n_head_kv == 0 ||
      d->n_vocab == 0 || d->n_ctx == 0) {
    return InvalidArgumentError("--dims: every dimension must be positive", "cli.bad_value");
  }
  if (d->n_head % d->n_head_kv != 0) {
    return InvalidArgumentError("--dims: n_head must be a multiple of n_head_kv", "cli.bad_value");
  }
  if (d->head_dim == 0 && d->n_embd % d->n_head != 0) {
    return InvalidArgumentError("--dims: n_embd must be a multiple of n_head (or set head_dim)",
                                "cli.bad_value");
  }
  return Status::Ok();
}

Status WriteSynthModel(const SynthOptions& o, const std::string& path) {
  SynthDims d = o.dims;
  if (o.type != kQ4_K_M && !CanQuantize(o.type)) {
    return UnimplementedError(StrFormat("synth cannot write %s weights",
                                        std::string(GetGgmlTypeInfo(o.type).name).c_str()),
                              "cli.bad_value");
  }
  GgufWriter w;
  const std::string a = d.arch + ".";
  w.SetString("general.architecture", d.arch);
  w.SetString("general.name", o.name.empty() ? "hearth-synth" : o.name);
  w.SetUint32("general.file_type", o.type == kQ4_K_M ? 15 : FileTypeFor(o.type));
  if (o.type != GgmlType::kF32 && o.type != GgmlType::kF16 &&
      o.type != GgmlType::kBF16) {  // quantized
    w.SetUint32("general.quantization_version", 2);
  }

  std::optional<GgufFile> vocab;
  if (!o.vocab_from.empty()) {
    auto v = GgufFile::Open(o.vocab_from);
    if (!v.ok()) return v.status().WithContext("reading --vocab-from");
    vocab = std::move(v).value();
    const GgufValue* toks = vocab->Find("tokenizer.ggml.tokens");
    if (toks != nullptr && toks->is_array())
      d.n_vocab = std::max<uint64_t>(d.n_vocab, toks->size());
  }
  const uint64_t hd = d.head_dim ? d.head_dim : d.n_embd / d.n_head;
  w.SetUint32(a + "context_length", static_cast<uint32_t>(d.n_ctx));
  w.SetUint32(a + "embedding_length", static_cast<uint32_t>(d.n_embd));
  w.SetUint32(a + "block_count", static_cast<uint32_t>(d.n_layer));
  w.SetUint32(a + "feed_forward_length", static_cast<uint32_t>(d.n_ff));
  w.SetUint32(a + "attention.head_count", static_cast<uint32_t>(d.n_head));
  w.SetUint32(a + "attention.head_count_kv", static_cast<uint32_t>(d.n_head_kv));
  if (d.head_dim != 0) {
    w.SetUint32(a + "attention.key_length", static_cast<uint32_t>(hd));
    w.SetUint32(a + "attention.value_length", static_cast<uint32_t>(hd));
  }
  w.SetFloat32(a + "rope.freq_base", static_cast<float>(d.rope_base));
  w.SetUint32(a + "rope.dimension_count", static_cast<uint32_t>(hd));
  w.SetFloat32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(d.norm_eps));
  w.SetUint32(a + "vocab_size", static_cast<uint32_t>(d.n_vocab));
  if (vocab) {
    HEARTH_RETURN_IF_ERROR(CopyVocab(w, *vocab, d.n_vocab));
  } else {
    WriteBuiltinVocab(w, d.n_vocab);
  }

  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<float> rope_factors =
      d.llama3_rope ? Llama3RopeFactors(d) : std::vector<float>{};
  for (const TensorPlan& p : PlanTensors(d, o.type)) {
    const uint64_t key = HashName(p.name, o.seed);
    GgufWriter::Filler fill;
    if (p.name == "rope_freqs.weight") {
      fill = [&rope_factors](std::span<uint8_t> out) {
        std::memcpy(out.data(), rope_factors.data(), out.size());
        return Status::Ok();
      };
    } else {
      fill = [p, key, threads](std::span<uint8_t> out) { return FillTensor(p, key, threads, out); };
    }
    HEARTH_RETURN_IF_ERROR(w.AddTensor(p.name, p.type, p.ne, std::move(fill)));
  }
  return w.Write(path, o.progress);
}

}  // namespace hearth
