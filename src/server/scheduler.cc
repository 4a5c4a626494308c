#include "server/scheduler.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "base/sysinfo.h"
#include "runtime/stop_matcher.h"
#include "sampling/sampler.h"

namespace hearth::server {
namespace {

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

// ---- GenStream ----

GenStream::Chunk GenStream::Take(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return !pending_.empty() || done_; });
  Chunk c;
  c.text.swap(pending_);
  c.done = done_;
  if (done_) c.result = result_;
  return c;
}

void GenStream::Cancel(runtime::StopReason reason) {
  cancel_reason_.store(static_cast<int>(reason));
  cancel_.store(true);
}

runtime::StopReason GenStream::cancel_reason() const {
  return static_cast<runtime::StopReason>(cancel_reason_.load());
}

void GenStream::Append(std::string_view text) {
  if (text.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.append(text);
  }
  cv_.notify_all();
}

void GenStream::Finish(GenResult result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    done_ = true;
    result_ = std::move(result);
  }
  cv_.notify_all();
}

// ---- Scheduler ----

struct Scheduler::Slot {
  explicit Slot(KvCache cache) : kv(std::move(cache)) {}
  KvCache kv;
  bool busy = false;
  uint64_t order = 0;  // admission order: older sequences get prefill budget first
  Pending p;
  std::optional<sampling::Sampler> sampler;
  sampling::Rng rng{0};
  std::optional<runtime::StopMatcher> stops;
  std::unique_ptr<tok::StreamingDetokenizer> detok;
  std::vector<int32_t> history;  // what the penalties see: prompt + sampled ids
  size_t prefilled = 0;          // prompt tokens fed
  int pos = 0;                   // next position
  int32_t next = -1;             // sampled, to be fed next step (-1: none)
  Clock::time_point started, first_token, last_token;
  GenResult result;
};

Scheduler::Scheduler(std::shared_ptr<const Model> model,
                     std::shared_ptr<const tok::Tokenizer> tokenizer,
                     const SchedulerOptions& options)
    : options_(options),
      tokenizer_(std::move(tokenizer)),
      fwd_(std::move(model), options.n_batch, options.n_threads) {
  fwd_.SetPrefetchBytes(options.prefetch_bytes);
}

Result<std::unique_ptr<Scheduler>> Scheduler::Create(
    std::shared_ptr<const Model> model, std::shared_ptr<const tok::Tokenizer> tokenizer,
    const SchedulerOptions& options) {
  SchedulerOptions o = options;
  if (o.parallel < 1 || o.parallel > 256)
    return InvalidArgumentError("parallel must be in [1, 256]", "cli.out_of_range");
  o.n_batch = std::max(o.n_batch, o.parallel);
  o.prefill_chunk = std::clamp(o.prefill_chunk, 1, o.n_batch);
  // All slots' KV up front, checked as a whole before any of it is allocated.
  const uint64_t kv_total =
      KvCache::BytesFor(model->hparams(), o.n_ctx, o.kv_type) * static_cast<uint64_t>(o.parallel);
  if (auto mem = GetMemoryInfo(); mem.ok() && kv_total > mem->EffectiveAvailableBytes())
    return ResourceExhaustedError(
        StrFormat("%d sequences x %d positions need %s of KV cache (%s), but only %s of memory "
                  "is available; lower --parallel or --ctx",
                  o.parallel, o.n_ctx, HumanBytes(kv_total).c_str(), KvTypeName(o.kv_type),
                  HumanBytes(mem->EffectiveAvailableBytes()).c_str()),
        "oom_kv_cache");
  auto s = std::unique_ptr<Scheduler>(new Scheduler(model, std::move(tokenizer), o));
  for (int i = 0; i < o.parallel; ++i) {
    // All KV up front: a server that starts can serve `parallel` full contexts.
    HEARTH_ASSIGN_OR_RETURN(KvCache kv, KvCache::Create(model->hparams(), o.n_ctx, o.kv_type));
    s->slots_.push_back(std::make_unique<Slot>(std::move(kv)));
  }
  s->logits_.resize(static_cast<size_t>(o.n_batch) * model->hparams().n_vocab);
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

Scheduler::~Scheduler() {
  Shutdown();
}

Result<std::shared_ptr<GenStream>> Scheduler::Submit(GenRequest request) {
  if (request.prompt.empty())
    return InvalidArgumentError("the prompt has no tokens", "invalid_parameter");
  if (static_cast<int64_t>(request.prompt.size()) + 1 > options_.n_ctx)
    return OutOfRangeError(StrFormat("the prompt has %zu tokens; the context holds %d",
                                     request.prompt.size(), options_.n_ctx),
                           "prompt_too_long");
  auto stream = std::make_shared<GenStream>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return UnavailableError("the server is shutting down", "shutting_down");
    // queue_max requests may wait beyond the free slots.
    const int free_slots = std::max(0, options_.parallel - active_.load());
    if (static_cast<int>(queue_.size()) >= options_.queue_max + free_slots)
      return UnavailableError(
          StrFormat("%zu requests are already waiting; try again shortly", queue_.size()),
          "overloaded");
    queue_.push_back({std::move(request), stream, Clock::now()});
  }
  cv_.notify_all();
  return stream;
}

