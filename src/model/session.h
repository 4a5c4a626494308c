// The state of one sequence over a shared Model: KV cache, position, scratch
// buffers and the worker threads that run its forward passes.
//
// Eval() runs the transformer over a batch of tokens (split into micro-batches
// of at most n_batch). Every per-token result is computed in an order that
// depends only on the tensor layout, so logits are bit-identical whatever the
// thread count and whether tokens are fed one at a time or in one batch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace hearth {

struct SessionOptions {
  int n_ctx = 0;  // 0: min(model's n_ctx_train, 4096)
  KvType kv_type = KvType::kF16;
  int n_batch = 256;  // micro-batch for prefill
  int n_threads = 0;  // 0: physical cores
  // Weight prefetch distance of decode steps in bytes; 0: tuned while
  // decoding (Forward::SetPrefetchBytes).
  int64_t prefetch_bytes = 0;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& opts);

  // Feeds `tokens` at positions pos() .. pos()+n-1. Logits ([n_vocab] floats per
  // row) are written for every token when all_logits, else for the last one only.
  Status Eval(std::span<const int32_t> tokens, bool all_logits, std::vector<float>* logits);

  int pos() const { return pos_; }
  int n_ctx() const { return kv_.n_ctx(); }
  void Reset() { pos_ = 0; }
  // Forgets positions >= pos (their KV entries are overwritten by later Evals):
  // keeps a shared prefix when a new prompt extends or edits the previous one.
  void Truncate(int pos) { pos_ = pos < pos_ ? (pos < 0 ? 0 : pos) : pos_; }
  const Model& model() const { return fwd_.model(); }
  kernels::Isa isa() const { return fwd_.isa(); }
  int n_threads() const { return fwd_.n_threads(); }
  size_t kv_bytes() const { return kv_.bytes(); }
  // The weight prefetch distance decode steps use now.
  int64_t prefetch_bytes() const { return fwd_.prefetch_bytes(); }

 private:
  Session(std::shared_ptr<const Model> model, KvCache kv, const SessionOptions& opts);

  KvCache kv_;
  Forward fwd_;
  int pos_ = 0;
};

}  // namespace hearth
