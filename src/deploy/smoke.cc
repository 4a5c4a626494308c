#include "deploy/smoke.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/strings.h"
#include "model/model.h"
#include "model/session.h"
#include "model/vocab_gguf.h"

namespace hearth::deploy {
namespace {

Status CheckFinite(const std::vector<float>& logits, int step) {
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isfinite(logits[i]))
      return DataLossError(StrFormat("smoke test: logit %zu is %g at step %d (broken weights?)", i,
                                     static_cast<double>(logits[i]), step),
                           "smoke.non_finite");
  // Constant logits carry no information: broken weights can give all zeros
  // (a NaN scale quantizes to zero) without a single non-finite value.
  const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
  if (logits.empty() || *lo == *hi)
    return DataLossError(StrFormat("smoke test: every logit is %g at step %d (broken weights?)",
                                   logits.empty() ? 0.0 : static_cast<double>(*lo), step),
                         "smoke.flat_logits");
  return Status::Ok();
}

}  // namespace

Status RunSmokeTest(const std::string& bundle_dir, const Manifest& manifest,
                    const SmokeOptions& o) {
  const std::string path = bundle_dir + "/" + manifest.model_path;
  Result<std::shared_ptr<const Model>> model = Model::Load(path);
  if (!model.ok()) return model.status().WithContext("smoke test: loading the model");
  Result<std::unique_ptr<tok::Tokenizer>> tokenizer = LoadTokenizer((*model)->file());
  if (!tokenizer.ok()) return tokenizer.status().WithContext("smoke test: loading the tokenizer");
  std::vector<int32_t> ids = (*tokenizer)->Encode(o.prompt);
  if (ids.empty())
    return DataLossError("smoke test: the prompt encoded to no tokens", "smoke.tokenizer");
  SessionOptions so;
  so.n_ctx = static_cast<int>(ids.size()) + o.n_tokens + 1;
  so.n_threads = o.n_threads;
  Result<std::unique_ptr<Session>> session = Session::Create(*model, so);
  if (!session.ok()) return session.status().WithContext("smoke test: creating a session");
  std::vector<float> logits;
  HEARTH_RETURN_IF_ERROR((*session)->Eval(ids, false, &logits).WithContext("smoke test"));
  for (int step = 0; step < o.n_tokens; ++step) {
    HEARTH_RETURN_IF_ERROR(CheckFinite(logits, step));
    const int32_t next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (step + 1 == o.n_tokens) break;
    const int32_t one[1] = {next};
    HEARTH_RETURN_IF_ERROR((*session)->Eval(one, false, &logits).WithContext("smoke test"));
  }
  return Status::Ok();
}

}  // namespace hearth::deploy