SchedulerStats Scheduler::Stats() const {
  SchedulerStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queued = static_cast<int>(queue_.size());
  }
  s.active = active_.load();
  s.slots = options_.parallel;
  s.kv_bytes_in_use = kv_in_use_.load();
  for (const auto& slot : slots_) s.kv_bytes_total += slot->kv.bytes();
  s.steps = steps_.load();
  s.tokens_generated = tokens_.load();
  s.cancelled = cancelled_.load();
  s.prefetch_bytes = prefetch_bytes_.load(std::memory_order_relaxed);
  return s;
}

void Scheduler::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::FinishSlot(Slot& s, runtime::StopReason reason, Status error) {
  const Clock::time_point now = Clock::now();
  GenResult& r = s.result;
  if (!s.stops->stopped() && reason != runtime::StopReason::kError) {
    // What the detokenizer and the stop matcher still hold is real output.
    runtime::StopMatcher::Step last = s.stops->Push(s.detok->Flush());
    s.p.stream->Append(last.text);
    if (last.stopped) {
      reason = runtime::StopReason::kStopSequence;
    } else {
      s.p.stream->Append(s.stops->Flush());
    }
  }
  r.reason = reason;
  r.error = std::move(error);
  if (!r.error.ok()) r.error_code = "generation_failed";
  r.prompt_tokens = static_cast<int64_t>(s.p.request.prompt.size());
  r.total_ms = Ms(s.p.submitted, now);
  r.queued_ms = Ms(s.p.submitted, s.started);
  if (r.completion_tokens > 0) {
    r.ttft_ms = Ms(s.p.submitted, s.first_token);
    r.prefill_ms = Ms(s.started, s.first_token);
    r.decode_ms = Ms(s.first_token, s.last_token);
  }
  if (reason == runtime::StopReason::kCancelled || reason == runtime::StopReason::kTimeout)
    cancelled_.fetch_add(1);
  // Free the slot (and its gauges) before the client learns the request ended,
  // so whoever reads the metrics after a response sees the slot free.
  std::shared_ptr<GenStream> stream = std::move(s.p.stream);
  s.busy = false;
  s.p = Pending{};
  s.sampler.reset();
  s.stops.reset();
  s.detok.reset();
  active_.fetch_sub(1);
  UpdateKvInUse();
  stream->Finish(r);
}

