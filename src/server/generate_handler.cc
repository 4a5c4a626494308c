// POST /v1/chat/completions, /v1/completions and /generate: parse, build the
// prompt, queue it on the scheduler, then answer whole or stream (SSE for the
// OpenAI routes, NDJSON for /generate) while watching for a client that went
// away or stopped reading.
#include <chrono>

#include "base/strings.h"
#include "server/server.h"
#include "server/server_metrics.h"
#include "server/support/json_log.h"

namespace hearth::server {
namespace {

using json::Value;
using runtime::StopReason;

double MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How often the connection thread looks at its client while waiting for text.
constexpr int kPollMs = 50;

}  // namespace

void Server::HandleGenerate(Endpoint endpoint, const HttpRequest& req, HttpResponder& out,
                            const std::string& request_id, json::Value* log) {
  const auto t0 = std::chrono::steady_clock::now();
  log->Set("event", "generation");
  std::shared_ptr<Engine> e = engine();
  if (!e || state() != ServerState::kReady) {
    ApiError err;
    err.status = 503;
    err.code = "model_not_ready";
    err.type = "server_error";
    err.message = "the model is not ready (state: " + std::string(ServerStateName(state())) +
                  "); see GET /ready";
    err.retry_after_s = 1;
    SendError(out, err, request_id, log);
    return;
  }
  log->Set("model", e->id);
  if (!e->bundle_id.empty()) log->Set("bundle_id", e->bundle_id);
  log->Set("backend", e->backend);

  std::variant<ApiRequest, ApiError> parsed =
      ParseApiRequest(endpoint, req.body, limits_, e->defaults);
  if (const ApiError* err = std::get_if<ApiError>(&parsed)) {
    SendError(out, *err, request_id, log);
    return;
  }
  ApiRequest& r = std::get<ApiRequest>(parsed);
  if (!r.model.empty() && r.model != e->id && r.model != e->bundle_id) {
    ApiError err;
    err.status = 404;
    err.code = "model_not_found";
    err.param = "model";
    err.message =
        "model '" + r.model + "' is not served here; GET /v1/models lists '" + e->id + "'";
    SendError(out, err, request_id, log);
    return;
  }

  // logit_bias ids are checked against this model's vocabulary.
  if (Status v = sampling::ValidateSamplingParams(r.sampling, e->tokenizer->n_vocab()); !v.ok()) {
    ApiError err = ApiErrorFromStatus(v);
    err.param = "logit_bias";
    SendError(out, err, request_id, log);
    return;
  }
  // The prompt.
  const int n_ctx = e->scheduler->options().n_ctx;
  std::vector<int32_t> ids;
  std::string prompt_text;
  if (endpoint == Endpoint::kChat) {
    runtime::ChatPromptOptions po;
    po.n_ctx = n_ctx;
    po.max_tokens = r.max_tokens_given ? static_cast<int>(r.max_tokens) : 1;
    Result<runtime::ChatPrompt> p = e->formatter->Build(r.messages, *e->tokenizer, po);
    if (!p.ok()) {
      ApiError err = ApiErrorFromStatus(p.status());
      if (err.status == 500) {  // a template that cannot render these messages
        err = ApiError{};
        err.code = "invalid_parameter";
        err.message = p.status().message();
        err.param = "messages";
      }
      SendError(out, err, request_id, log);
      return;
    }
    ids = std::move(p->ids);
    prompt_text = std::move(p->text);
  } else {
    ids = e->tokenizer->Encode(r.prompt);
    prompt_text = r.prompt;
    if (static_cast<int64_t>(ids.size()) + (r.max_tokens_given ? r.max_tokens : 1) > n_ctx) {
      ApiError err;
      err.code = "prompt_too_long";
      err.param = "prompt";
      err.message =
          StrFormat("the prompt has %zu tokens and max_tokens is %lld; the context holds %d",
                    ids.size(), static_cast<long long>(r.max_tokens), n_ctx);
      SendError(out, err, request_id, log);
      return;
    }
  }
  // Without an explicit max_tokens, generation may run to the end of the context.
  if (!r.max_tokens_given)
    r.max_tokens = std::min<int64_t>(r.max_tokens, n_ctx - static_cast<int64_t>(ids.size()));
  const double tokenize_ms = MsSince(t0);
  log->Set("params", Value::Object{{"temperature", r.sampling.temperature},
                                   {"top_p", r.sampling.top_p},
                                   {"top_k", r.sampling.top_k},
                                   {"max_tokens", r.max_tokens},
                                   {"seed", r.sampling.seed},
                                   {"stop_count", r.stops.size()},
                                   {"stream", r.stream}});

  GenRequest g;
  g.request_id = request_id;
  g.prompt = std::move(ids);
  g.sampling = r.sampling;
  g.max_tokens = r.max_tokens;
  g.stops = r.stops;
  g.ignore_eos = r.ignore_eos;
  const double timeout_s = r.timeout_s > 0 ? std::min(r.timeout_s, options_.request_timeout_s)
                                           : options_.request_timeout_s;
  g.deadline = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  Result<std::shared_ptr<GenStream>> submitted = e->scheduler->Submit(std::move(g));
  if (!submitted.ok()) {
    SendError(out, ApiErrorFromStatus(submitted.status()), request_id, log);
    return;
  }
  std::shared_ptr<GenStream> stream = *submitted;

  ResponseMeta meta;
  meta.id = (endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-") + request_id;
  meta.created = NowUnix();
  meta.model = e->id;
  meta.bundle = e->bundle_id;
  const bool chat = endpoint == Endpoint::kChat;
  HeaderList headers{{"X-Request-Id", request_id}, {"X-Hearth-Model", e->id}};
  if (!e->bundle_id.empty()) headers.emplace_back("X-Hearth-Bundle", e->bundle_id);

  std::string text;  // the whole output (for the response, hashes and previews)
  GenStream::Chunk c;
  bool client_lost = false;
  if (!r.stream) {
    // Whole response: wait, but stop the work if the client goes away.
    for (;;) {
      c = stream->Take(kPollMs);
      text += c.text;
      if (c.done) break;
      if (out.ClientGone()) {
        stream->Cancel(StopReason::kCancelled);
        client_lost = true;
      }
    }
  } else {
    const bool sse = endpoint != Endpoint::kGenerate;
    bool ok = out.StartStream(200, sse ? "text/event-stream" : "application/x-ndjson",
                              sse ? HeaderList{{"X-Request-Id", request_id},
                                               {"X-Hearth-Model", e->id},
                                               {"Cache-Control", "no-cache"}}
                                  : headers);
    // Stall detection: the client has taken nothing from the socket's queue for
    // stall_timeout_ms (writes may still fit the kernel buffers for a while).
    size_t stall_queue = 0;  // bytes consumed by the client at the last progress
    size_t written = 0;      // bytes handed to the socket
    auto stall_since = std::chrono::steady_clock::now();
    if (ok && chat)
      ok = out.WriteChunk("data: " + ChatChunkJson(meta, "assistant", "", nullptr) + "\n\n",
                          options_.stall_timeout_ms);
    for (;;) {
      c = stream->Take(kPollMs);
      // Everything appended while the last write was blocked arrives merged here.
      if (!c.text.empty() && ok) {
        text += c.text;
        const std::string piece =
            !sse   ? GenerateDeltaLine(c.text)
            : chat ? "data: " + ChatChunkJson(meta, "", c.text, nullptr) + "\n\n"
                   : "data: " + CompletionChunkJson(meta, c.text, nullptr) + "\n\n";
        ok = out.WriteChunk(piece, options_.stall_timeout_ms);
        if (ok) written += piece.size();
        if (!ok) {
          // Gone, or read nothing for the stall timeout: stop its generation.
          const bool gone = out.ClientGone();
          stream->Cancel(gone ? StopReason::kCancelled : StopReason::kTimeout);
          client_lost = true;
        }
      } else if (!c.text.empty()) {
        text += c.text;
      }
      if (c.done) break;
      if (ok && out.ClientGone()) {
        stream->Cancel(StopReason::kCancelled);
        client_lost = true;
        ok = false;
      }
      if (ok) {
        // Progress = bytes the client has taken: written minus still queued.
        const size_t queued = out.UnsentBytes();
        const size_t consumed = written > queued ? written - queued : 0;
        if (queued == 0 || consumed > stall_queue) {
          stall_since = std::chrono::steady_clock::now();  // the client is reading
          stall_queue = consumed;
        } else if (MsSince(stall_since) > options_.stall_timeout_ms) {
          stream->Cancel(StopReason::kTimeout);
          client_lost = true;
          ok = false;
        }
      }
    }
  }

  const GenResult& res = c.result;
  Usage u{res.prompt_tokens, res.completion_tokens};
  const Value timings = TimingsJson(u, res.queued_ms, res.prefill_ms, res.ttft_ms, res.decode_ms);
  // Log, metrics and latency statistics: one terminal record per request.
  log->Set("stop_reason", std::string(runtime::StopReasonName(res.reason)));
  log->Set("prompt_tokens", u.prompt_tokens);
  log->Set("completion_tokens", u.completion_tokens);
  // Prompt and output only as hashes (and opt-in scrubbed previews): book 13.4.
  AddTextFields(log_policy_, prompt_text, text, log);
  log->Set("timing", Value::Object{{"tokenize_ms", tokenize_ms},
                                   {"queued_ms", res.queued_ms},
                                   {"prefill_ms", res.prefill_ms},
                                   {"ttft_ms", res.ttft_ms},
                                   {"decode_ms", res.decode_ms},
                                   {"total_ms", MsSince(t0)}});
  metrics_->prompt_tokens->Inc(static_cast<uint64_t>(std::max<int64_t>(u.prompt_tokens, 0)));
  metrics_->tokens->Inc(static_cast<uint64_t>(std::max<int64_t>(u.completion_tokens, 0)));
  if (res.reason == StopReason::kCancelled || res.reason == StopReason::kTimeout)
    metrics_->cancelled->WithLabels({std::string(runtime::StopReasonName(res.reason))})->Inc();
  RequestTiming timing;
  timing.n_tokens = u.completion_tokens;
  timing.first_token_s = (tokenize_ms + res.ttft_ms) / 1e3;
  timing.last_token_s = (tokenize_ms + res.ttft_ms + res.decode_ms) / 1e3;
  timing.end_s = MsSince(t0) / 1e3;
  stats_->RecordRequest(timing);
  if (u.completion_tokens > 0) {
    metrics_->ttft->Observe(timing.first_token_s);
    metrics_->e2e->Observe(timing.end_s);
    if (u.completion_tokens > 1) metrics_->tpot->Observe(res.TpotMs() / 1e3);
  }

  if (!res.error.ok() && res.completion_tokens == 0 && !out.sent()) {
    ApiError err = ApiErrorFromStatus(res.error);
    if (!res.error_code.empty() && err.code == "generation_failed") err.code = res.error_code;
    if (res.error_code == "overloaded") {
      err.status = 503;
      err.retry_after_s = 1;
    }
    SendError(out, err, request_id, log);
    return;
  }
  if (client_lost || (r.stream && !out.sent())) {
    log->Set("status", r.stream ? 200 : 499);  // 499: client closed the request (nginx's code)
    log->Set("error_code", res.reason == StopReason::kTimeout ? "timeout" : "cancelled");
    if (!out.sent()) out.Send(499, "application/json", "{}");
    return;
  }
  if (!r.stream) {
    const std::string body =
        endpoint == Endpoint::kChat         ? ChatCompletionJson(meta, text, res.reason, u, timings)
        : endpoint == Endpoint::kCompletion ? CompletionJson(meta, text, res.reason, u, timings)
                                            : GenerateJson(e->id, text, res.reason, u, MsSince(t0));
    out.Send(200, "application/json", body, headers);
    log->Set("status", 200);
    return;
  }
  // The end of a stream.
  std::string tail;
  if (endpoint == Endpoint::kGenerate) {
    tail = GenerateFooterLines(e->id, res.reason, u, MsSince(t0));
  } else {
    if (!res.error.ok()) {
      tail += "data: " + ErrorJson(ApiErrorFromStatus(res.error)) + "\n\n";
    } else {
      tail += "data: " +
              (chat ? ChatChunkJson(meta, "", "", &res.reason)
                    : CompletionChunkJson(meta, "", &res.reason)) +
              "\n\n";
    }
    if (r.include_usage) tail += "data: " + UsageChunkJson(meta, chat, u, timings) + "\n\n";
    tail += "data: [DONE]\n\n";
  }
  if (out.WriteChunk(tail, options_.stall_timeout_ms)) out.End();
  log->Set("status", 200);
}

}  // namespace hearth::server
