// One row through the model as a single pool job (Forward::DecodeStep).
//
// A decode step reads every weight once and does little else, so what costs
// is the time the memory bus stands idle: while one thread alone normalizes,
// rotates or applies SwiGLU between products, and while threads hand work to
// each other. Here every thread runs the whole step, and a layer has five
// phases, each ended by a barrier (thread t takes its share of each split):
//   1. RMSNorm of x and its prepared forms, on every thread into its own
//      scratch (no hand-over, no wait); its share of the q/k/v rows.
//   2. Its share of the KV heads: q/k/v biases, RoPE, the K/V store, and the
//      attention of the query heads of those KV heads.
//   3. att prepared on every thread; its share of o's rows, added into x.
//   4. RMSNorm of x, prepared, on every thread; its share of the feed-forward
//      width, cut in whole blocks of down's input format: those gate and up
//      rows, SwiGLU on them, and that part of down's prepared input.
//   5. Its share of down's rows, added into x.
// The shares of rows follow each thread's measured speed over the previous
// steps (the KV heads are split evenly). Every value is computed by the same
// function from the same operands as in Run's batch path (layer_ops.h, the
// kernels' per-row and per-block contracts), so a row's bits depend neither on
// the path nor on the thread count.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "model/forward.h"
#include "model/layer_ops.h"

