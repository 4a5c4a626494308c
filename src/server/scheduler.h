// The continuous-batching scheduler (DESIGN §6).
//
// One scheduler thread owns the engine. Up to `parallel` sequences are active,
// each in a slot with its own preallocated KV cache; every step is one
// Forward::Run over one decode row per generating sequence plus a chunk of
// some waiting prompt (prefill is split into chunks so a long prompt never
// stalls the others for more than one chunk). New requests join between
// steps; a finished, cancelled or timed-out sequence frees its slot at once.
// Requests wait in a bounded FIFO queue (Submit fails with "overloaded" when
// it is full; a request that waits longer than queue_timeout is finished with
// "overloaded" too).
//
// Each request talks to its connection thread through a GenStream: the
// scheduler appends text (never blocking — text a slow client has not taken
// yet is merged into its pending buffer, never dropped), the connection thread
// takes whatever is pending. Cancel() (client gone, stalled reader) stops the
// sequence within one step. A sequence's tokens do not depend on what else is
// in the batch: Forward is batch-invariant and each request has its own
// sampler and seeded Rng.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "runtime/stop_reason.h"
#include "sampling/sampling_params.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

using Clock = std::chrono::steady_clock;

struct GenRequest {
  std::string request_id;
  std::vector<int32_t> prompt;  // tokenized, special tokens included
  sampling::SamplingParams sampling;
  int64_t max_tokens = 128;
  std::vector<std::string> stops;
  bool ignore_eos = false;
  Clock::time_point deadline = Clock::time_point::max();
};

struct GenResult {
  runtime::StopReason reason = runtime::StopReason::kMaxTokens;
  Status error;            // set when reason == kError or the request never ran
  std::string error_code;  // API error code for `error` ("overloaded", "generation_failed", …)
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // Milliseconds since Submit.
  double queued_ms = 0;  // until a slot took it
  double ttft_ms = 0;    // until the first token was sampled
  double total_ms = 0;
  double prefill_ms = 0;  // slot start to first token
  double decode_ms = 0;   // first to last token
  // TPOT = decode_ms / (completion_tokens - 1), when completion_tokens > 1.
  double TpotMs() const { return completion_tokens > 1 ? decode_ms / (completion_tokens - 1) : 0; }
};

// The channel between the scheduler (producer) and one request's connection.
class GenStream {
 public:
  struct Chunk {
    std::string text;  // everything appended since the last Take (merged)
    bool done = false;
    GenResult result;  // valid when done
  };
  // Waits up to timeout_ms for text or the end; returns at once if either is there.
  Chunk Take(int timeout_ms);
  // Asks the scheduler to stop this request (it finishes with `reason`).
  void Cancel(runtime::StopReason reason);
  bool cancel_requested() const { return cancel_.load(); }
  runtime::StopReason cancel_reason() const;

  // Producer side.
  void Append(std::string_view text);
  void Finish(GenResult result);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool done_ = false;
  GenResult result_;
  std::atomic<bool> cancel_{false};
  std::atomic<int> cancel_reason_{static_cast<int>(runtime::StopReason::kCancelled)};
};

struct SchedulerOptions {
  int parallel = 1;  // slots (sequences decoding together)
  int n_ctx = 2048;  // context per slot
  KvType kv_type = KvType::kF16;
  int n_batch = 256;        // rows per step (decode rows + prefill chunk)
  int prefill_chunk = 128;  // most prompt tokens of one sequence per step
  int n_threads = 0;
  int64_t prefetch_bytes = 0;  // Forward::SetPrefetchBytes (0: tuned while decoding)
  int queue_max = 64;
  int queue_timeout_ms = 30000;
};

struct SchedulerStats {
  int active = 0;
  int queued = 0;
  int slots = 0;
  uint64_t kv_bytes_in_use = 0;  // KV of the active sequences' positions
  uint64_t kv_bytes_total = 0;
  uint64_t steps = 0;
  uint64_t tokens_generated = 0;
  uint64_t cancelled = 0;      // cancelled or timed out while queued or running
  int64_t prefetch_bytes = 0;  // weight prefetch distance of the decode steps (0: none ran yet)
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(std::shared_ptr<const Model> model,
                                                   std::shared_ptr<const tok::Tokenizer> tokenizer,
                                                   const SchedulerOptions& options);
  ~Scheduler();

  // Queues a request. Errors: "overloaded" (queue full), "prompt_too_long"
  // (prompt + 1 does not fit a slot's context), "shutting_down".
  Result<std::shared_ptr<GenStream>> Submit(GenRequest request);
  SchedulerStats Stats() const;
  // Finishes queued and running requests as cancelled and stops the thread.
  void Shutdown();

  const Model& model() const { return fwd_.model(); }
  const tok::Tokenizer& tokenizer() const { return *tokenizer_; }
  const SchedulerOptions& options() const { return options_; }

 private:
  struct Slot;
  struct Pending {
    GenRequest request;
    std::shared_ptr<GenStream> stream;
    Clock::time_point submitted;
  };
  Scheduler(std::shared_ptr<const Model> model, std::shared_ptr<const tok::Tokenizer> tokenizer,
            const SchedulerOptions& options);
  void Loop();
  void Admit(Clock::time_point now);
  bool Step();  // one forward pass; false when there was nothing to do
  void FinishSlot(Slot& slot, runtime::StopReason reason, Status error = {});
  void UpdateKvInUse();  // the kv_bytes_in_use gauge from the busy slots' positions

  SchedulerOptions options_;
  std::shared_ptr<const tok::Tokenizer> tokenizer_;
  Forward fwd_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<float> logits_;
  uint64_t next_order_ = 0;  // admission counter (scheduler thread only)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::atomic<uint64_t> steps_{0}, tokens_{0}, cancelled_{0};
  std::atomic<int64_t> prefetch_bytes_{0};  // the decode steps' distance after the last step
  std::atomic<int> active_{0};
  std::atomic<uint64_t> kv_in_use_{0};
  std::thread thread_;
};

}  // namespace hearth::server
