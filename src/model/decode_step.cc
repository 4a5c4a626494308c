// One row through the model as a single pool job (Forward::DecodeStep).
//
// A decode step reads every weight once and does little else, so what costs
// is the time the memory bus stands idle: while one thread alone normalizes,
// rotates or applies SwiGLU between products, and while threads hand work to
// each other. Here every thread runs the whole step, and a layer has four
// phases, each ended by a barrier (thread t takes its share of each split):
//   1. RMSNorm of x and its prepared forms, on every thread into its own
//      scratch (no hand-over, no wait). Its share of the KV heads: their q
//      rows, a prefetch of their earlier K/V rows, their k and v rows, then
//      the q/k/v biases, RoPE, the K/V store, and the attention of the query
//      heads of those KV heads. (When the KV heads do not divide among the
//      threads, the q/k/v rows are split as one range and a barrier comes
//      before the attention.)
//   2. att prepared on every thread; its share of o's rows, added into x.
//   3. RMSNorm of x, prepared, on every thread; its share of the feed-forward
//      width, cut in whole blocks of down's input format: those gate and up
//      rows, SwiGLU on them, and that part of down's prepared input.
//   4. Its share of down's rows, added into x.
// The shares of rows follow each thread's measured speed over the previous
// steps (the KV heads are split evenly). Every value is computed by the same
// function from the same operands as in Run's batch path (layer_ops.h, the
// kernels' per-row and per-block contracts), so a row's bits depend neither on
// the path nor on the thread count.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/prefetch.h"
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

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void Forward::DecodeStep(const BatchRow& row, float* logits) {
  const int T = pool_->size();
  // The weight prefetch distance: fixed, or the tuner's, which times the
  // steps with logits (all alike; one without the output matrix would skew
  // its round).
  const bool tuned = fixed_prefetch_ == 0;
  kernels::SetWeightPrefetchBytes(tuned ? prefetch_tuner_.Next() : fixed_prefetch_);
  const double t0 = Now();
  SpinBarrier barrier(T);
  pool_->ParallelFor(
      T, [&](int64_t b, int64_t, int) { DecodeThread(static_cast<int>(b), row, logits, barrier); });
  if (tuned && row.logits) prefetch_tuner_.Report(Now() - t0);
  // A thread that is steadily slower would leave the others waiting at every
  // barrier: its share of the next steps' rows follows its measured speed.
  step_shares_.Update(step_busy_.data());
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
  StepScratch& s = step_[static_cast<size_t>(t)];

  float* x = x_.data();
  const double* cum = step_shares_.bounds();
  // Time spent on the phases split by rows (all but attention's), for the
  // shares of the next step.
  double busy = 0.0, start = Now();
  auto wait = [&](bool timed) {
    if (timed) busy += Now() - start;
    barrier.Wait();
    start = Now();
  };

  // Rows [lo, hi) of y = W in, `in` prepared for W's type.
  auto rows = [&](const Matrix& w, float* y, const uint8_t* in, int64_t lo, int64_t hi) {
    if (lo >= hi) return;
    const kernels::MatmulArgs a{
        w.type, w.data, w.row_bytes, w.n_in, in, kernels::ActivationRowBytes(w.type, w.n_in),
        1,      y,      w.n_out,     lo,     hi, w.layout};
    kernels::Matmul(a, isa_);
  };
  // Prepares `in` for each distinct weight type of `ws` (at most 3) in this
  // thread's scratch; slot[i] is ws[i]'s.
  auto prepare = [&](std::initializer_list<const Matrix*> ws, const float* in,
                     const uint8_t** slot) {
    const Matrix* fmt[3] = {nullptr, nullptr, nullptr};
    int i = 0;
    for (const Matrix* w : ws) {
      int f = 0;
      while (fmt[f] != nullptr && fmt[f]->type != w->type) ++f;
      if (fmt[f] == nullptr) {
        fmt[f] = w;
        kernels::QuantizeActivations(w->type, in, w->n_in, s.xq[f].data(), isa_);
      }
      slot[i++] = s.xq[f].data();
    }
  };
  // This thread's share of a single product's rows on a prepared input, then
  // those rows added into x.
  auto multiply_add = [&](const Matrix& w, const uint8_t* in) {
    const Share sh(w.n_out, cum, t);
    rows(w, proj_.data(), in, sh.lo, sh.hi);
    if (sh.lo < sh.hi) AddInto(x + sh.lo, proj_.data() + sh.lo, static_cast<int>(sh.hi - sh.lo));
  };
  // Loads the K/V of earlier positions of KV heads [h0, h1) into L1 ahead of
  // their attention: each head's first positions (the attention's first reads,
  // contiguous), at most kKvPrefetchBytes in all, as much as measured (tg128 on
  // TinyLlama with two threads); the rest is left to the hardware.
  constexpr size_t kKvPrefetchBytes = size_t{64} << 10;
  auto prefetch_kv = [&](int layer, int64_t h0, int64_t h1) {
    if (h1 <= h0) return;
    const size_t per_head = std::min<size_t>(static_cast<size_t>(row.pos) * kv.head_bytes(),
                                             kKvPrefetchBytes / (2 * static_cast<size_t>(h1 - h0)));
    for (int64_t kh = h0; kh < h1; ++kh) {
      const uint8_t* kr = kv.k(layer, static_cast<int>(kh), 0);
      const uint8_t* vr = kv.v(layer, static_cast<int>(kh), 0);
      for (size_t b = 0; b < per_head; b += 64) {
        PrefetchL1(kr + b);
        PrefetchL1(vr + b);
      }
    }
  };
  // KV head kh: biases, RoPE, the K/V store, and its query heads' attention.
  auto attend = [&](int layer, const LayerWeights& L, int64_t kh) {
    float* q = q_.data() + kh * group * hd;
    float* k = k_.data() + kh * hd;
    float* v = v_.data() + kh * hd;
    if (L.bq != nullptr) {
      for (int i = 0; i < group * hd; ++i) q[i] += L.bq[kh * group * hd + i];
      for (int i = 0; i < hd; ++i) k[i] += L.bk[kh * hd + i], v[i] += L.bv[kh * hd + i];
    }
    Rope(q, group, hd, rope_dims, neox, cs);
    Rope(k, 1, hd, rope_dims, neox, cs);
    StoreKv(k, hd, kv.type(), kv.k(layer, static_cast<int>(kh), row.pos));
    StoreKv(v, hd, kv.type(), kv.v(layer, static_cast<int>(kh), row.pos));
    s.scores.resize(static_cast<size_t>(row.pos + 1) * group);
    kernels::AttnArgs a;
    a.q = q;
    a.k = kv.k(layer, static_cast<int>(kh), 0);
    a.v = kv.v(layer, static_cast<int>(kh), 0);
    a.row_bytes = kv.head_bytes();
    a.head_offset = 0;
    a.head_dim = hd;
    a.n_pos = row.pos + 1;
    a.f16 = kv.type() == KvType::kF16;
    a.scale = scale;
    a.scores = s.scores.data();
    a.out = att_.data() + kh * group * hd;
    a.n_q = group;
    kernels::AttendHead(a, isa_);
  };
  // KV heads split evenly; when they divide among the threads, each thread
  // computes the q/k/v rows of its own heads and goes on to their attention
  // without meeting the others in between.
  const int64_t h0 = n_kv * t / T, h1 = n_kv * (t + 1) / T;
  const bool by_heads = n_kv % T == 0;

  for (size_t l = 0; l < m.layers().size(); ++l) {
    const LayerWeights& L = m.layers()[l];
    const int layer = static_cast<int>(l);
    // 1-2. q, k, v; attention.
    RmsNorm(x, L.attn_norm, eps, e, s.xn.data());
    const uint8_t* in[3];
    prepare({&L.wq, &L.wk, &L.wv}, s.xn.data(), in);
    if (by_heads) {
      // q first: the K/V rows prefetched after it stay in cache through the
      // much smaller k and v products (prefetched before q's rows, most were
      // evicted again by the time the attention read them).
      rows(L.wq, q_.data(), in[0], h0 * group * hd, h1 * group * hd);
      prefetch_kv(layer, h0, h1);
      rows(L.wk, k_.data(), in[1], h0 * hd, h1 * hd);
      rows(L.wv, v_.data(), in[2], h0 * hd, h1 * hd);
    } else {
      // This thread's share of the three products' rows, one after another.
      const int64_t nq = L.wq.n_out, nk = L.wk.n_out;
      const Share sh(nq + 2 * nk, cum, t);
      auto part = [&](const Matrix& w, float* y, const uint8_t* x_in, int64_t off) {
        rows(w, y, x_in, std::max<int64_t>(sh.lo - off, 0), std::min(sh.hi - off, w.n_out));
      };
      part(L.wq, q_.data(), in[0], 0);
      part(L.wk, k_.data(), in[1], nq);
      part(L.wv, v_.data(), in[2], nq + nk);
      prefetch_kv(layer, h0, h1);
      wait(true);
    }
    for (int64_t kh = h0; kh < h1; ++kh) attend(layer, L, kh);
    wait(false);
    // 3. o, into x.
    kernels::QuantizeActivations(L.wo.type, att_.data(), q_dim, s.xq[0].data(), isa_);
    multiply_add(L.wo, s.xq[0].data());
    wait(true);
    // 4. gate, up, SwiGLU and down's input, for this thread's part of n_ff.
    RmsNorm(x, L.ffn_norm, eps, e, s.xn.data());
    {
      const int64_t blk = std::max<int64_t>(kernels::ActivationBlock(L.w_down.type), 16);
      const Share part((ff + blk - 1) / blk, cum, t);
      const int64_t lo = std::min<int64_t>(part.lo * blk, ff);
      const int64_t hi = std::min<int64_t>(part.hi * blk, ff);
      const uint8_t* gu_in[2];
      prepare({&L.w_gate, &L.w_up}, s.xn.data(), gu_in);
      rows(L.w_gate, gate_.data(), gu_in[0], lo, hi);
      rows(L.w_up, up_.data(), gu_in[1], lo, hi);
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
    const uint8_t* out_in[1];
    prepare({&m.output()}, s.xn.data(), out_in);
    const Share sh(m.output().n_out, cum, t);
    rows(m.output(), logits, out_in[0], sh.lo, sh.hi);
    busy += Now() - start;
  }
  step_busy_[t] = busy;
}

}  // namespace hearth