namespace hearth {
namespace {

// Share t of [0, n) by cumulative fractions cum[0] = 0 <= ... <= cum[T] = 1.
struct Share {
  int64_t lo, hi;
  Share(int64_t n, const double* cum, int t)
      : lo(std::llround(static_cast<double>(n) * cum[t])),
        hi(std::llround(static_cast<double>(n) * cum[t + 1])) {}
};

// Each step moves a thread's share this fraction of the way to what its
// measured speed asks for; shares stay within these factors of an equal split.
constexpr double kShareSmoothing = 0.2;
constexpr double kMinShare = 0.5, kMaxShare = 1.5;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void Forward::DecodeStep(const BatchRow& row, float* logits) {
  const int T = pool_->size();
  if (step_share_.size() != static_cast<size_t>(T) + 1) {
    step_share_.resize(static_cast<size_t>(T) + 1);
    for (int t = 0; t <= T; ++t) step_share_[t] = static_cast<double>(t) / T;
    step_busy_.assign(static_cast<size_t>(T), 0.0);
  }
  SpinBarrier barrier(T);
  pool_->ParallelFor(
      T, [&](int64_t b, int64_t, int) { DecodeThread(static_cast<int>(b), row, logits, barrier); });
  // A thread that is steadily slower (another load on its core, a farther
  // memory path) would leave the others waiting at every barrier: its share
  // of the next steps' rows follows its measured speed instead.
  std::vector<double> rate(static_cast<size_t>(T));
  double sum = 0.0;
  for (int t = 0; t < T; ++t) {
    if (!(step_busy_[t] > 0.0)) return;
    rate[t] = (step_share_[t + 1] - step_share_[t]) / step_busy_[t];
    sum += rate[t];
  }
  const double equal = 1.0 / T;
  double total = 0.0;
  for (int t = 0; t < T; ++t) {
    const double share = step_share_[t + 1] - step_share_[t];
    rate[t] = std::clamp((1.0 - kShareSmoothing) * share + kShareSmoothing * rate[t] / sum,
                         kMinShare * equal, kMaxShare * equal);
    total += rate[t];
  }
  for (int t = 0; t < T; ++t) step_share_[t + 1] = step_share_[t] + rate[t] / total;
  step_share_[T] = 1.0;
}

void Forward::DecodeThread(int t, const BatchRow& row, float* logits, SpinBarrier& barrier) {
  const Model& m = *model_;
  const HParams& hp = m.hparams();
  const int T = pool_->size();
  const int e = static_cast<int>(hp.n_embd), ff = static_cast<int>(hp.n_ff);
  const int hd = static_cast<int>(hp.head_dim), rope_dims = static_cast<int>(hp.rope_dims);
  const int n_kv = static_cast<int>(hp.n_head_kv);
  const int group = static_cast<int>(hp.n_head / hp.n_head_kv);
  const int q_dim = static_cast<int>(hp.n_head * hp.head_dim);
  const float eps = static_cast<float>(hp.norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const bool neox = hp.rope_type == RopeType::kNeox;
  const float* cs = rope_cs_.data();
  KvCache& kv = *row.kv;
  const size_t kv_elem = kv.type() == KvType::kF32 ? 4 : 2;
  StepScratch& s = step_[static_cast<size_t>(t)];

  float* x = x_.data();
  const double* cum = step_share_.data();
  // Time spent on the phases split by rows (all but attention's), for the
  // shares of the next step.
  double busy = 0.0, start = Now();
  auto wait = [&](bool timed) {
    if (timed) busy += Now() - start;
    barrier.Wait();
    start = Now();
  };

  // Prepares `in` (n_in values) for each distinct weight type of `ps` in this
  // thread's scratch, then computes this thread's share of their rows (the
  // products' rows one after another, as MatMuls splits them).
  auto multiply = [&](std::initializer_list<Product> ps, const float* in) {
    const Matrix* fmt[3] = {nullptr, nullptr, nullptr};
    int64_t total = 0;
    for (const Product& p : ps) {
      total += p.w->n_out;
      int f = 0;
      while (fmt[f] != nullptr && fmt[f]->type != p.w->type) ++f;  // at most 3 products
      if (fmt[f] == nullptr) {
        fmt[f] = p.w;
        kernels::QuantizeActivations(p.w->type, in, p.w->n_in, s.xq[f].data(), isa_);
      }
    }
    const Share sh(total, cum, t);
    int64_t off = 0;
    for (const Product& p : ps) {
      const Matrix& w = *p.w;
      const int64_t lo = std::max<int64_t>(sh.lo - off, 0), hi = std::min(sh.hi - off, w.n_out);
      if (lo < hi) {
        int f = 0;
        while (fmt[f]->type != w.type) ++f;
        const kernels::MatmulArgs a{w.type,
                                    w.data,
                                    w.row_bytes,
                                    w.n_in,
                                    s.xq[f].data(),
                                    kernels::ActivationRowBytes(w.type, w.n_in),
                                    1,
                                    p.y,
                                    w.n_out,
                                    lo,
                                    hi};
        kernels::Matmul(a, isa_);
      }
      off += w.n_out;
    }
  };
  // This thread's share of a single product's rows on an already prepared
  // input, then those rows added into x.
  auto multiply_add = [&](const Matrix& w, const uint8_t* xq) {
    const Share sh(w.n_out, cum, t);
    if (sh.lo < sh.hi) {
      const kernels::MatmulArgs a{w.type, w.data,       w.row_bytes,
                                  w.n_in, xq,           kernels::ActivationRowBytes(w.type, w.n_in),
                                  1,      proj_.data(), w.n_out,
                                  sh.lo,  sh.hi};
      kernels::Matmul(a, isa_);
      AddInto(x + sh.lo, proj_.data() + sh.lo, static_cast<int>(sh.hi - sh.lo));
    }
  };

  for (size_t l = 0; l < m.layers().size(); ++l) {
    const LayerWeights& L = m.layers()[l];
    const int layer = static_cast<int>(l);
    // 1. q, k, v.
    RmsNorm(x, L.attn_norm, eps, e, s.xn.data());
    multiply({{&L.wq, q_.data(), 0}, {&L.wk, k_.data(), 0}, {&L.wv, v_.data(), 0}}, s.xn.data());
    wait(true);
    // 2. This thread's KV heads and the query heads that read them.
    for (int64_t kh = n_kv * t / T; kh < n_kv * (t + 1) / T; ++kh) {  // KV heads split evenly
      float* q = q_.data() + kh * group * hd;
      float* k = k_.data() + kh * hd;
      float* v = v_.data() + kh * hd;
      if (L.bq != nullptr) {
        for (int i = 0; i < group * hd; ++i) q[i] += L.bq[kh * group * hd + i];
        for (int i = 0; i < hd; ++i) k[i] += L.bk[kh * hd + i], v[i] += L.bv[kh * hd + i];
      }
      Rope(q, group, hd, rope_dims, neox, cs);
      Rope(k, 1, hd, rope_dims, neox, cs);
      StoreKv(k, hd, kv.type(), kv.k(layer, row.pos) + kh * hd * kv_elem);
      StoreKv(v, hd, kv.type(), kv.v(layer, row.pos) + kh * hd * kv_elem);
      s.scores.resize(static_cast<size_t>(row.pos + 1) * group);
      kernels::AttnArgs a;
      a.q = q;
      a.k = kv.k(layer, 0);
      a.v = kv.v(layer, 0);
      a.row_bytes = kv.row_bytes();
      a.head_offset = static_cast<int>(kh) * hd;
      a.head_dim = hd;
      a.n_pos = row.pos + 1;
      a.f16 = kv.type() == KvType::kF16;
      a.scale = scale;
      a.scores = s.scores.data();
      a.out = att_.data() + kh * group * hd;
      a.n_q = group;
      kernels::AttendHead(a, isa_);
    }
    wait(false);
    // 3. o, into x.
    kernels::QuantizeActivations(L.wo.type, att_.data(), q_dim, s.xq[0].data(), isa_);
    multiply_add(L.wo, s.xq[0].data());
    wait(true);
    // 4. gate, up, SwiGLU and down's input, for this thread's part of n_ff.
    RmsNorm(x, L.ffn_norm, eps, e, s.xn.data());
    {
      const Matrix* gu[2] = {&L.w_gate, &L.w_up};
      float* out[2] = {gate_.data(), up_.data()};
      const int64_t blk = std::max<int64_t>(kernels::ActivationBlock(L.w_down.type), 16);
      const int64_t n_blk = (ff + blk - 1) / blk;
      const Share part(n_blk, cum, t);
      const int64_t lo = std::min<int64_t>(part.lo * blk, ff),
                    hi = std::min<int64_t>(part.hi * blk, ff);
      for (int i = 0; i < 2; ++i) {
        const Matrix& w = *gu[i];
        uint8_t* xq = s.xq[i].data();
        if (i == 1 && w.type == gu[0]->type) {
          xq = s.xq[0].data();
        } else {
          kernels::QuantizeActivations(w.type, s.xn.data(), w.n_in, xq, isa_);
        }
        if (lo < hi) {
          const kernels::MatmulArgs a{
              w.type, w.data, w.row_bytes, w.n_in, xq, kernels::ActivationRowBytes(w.type, w.n_in),
              1,      out[i], w.n_out,     lo,     hi};
          kernels::Matmul(a, isa_);
        }
      }
      if (lo < hi) {
        kernels::SwiGlu(gate_.data() + lo, up_.data() + lo, hi - lo, isa_);
        kernels::QuantizeActivationRange(L.w_down.type, gate_.data(), ff, lo, hi, xq_.data(), isa_);
      }
    }
    wait(true);
    // 5. down, into x.
    multiply_add(L.w_down, xq_.data());
    wait(true);
  }
  if (row.logits) {
    RmsNorm(x, m.output_norm(), eps, e, s.xn.data());
    multiply({{&m.output(), logits, 0}}, s.xn.data());
    busy += Now() - start;
  }
  step_busy_[t] = busy;
}

}  // namespace hearth