void Scheduler::Admit(Clock::time_point now) {
  std::vector<Pending> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Requests that gave up or waited too long leave the queue.
    for (auto it = queue_.begin(); it != queue_.end();) {
      const bool waited_too_long =
          now - it->submitted > std::chrono::milliseconds(options_.queue_timeout_ms);
      if (it->stream->cancel_requested() || waited_too_long || now > it->request.deadline) {
        expired.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Pending& p : expired) {
    GenResult r;
    r.prompt_tokens = static_cast<int64_t>(p.request.prompt.size());
    r.total_ms = r.queued_ms = Ms(p.submitted, now);
    if (p.stream->cancel_requested()) {
      r.reason = p.stream->cancel_reason();
    } else if (now > p.request.deadline) {
      r.reason = runtime::StopReason::kTimeout;
      r.error = DeadlineExceededError("the request deadline passed while it was queued");
      r.error_code = "timeout";
    } else {
      r.reason = runtime::StopReason::kError;
      r.error = UnavailableError("no slot became free within the queue timeout", "overloaded");
      r.error_code = "overloaded";
    }
    cancelled_.fetch_add(1);
    p.stream->Finish(std::move(r));
  }
  for (auto& slot : slots_) {
    if (slot->busy) continue;
    Pending p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return;
      p = std::move(queue_.front());
      queue_.pop_front();
    }
    Slot& s = *slot;
    s.p = std::move(p);
    s.busy = true;
    s.order = next_order_++;
    s.started = Clock::now();
    s.prefilled = 0;
    s.pos = 0;
    s.next = -1;
    s.result = GenResult{};
    s.history = s.p.request.prompt;
    active_.fetch_add(1);
    Result<sampling::Sampler> sampler =
        sampling::Sampler::Create(s.p.request.sampling, tokenizer_->n_vocab());
    Result<runtime::StopMatcher> stops = runtime::StopMatcher::Create(s.p.request.stops);
    s.rng.Seed(s.p.request.sampling.seed);
    tok::DecodeOptions d;
    d.strip_leading_space = false;  // only generated ids are decoded: a leading space is real
    s.detok = std::make_unique<tok::StreamingDetokenizer>(*tokenizer_, d);
    if (!sampler.ok() || !stops.ok()) {
      s.stops.emplace(*runtime::StopMatcher::Create({}));
      FinishSlot(s, runtime::StopReason::kError, sampler.ok() ? stops.status() : sampler.status());
      continue;
    }
    s.sampler.emplace(std::move(sampler).value());
    s.stops.emplace(std::move(stops).value());
  }
}

