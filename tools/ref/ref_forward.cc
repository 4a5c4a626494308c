#include "ref_forward.h"

#include <cmath>

#include "base/strings.h"
#include "format/quant_ref.h"

namespace hearth::ref {
namespace {

// Dequantizes tensor `name`, checking it has `expected` elements.
Status LoadTensor(const GgufFile& f, const std::string& name, uint64_t expected,
                  std::vector<float>* out, bool optional = false) {
  const GgufTensorInfo* t = f.FindTensor(name);
  if (t == nullptr) {
    if (optional) return Status::Ok();
    return NotFoundError("tensor '" + name + "' missing", "model.missing_tensor");
  }
  if (t->n_elements != expected) {
    return InvalidArgumentError(
        StrFormat("tensor '%s' has %llu elements, expected %llu", name.c_str(),
                  static_cast<unsigned long long>(t->n_elements),
                  static_cast<unsigned long long>(expected)),
        "model.bad_shape");
  }
  out->resize(expected);
  Status st = DequantizeRowRef(t->type, f.TensorData(*t).data(), static_cast<int64_t>(expected),
                               out->data());
  return st.ok() ? st : st.WithContext("tensor '" + name + "'");
}

// y[o] = sum_i w[o][i] x[i]  (w: [out][in], the GGUF layout of a [in, out] tensor)
void MatVec(const std::vector<float>& w, const float* x, float* y, int in, int out) {
  for (int o = 0; o < out; ++o) {
    const float* row = w.data() + static_cast<size_t>(o) * in;
    float acc = 0.0f;
    for (int i = 0; i < in; ++i) acc += row[i] * x[i];
    y[o] = acc;
  }
}

void RmsNorm(const float* x, const std::vector<float>& w, float eps, float* out, int n) {
  float ss = 0.0f;
  for (int i = 0; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

}  // namespace

Result<RefModel> RefModel::Load(const GgufFile& f, int n_ctx) {
  RefModel m;
  m.hp_ = ReadHParams(f);
  const HParams& hp = m.hp_;
  if (hp.arch != "llama" && hp.arch != "qwen2") {
    return UnimplementedError("reference forward: architecture '" + hp.arch + "' not supported");
  }
  if (!hp.missing.empty()) return InvalidArgumentError("missing hyper-parameter " + hp.missing[0]);
  m.n_ctx_ = n_ctx;
  const uint64_t e = hp.n_embd, q_dim = hp.n_head * hp.head_dim,
                 kv_dim = hp.n_head_kv * hp.head_dim;
  HEARTH_RETURN_IF_ERROR(LoadTensor(f, "token_embd.weight", hp.n_vocab * e, &m.token_embd_));
  m.layers_.resize(hp.n_layer);
  for (uint64_t l = 0; l < hp.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    Layer& L = m.layers_[l];
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_norm.weight", e, &L.attn_norm));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_q.weight", e * q_dim, &L.wq));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_k.weight", e * kv_dim, &L.wk));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_v.weight", e * kv_dim, &L.wv));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_q.bias", q_dim, &L.bq, true));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_k.bias", kv_dim, &L.bk, true));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_v.bias", kv_dim, &L.bv, true));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "attn_output.weight", q_dim * e, &L.wo));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "ffn_norm.weight", e, &L.ffn_norm));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "ffn_gate.weight", e * hp.n_ff, &L.w_gate));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "ffn_up.weight", e * hp.n_ff, &L.w_up));
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, b + "ffn_down.weight", hp.n_ff * e, &L.w_down));
  }
  HEARTH_RETURN_IF_ERROR(LoadTensor(f, "output_norm.weight", e, &m.output_norm_));
  if (f.FindTensor("output.weight") != nullptr) {
    HEARTH_RETURN_IF_ERROR(LoadTensor(f, "output.weight", hp.n_vocab * e, &m.output_));
  } else {
    m.output_ = m.token_embd_;
  }
  HEARTH_RETURN_IF_ERROR(
      LoadTensor(f, "rope_freqs.weight", hp.rope_dims / 2, &m.rope_factors_, true));
  const size_t cache = static_cast<size_t>(hp.n_layer) * n_ctx * kv_dim;
  m.key_cache_.assign(cache, 0.0f);
  m.value_cache_.assign(cache, 0.0f);
  return m;
}

