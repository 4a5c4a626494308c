#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/cpu_features.h"
#include "base/strings.h"
#include "format/quant_ref.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "model/layer_ops.h"

namespace hearth {
int DefaultThreadCount() {
  const CpuFeatures& f = GetCpuFeatures();
  return std::max(1, f.physical_cores);
}

Forward::Forward(std::shared_ptr<const Model> model, int n_batch, int n_threads)
    : model_(std::move(model)),
      n_batch_(n_batch > 0 ? n_batch : 256),
      isa_(kernels::ActiveIsa()),
      pool_(std::make_unique<ThreadPool>(n_threads > 0 ? n_threads : DefaultThreadCount())),
      step_shares_(pool_->size()),
      step_busy_(static_cast<size_t>(pool_->size())) {
  const HParams& hp = model_->hparams();
  const size_t nb = static_cast<size_t>(n_batch_);
  const size_t q_dim = hp.n_head * hp.head_dim, kv_dim = hp.n_head_kv * hp.head_dim;
  x_.resize(nb * hp.n_embd);
  xn_.resize(nb * hp.n_embd);
  q_.resize(nb * q_dim);
  k_.resize(nb * kv_dim);
  v_.resize(nb * kv_dim);
  att_.resize(nb * q_dim);
  gate_.resize(nb * hp.n_ff);
  up_.resize(nb * hp.n_ff);
  proj_.resize(nb * std::max<size_t>(hp.n_embd, 1));
  size_t max_row = 0;
  auto consider = [&](const Matrix& m) {
    max_row = std::max(max_row, kernels::ActivationRowBytes(m.type, m.n_in));
  };
  for (const LayerWeights& L : model_->layers()) {
    for (const Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      consider(*m);
  }
  consider(model_->output());
  xq_.resize(nb * max_row + 64);
  xq2_.resize(nb * max_row + 64);
  rope_cs_.resize(nb * std::max<size_t>(hp.rope_dims, 2));
  step_.resize(static_cast<size_t>(pool_->size()));
  for (StepScratch& s : step_) {
    s.xn.resize(hp.n_embd);
    for (auto& q : s.xq) q.resize(max_row + 64);
  }
}

void Forward::MatMuls(std::span<const Product> ps, const float* x, int64_t x_stride, int n) {
  // Activations are prepared once per format: up to two (e.g. Q4_K q/k beside
  // a Q6_K v); otherwise one matrix at a time.
  const Matrix* fmt[2] = {nullptr, nullptr};
  int64_t total = 0;
  bool fused = !ps.empty();
  for (const Product& p : ps) {
    total += p.w->n_out;
    if (p.w->n_in != ps[0].w->n_in) fused = false;
    int f = 0;
    while (f < 2 && fmt[f] != nullptr && fmt[f]->type != p.w->type) ++f;
    if (f == 2) {
      fused = false;
    } else if (fmt[f] == nullptr) {
      fmt[f] = p.w;
    }
  }
  if (!fused) {
    for (const Product& p : ps) MatMuls(std::span(&p, 1), x, x_stride, n);
    return;
  }
  uint8_t* xq[2] = {xq_.data(), xq2_.data()};
  size_t row[2] = {0, 0};
  for (int f = 0; f < 2 && fmt[f] != nullptr; ++f) {
    row[f] = kernels::ActivationRowBytes(fmt[f]->type, fmt[f]->n_in);
  }
  pool_->ParallelFor(n, [&](int64_t b, int64_t e, int) {
    for (int f = 0; f < 2 && fmt[f] != nullptr; ++f) {
      for (int64_t t = b; t < e; ++t) {
        kernels::QuantizeActivations(fmt[f]->type, x + t * x_stride, fmt[f]->n_in,
                                     xq[f] + t * row[f], isa_);
      }
    }
  });
  // [b, e) of the rows of all products, one after another.
  const ThreadPool::Fn rows = [&](int64_t b, int64_t e, int) {
    int64_t off = 0;
    for (const Product& p : ps) {
      const Matrix& w = *p.w;
      const int64_t lo = std::max<int64_t>(b - off, 0), hi = std::min<int64_t>(e - off, w.n_out);
      if (lo < hi) {
        const int f = w.type == fmt[0]->type ? 0 : 1;
        kernels::MatmulArgs a{w.type, w.data, w.row_bytes, w.n_in, xq[f], row[f],
                              n,      p.y,    p.y_stride,  lo,     hi,    w.layout};
        kernels::Matmul(a, isa_);
      }
      off += w.n_out;
    }
  };
  // Batches: row ranges in multiples of 16 (whole AMX tiles) sized by each
  // thread's measured speed, since a systematically slower thread otherwise
  // leaves the other waiting; decode keeps equal halves (its imbalance is
  // noise, not a trend). The split never changes a result.
  if (n > 1) {
    pool_->ParallelForBalanced(total, 16, rows);
  } else {
    pool_->ParallelFor(total, rows);
  }
}

void Forward::Attention(int layer, std::span<const BatchRow> rows) {
  const HParams& hp = model_->hparams();
  const int hd = static_cast<int>(hp.head_dim), n_head = static_cast<int>(hp.n_head);
  const int group = static_cast<int>(hp.n_head / hp.n_head_kv);
  const int q_dim = n_head * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int n = static_cast<int>(rows.size());
  int max_pos = 0;
  for (const BatchRow& r : rows) max_pos = std::max(max_pos, r.pos);
  // One job per (row, KV head): the query heads of its GQA group together,
  // so each K/V row is read and converted once per group. Rows are taken
  // from both ends in turn (0, n-1, 1, n-2, ...): in a prefill the cost grows
  // with the position, and contiguous job ranges then cost about the same.
  const int n_kv = n_head / group;
  pool_->ParallelFor(static_cast<int64_t>(n) * n_kv, [&](int64_t b, int64_t e, int) {
    std::vector<float> scores(static_cast<size_t>(max_pos + 1) * group);
    for (int64_t job = b; job < e; ++job) {
      const int k = static_cast<int>(job / n_kv), kh = static_cast<int>(job % n_kv);
      const int t = k % 2 == 0 ? k / 2 : n - 1 - k / 2;
      const KvCache& kv = *rows[t].kv;
      kernels::AttnArgs a;
      a.q = q_.data() + static_cast<size_t>(t) * q_dim + kh * group * hd;
      a.k = kv.k(layer, kh, 0);
      a.v = kv.v(layer, kh, 0);
      a.row_bytes = kv.head_bytes();
      a.head_offset = 0;
      a.head_dim = hd;
      a.n_pos = rows[t].pos + 1;  // attends to positions 0..pos
      a.f16 = kv.type() == KvType::kF16;
      a.scale = scale;
      a.scores = scores.data();
      a.out = att_.data() + static_cast<size_t>(t) * q_dim + kh * group * hd;
      a.n_q = group;
      kernels::AttendHead(a, isa_);
    }
  });
}

Status Forward::Run(std::span<const BatchRow> rows, float* logits) {
  const int n = static_cast<int>(rows.size());
  if (n == 0) return Status::Ok();
  if (n > n_batch_)
    return InvalidArgumentError(StrFormat("%d rows exceed the batch of %d", n, n_batch_));
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int e = static_cast<int>(hp.n_embd), ff = static_cast<int>(hp.n_ff);
  const int hd = static_cast<int>(hp.head_dim);
  const int q_dim = static_cast<int>(hp.n_head * hp.head_dim);
  const int kv_dim = static_cast<int>(hp.n_head_kv * hp.head_dim);
  const float eps = static_cast<float>(hp.norm_eps);

  for (const BatchRow& r : rows) {
    if (r.token < 0 || static_cast<uint64_t>(r.token) >= hp.n_vocab)
      return InvalidArgumentError(StrFormat("token id %d is outside the vocabulary (0..%llu)",
                                            r.token, (unsigned long long)hp.n_vocab - 1),
                                  "invalid_token");
    if (r.kv == nullptr || r.pos < 0 || r.pos >= r.kv->n_ctx())
      return OutOfRangeError(
          StrFormat("position %d is outside the context of %d", r.pos, r.kv ? r.kv->n_ctx() : 0),
          "prompt_too_long");
  }
  // Embeddings: x[t] = token_embd[token of row t].
  const Matrix& emb = m.token_embd();
  for (int t = 0; t < n; ++t) {
    HEARTH_RETURN_IF_ERROR(
        DequantizeRowRef(emb.type, emb.data + static_cast<size_t>(rows[t].token) * emb.row_bytes, e,
                         x_.data() + static_cast<size_t>(t) * e));
  }
  // Each row's rotation, once for all layers.
  const bool neox = hp.rope_type == RopeType::kNeox;
  for (int t = 0; t < n; ++t)
    RopeAngles(rows[t].pos, hp, m.rope_factors(), rope_cs_.data() + t * hp.rope_dims);
  if (n == 1) {
    DecodeStep(rows[0], logits);
    return Status::Ok();
  }
  // Batches are bound by arithmetic, not by lines in flight: the default
  // distance (a tuned 6 KiB cost pp512 1-1.5% against 2 KiB), unless fixed.
  kernels::SetWeightPrefetchBytes(fixed_prefetch_);
  for (size_t l = 0; l < m.layers().size(); ++l) {
    const LayerWeights& L = m.layers()[l];
    pool_->ParallelFor(n, [&](int64_t b, int64_t end, int) {
      for (int64_t t = b; t < end; ++t)
        RmsNorm(x_.data() + t * e, L.attn_norm, eps, e, xn_.data() + t * e);
    });
    const Product qkv[] = {
        {&L.wq, q_.data(), q_dim}, {&L.wk, k_.data(), kv_dim}, {&L.wv, v_.data(), kv_dim}};
    MatMuls(qkv, xn_.data(), e, n);
    pool_->ParallelFor(n, [&](int64_t b, int64_t end, int) {
      for (int64_t t = b; t < end; ++t) {
        float* q = q_.data() + t * q_dim;
        float* k = k_.data() + t * kv_dim;
        float* v = v_.data() + t * kv_dim;
        if (L.bq != nullptr) {
          for (int i = 0; i < q_dim; ++i) q[i] += L.bq[i];
          for (int i = 0; i < kv_dim; ++i) k[i] += L.bk[i], v[i] += L.bv[i];
        }
        const int pos = rows[t].pos;
        KvCache& kv = *rows[t].kv;
        const float* cs = rope_cs_.data() + t * hp.rope_dims;
        Rope(q, static_cast<int>(hp.n_head), hd, static_cast<int>(hp.rope_dims), neox, cs);
        Rope(k, static_cast<int>(hp.n_head_kv), hd, static_cast<int>(hp.rope_dims), neox, cs);
        for (int h = 0; h < static_cast<int>(hp.n_head_kv); ++h) {
          StoreKv(k + h * hd, hd, kv.type(), kv.k(static_cast<int>(l), h, pos));
          StoreKv(v + h * hd, hd, kv.type(), kv.v(static_cast<int>(l), h, pos));
        }
      }
    });
    Attention(static_cast<int>(l), rows);
    const Product o[] = {{&L.wo, proj_.data(), e}};
    MatMuls(o, att_.data(), q_dim, n);
    pool_->ParallelFor(n, [&](int64_t b, int64_t end, int) {
      for (int64_t t = b; t < end; ++t) {
        float* x = x_.data() + t * e;
        const float* p = proj_.data() + t * e;
        AddInto(x, p, e);
        RmsNorm(x, L.ffn_norm, eps, e, xn_.data() + t * e);
      }
    });
    const Product gate_up[] = {{&L.w_gate, gate_.data(), ff}, {&L.w_up, up_.data(), ff}};
    MatMuls(gate_up, xn_.data(), e, n);
    pool_->ParallelFor(n, [&](int64_t b, int64_t end, int) {
      for (int64_t t = b; t < end; ++t) {
        kernels::SwiGlu(gate_.data() + t * ff, up_.data() + t * ff, ff, isa_);
      }
    });
    const Product down[] = {{&L.w_down, proj_.data(), e}};
    MatMuls(down, gate_.data(), ff, n);
    pool_->ParallelFor(n, [&](int64_t b, int64_t end, int) {
      for (int64_t t = b; t < end; ++t) {
        float* x = x_.data() + t * e;
        AddInto(x, proj_.data() + t * e, e);
      }
    });
  }
  int n_out = 0;
  for (int t = 0; t < n; ++t) {
    if (!rows[t].logits) continue;
    RmsNorm(x_.data() + static_cast<size_t>(t) * e, m.output_norm(), eps, e,
            xn_.data() + static_cast<size_t>(n_out) * e);
    ++n_out;
  }
  const Product out[] = {{&m.output(), logits, static_cast<int64_t>(hp.n_vocab)}};
  if (n_out > 0) MatMuls(out, xn_.data(), e, n_out);
  return Status::Ok();
}

}  // namespace hearth
