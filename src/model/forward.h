// The transformer forward pass over a batch of rows, each row one token of
// some sequence: its own KV cache and position. One Session feeds consecutive
// positions of one sequence; the server's scheduler feeds one row per active
// sequence (continuous batching), so the weights are read once per step for
// all of them.
//
// Every row's result is computed in an order that depends only on the tensor
// layout — never on the batch's size, composition or thread count — so a
// sequence gets bit-identical logits alone or in any batch (tests prove it).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/prefetch_tuner.h"
#include "base/speed_shares.h"
#include "base/spin_barrier.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace hearth {

struct BatchRow {
  KvCache* kv = nullptr;  // the row's sequence
  int pos = 0;            // position of `token` in that sequence
  int32_t token = 0;
  bool logits = false;  // produce this row's logits
};

class Forward {
 public:
  // `n_batch`: the most rows one Run() takes. n_threads 0: physical cores.
  Forward(std::shared_ptr<const Model> model, int n_batch, int n_threads);

  // Runs rows.size() <= n_batch() rows. Rows of one sequence must be in
  // increasing position order; a row attends to positions 0..pos of its cache
  // (earlier rows of the same batch included). Logits of the rows that ask for
  // them are written to `logits`, [n_vocab] floats each, in row order.
  // Errors: token outside the vocabulary, position outside the cache.
  Status Run(std::span<const BatchRow> rows, float* logits);

  int n_batch() const { return n_batch_; }
  const Model& model() const { return *model_; }
  kernels::Isa isa() const { return isa_; }
  int n_threads() const { return pool_->size(); }
  // How far ahead decode steps prefetch the weights: `bytes` > 0 fixes it (for
  // batches too), 0 (the default) lets a PrefetchTuner choose it for this
  // machine while decoding (batches then use the kernels' default). Results do
  // not depend on it, only the time. The distance is process-wide
  // (kernels::SetWeightPrefetchBytes): Forwards that step at the same time set
  // it in turn, which can only blur their tuners' timings.
  void SetPrefetchBytes(int64_t bytes) { fixed_prefetch_ = bytes > 0 ? bytes : 0; }
  // The distance decode steps use now (the tuner's current choice when tuned).
  int64_t prefetch_bytes() const {
    return fixed_prefetch_ > 0 ? fixed_prefetch_ : prefetch_tuner_.chosen();
  }

 private:
  // Y[t][:] = W X[t] for t < n and each product {W, Y, Y's row stride}; X rows
  // have `x_stride` floats. Matrices reading the same X (q/k/v, gate/up) run in
  // one pool job: their rows are split as one range, so the threads meet once
  // instead of once per matrix. Each output row is computed the same way
  // whatever the grouping.
  struct Product {
    const Matrix* w;
    float* y;
    int64_t y_stride;
  };
  void MatMuls(std::span<const Product> ps, const float* x, int64_t x_stride, int n);
  void Attention(int layer, std::span<const BatchRow> rows);
  // One row (a decode step) as a single pool job: the threads go through the
  // layers together, meeting at a barrier between phases, and the steps
  // between products run split or on every thread at once instead of on one
  // (decode_step.cc). Same bits as Run's batch path.
  void DecodeStep(const BatchRow& row, float* logits);
  void DecodeThread(int t, const BatchRow& row, float* logits, SpinBarrier& barrier);

  std::shared_ptr<const Model> model_;
  int n_batch_;
  kernels::Isa isa_;
  std::unique_ptr<ThreadPool> pool_;
  // Scratch, [n_batch][width] each.
  std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_, proj_;
  std::vector<uint8_t> xq_, xq2_;  // prepared activations (two formats for MatMuls)
  std::vector<float> rope_cs_;     // [n_batch][rope_dims]: each row's RopeAngles
  // A decode step's per-thread scratch: the normalized row and its prepared
  // forms (one per weight type of q/k/v), so each thread reads its own copy.
  struct StepScratch {
    std::vector<float> xn;
    std::vector<uint8_t> xq[3];
    std::vector<float> scores;  // attention, [pos + 1][group]
  };
  std::vector<StepScratch> step_;
  // Decode steps' row split: thread t takes the fraction [bound(t), bound(t+1))
  // of each product's rows; step_busy_[t] is its time on them in the last step.
  SpeedShares step_shares_;
  std::vector<double> step_busy_;
  int64_t fixed_prefetch_ = 0;
  PrefetchTuner prefetch_tuner_;  // times the decode steps that produce logits
};

// Default worker count: the machine's physical cores.
int DefaultThreadCount();

}  // namespace hearth