Result<std::vector<float>> RefModel::Forward(int32_t token) {
  const HParams& hp = hp_;
  if (token < 0 || static_cast<uint64_t>(token) >= hp.n_vocab) {
    return OutOfRangeError(StrFormat("token id %d out of range", token));
  }
  if (pos_ >= n_ctx_) return OutOfRangeError(StrFormat("position %d beyond the context", pos_));
  const int e = static_cast<int>(hp.n_embd), hd = static_cast<int>(hp.head_dim);
  const int n_head = static_cast<int>(hp.n_head), n_kv = static_cast<int>(hp.n_head_kv);
  const int q_dim = n_head * hd, kv_dim = n_kv * hd, ff = static_cast<int>(hp.n_ff);
  const float eps = static_cast<float>(hp.norm_eps);

  std::vector<float> x(token_embd_.begin() + static_cast<size_t>(token) * e,
                       token_embd_.begin() + static_cast<size_t>(token + 1) * e);  // [n_embd]
  std::vector<float> xb(e), q(q_dim), k(kv_dim), v(kv_dim), att_out(q_dim), proj(e);
  std::vector<float> gate(ff), up(ff), scores(pos_ + 1);

  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    RmsNorm(x.data(), L.attn_norm, eps, xb.data(), e);
    MatVec(L.wq, xb.data(), q.data(), e, q_dim);
    MatVec(L.wk, xb.data(), k.data(), e, kv_dim);
    MatVec(L.wv, xb.data(), v.data(), e, kv_dim);
    if (!L.bq.empty()) {
      for (int i = 0; i < q_dim; ++i) q[i] += L.bq[i];
      for (int i = 0; i < kv_dim; ++i) k[i] += L.bk[i], v[i] += L.bv[i];
    }
    // RoPE on the first rope_dims dimensions of every head.
    const int rd = static_cast<int>(hp.rope_dims);
    for (int i = 0; i < rd / 2; ++i) {
      double theta = static_cast<double>(pos_) *
                     std::pow(hp.rope_freq_base, -2.0 * i / static_cast<double>(rd));
      if (!rope_factors_.empty()) theta /= rope_factors_[i];
      const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
      auto rotate = [&](float* head) {
        const int a = hp.rope_type == RopeType::kNeox ? i : 2 * i;
        const int b = hp.rope_type == RopeType::kNeox ? i + rd / 2 : 2 * i + 1;
        const float x0 = head[a], x1 = head[b];
        head[a] = x0 * c - x1 * s;
        head[b] = x0 * s + x1 * c;
      };
      for (int h = 0; h < n_head; ++h) rotate(q.data() + h * hd);
      for (int h = 0; h < n_kv; ++h) rotate(k.data() + h * hd);
    }
    float* kc = key_cache_.data() + (l * n_ctx_ + pos_) * static_cast<size_t>(kv_dim);
    float* vc = value_cache_.data() + (l * n_ctx_ + pos_) * static_cast<size_t>(kv_dim);
    std::copy(k.begin(), k.end(), kc);
    std::copy(v.begin(), v.end(), vc);
    // Attention: query head h reads KV head h / (n_head / n_kv).
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    for (int h = 0; h < n_head; ++h) {
      const int kvh = h / (n_head / n_kv);
      const float* qh = q.data() + h * hd;
      float max_score = -INFINITY;
      for (int t = 0; t <= pos_; ++t) {
        const float* kt =
            key_cache_.data() + (l * n_ctx_ + t) * static_cast<size_t>(kv_dim) + kvh * hd;
        float dot = 0.0f;
        for (int i = 0; i < hd; ++i) dot += qh[i] * kt[i];
        scores[t] = dot * scale;
        max_score = std::max(max_score, scores[t]);
      }
      float sum = 0.0f;
      for (int t = 0; t <= pos_; ++t) sum += scores[t] = std::exp(scores[t] - max_score);
      float* out = att_out.data() + h * hd;
      std::fill(out, out + hd, 0.0f);
      for (int t = 0; t <= pos_; ++t) {
        const float* vt =
            value_cache_.data() + (l * n_ctx_ + t) * static_cast<size_t>(kv_dim) + kvh * hd;
        const float a = scores[t] / sum;
        for (int i = 0; i < hd; ++i) out[i] += a * vt[i];
      }
    }
    MatVec(L.wo, att_out.data(), proj.data(), q_dim, e);
    for (int i = 0; i < e; ++i) x[i] += proj[i];
    // SwiGLU feed-forward.
    RmsNorm(x.data(), L.ffn_norm, eps, xb.data(), e);
    MatVec(L.w_gate, xb.data(), gate.data(), e, ff);
    MatVec(L.w_up, xb.data(), up.data(), e, ff);
    for (int i = 0; i < ff; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    MatVec(L.w_down, gate.data(), proj.data(), ff, e);
    for (int i = 0; i < e; ++i) x[i] += proj[i];
  }
  RmsNorm(x.data(), output_norm_, eps, xb.data(), e);
  std::vector<float> logits(hp.n_vocab);
  MatVec(output_, xb.data(), logits.data(), e, static_cast<int>(hp.n_vocab));
  ++pos_;
  return logits;
}

}  // namespace hearth::ref
