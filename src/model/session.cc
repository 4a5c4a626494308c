#include "model/session.h"

#include <algorithm>

#include "base/strings.h"

namespace hearth {

Session::Session(std::shared_ptr<const Model> model, KvCache kv, const SessionOptions& opts)
    : kv_(std::move(kv)), fwd_(std::move(model), opts.n_batch, opts.n_threads) {
  fwd_.SetPrefetchBytes(opts.prefetch_bytes);
}

Result<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& opts) {
  const HParams& hp = model->hparams();
  SessionOptions o = opts;
  if (o.n_ctx <= 0) o.n_ctx = static_cast<int>(std::min<uint64_t>(hp.n_ctx_train, 4096));
  if (o.n_batch <= 0) o.n_batch = 256;
  HEARTH_ASSIGN_OR_RETURN(KvCache kv, KvCache::Create(hp, o.n_ctx, o.kv_type));
  return std::unique_ptr<Session>(new Session(std::move(model), std::move(kv), o));
}

Status Session::Eval(std::span<const int32_t> tokens, bool all_logits, std::vector<float>* logits) {
  const HParams& hp = fwd_.model().hparams();
  const int n = static_cast<int>(tokens.size());
  if (n == 0) return InvalidArgumentError("Eval of an empty batch");
  if (pos_ + n > kv_.n_ctx()) {
    return OutOfRangeError(
        StrFormat("%d tokens at position %d exceed the context of %d", n, pos_, kv_.n_ctx()),
        "prompt_too_long");
  }
  for (int32_t t : tokens) {
    if (t < 0 || static_cast<uint64_t>(t) >= hp.n_vocab) {
      return InvalidArgumentError(StrFormat("token id %d is outside the vocabulary (0..%llu)", t,
                                            (unsigned long long)hp.n_vocab - 1),
                                  "invalid_token");
    }
  }
  const size_t V = hp.n_vocab;
  logits->assign((all_logits ? static_cast<size_t>(n) : 1) * V, 0.0f);
  const int n_batch = fwd_.n_batch();
  std::vector<BatchRow> rows;
  for (int start = 0; start < n; start += n_batch) {
    const int len = std::min(n_batch, n - start);
    rows.clear();
    for (int t = 0; t < len; ++t) {
      const bool want = all_logits || start + t == n - 1;
      rows.push_back({&kv_, pos_ + t, tokens[static_cast<size_t>(start + t)], want});
    }
    float* out = all_logits ? logits->data() + static_cast<size_t>(start) * V : logits->data();
    HEARTH_RETURN_IF_ERROR(fwd_.Run(rows, out));
    pos_ += len;
  }
  return Status::Ok();
}

}  // namespace hearth