bool Scheduler::Step() {
  const Clock::time_point now = Clock::now();
  // Cancellation and deadlines take effect before the next forward pass.
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (!s.busy) continue;
    if (s.p.stream->cancel_requested()) {
      FinishSlot(s, s.p.stream->cancel_reason());
    } else if (now > s.p.request.deadline) {
      FinishSlot(s, runtime::StopReason::kTimeout);
    }
  }
  // Decode rows first (one per generating sequence), then prefill chunks,
  // oldest sequence first, within the batch.
  std::vector<Slot*> order;
  for (auto& slot : slots_)
    if (slot->busy) order.push_back(slot.get());
  if (order.empty()) return false;
  std::sort(order.begin(), order.end(), [](Slot* a, Slot* b) { return a->order < b->order; });
  std::vector<BatchRow> rows;
  std::vector<Slot*> want;                   // slots whose logits come back, in row order
  std::vector<size_t> fed(order.size(), 0);  // rows fed per slot this step
  for (size_t i = 0; i < order.size(); ++i) {
    Slot* s = order[i];
    if (s->next >= 0) {
      rows.push_back({&s->kv, s->pos, s->next, true});
      want.push_back(s);
      fed[i] = 1;
    }
  }
  int budget = options_.n_batch - static_cast<int>(rows.size());
  for (size_t i = 0; i < order.size() && budget > 0; ++i) {
    Slot* s = order[i];
    const auto& prompt = s->p.request.prompt;
    if (s->next >= 0 || s->prefilled >= prompt.size()) continue;
    const size_t n =
        std::min<size_t>({prompt.size() - s->prefilled, static_cast<size_t>(options_.prefill_chunk),
                          static_cast<size_t>(budget)});
    for (size_t j = 0; j < n; ++j) {
      const size_t k = s->prefilled + j;
      const bool last = k + 1 == prompt.size();
      rows.push_back({&s->kv, static_cast<int>(k), prompt[k], last});
      if (last) want.push_back(s);
    }
    fed[i] = n;
    budget -= static_cast<int>(n);
  }
  if (rows.empty()) return false;
  Status st = fwd_.Run(rows, logits_.data());
  steps_.fetch_add(1);
  prefetch_bytes_.store(fwd_.prefetch_bytes(), std::memory_order_relaxed);
  for (size_t i = 0; i < order.size(); ++i) {
    Slot* s = order[i];
    if (fed[i] == 0) continue;
    if (s->next >= 0) {
      s->next = -1;
    } else {
      s->prefilled += fed[i];
    }
    s->pos += static_cast<int>(fed[i]);
  }
  if (!st.ok()) {
    for (Slot* s : order)
      if (s->busy) FinishSlot(*s, runtime::StopReason::kError, st);
    return true;
  }
  const size_t V = static_cast<size_t>(fwd_.model().hparams().n_vocab);
  const Clock::time_point t = Clock::now();
  for (size_t i = 0; i < want.size(); ++i) {
    Slot& s = *want[i];
    std::span<const float> logits(logits_.data() + i * V, V);
    Result<int32_t> next = s.sampler->Sample(logits, s.history, s.rng);
    if (!next.ok()) {
      FinishSlot(s, runtime::StopReason::kError, next.status());
      continue;
    }
    if (s.result.completion_tokens == 0) s.first_token = t;
    s.last_token = t;
    s.history.push_back(*next);
    if (tokenizer_->IsEog(*next) && !s.p.request.ignore_eos) {
      FinishSlot(s, runtime::StopReason::kEos);
      continue;
    }
    ++s.result.completion_tokens;
    tokens_.fetch_add(1);
    runtime::StopMatcher::Step step = s.stops->Push(s.detok->Push(*next));
    s.p.stream->Append(step.text);
    if (step.stopped) {
      FinishSlot(s, runtime::StopReason::kStopSequence);
    } else if (s.result.completion_tokens >= s.p.request.max_tokens) {
      FinishSlot(s, runtime::StopReason::kMaxTokens);
    } else if (s.pos >= options_.n_ctx) {
      FinishSlot(s, runtime::StopReason::kMaxTokens);  // the context is full
    } else {
      s.next = *next;
    }
  }
  UpdateKvInUse();
  return true;
}

void Scheduler::UpdateKvInUse() {
  uint64_t positions = 0;
  for (auto& slot : slots_)
    if (slot->busy) positions += static_cast<uint64_t>(slot->pos);
  const uint64_t per_position =
      slots_.empty() ? 0 : slots_[0]->kv.bytes() / static_cast<uint64_t>(options_.n_ctx);
  kv_in_use_.store(positions * per_position);
}

void Scheduler::Loop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    Admit(Clock::now());
    if (Step()) continue;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return stop_ || !queue_.empty(); });
  }
  // Shutdown: everything still queued or running ends as cancelled.
  for (auto& slot : slots_)
    if (slot->busy) FinishSlot(*slot, runtime::StopReason::kCancelled);
  std::lock_guard<std::mutex> lock(mu_);
  for (Pending& p : queue_) {
    GenResult r;
    r.reason = runtime::StopReason::kCancelled;
    r.error = UnavailableError("the server is shutting down", "shutting_down");
    r.error_code = "model_not_ready";
    p.stream->Finish(std::move(r));
  }
  queue_.clear();
}

}  // namespace hearth::server
