// Pure conversions between HTTP bodies and the scheduler (DESIGN §6): request
// parsing and validation for /v1/chat/completions, /v1/completions and
// /generate, response and stream-chunk JSON, and the one error envelope
//   {"error":{"code":"…","message":"…","type":"…","param":…}}.
//
// Validation: out-of-range values are rejected (400 invalid_parameter, `param`
// names the field), never clamped; JSON has no NaN/Infinity, and numbers
// beyond a field's range are out of range. Unknown fields are rejected on
// /generate (unknown_field) but accepted and ignored on /v1 — the OpenAI SDKs
// send fields this server does not implement (docs/server.md lists them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "runtime/stop_reason.h"
#include "sampling/sampling_params.h"

namespace hearth::server {

struct ApiError {
  int status = 400;
  std::string code;  // stable: invalid_json, unknown_field, invalid_parameter, …
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;      // the offending field, or ""
  int retry_after_s = 0;  // 503 overloaded / 429: Retry-After
  std::string scope;      // 429 rate_limited: "client" or "global"
};

std::string ErrorJson(const ApiError& e);
// Maps a Status from the engine, scheduler or chat formatter (by its reason) to
// the API error: prompt_too_long, empty_messages, invalid_role,
// max_tokens_too_large, invalid_parameter → 400; overloaded, model_not_ready,
// oom_kv_cache → 503; timeout → 504; anything else → 500 generation_failed.
ApiError ApiErrorFromStatus(const Status& s);

enum class Endpoint { kChat, kCompletion, kGenerate };

struct ApiLimits {
  int64_t max_tokens_limit = 4096;  // largest max_tokens a request may ask for
  int64_t default_max_tokens = 256;
  size_t max_stop_strings = 16;
  size_t max_prompt_bytes = 1 << 20;
};

struct ApiRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::string model;     // as asked ("" = the served model)
  json::Value messages;  // chat: the array
  std::string prompt;    // completion, generate
  sampling::SamplingParams sampling;
  bool seed_given = false;
  int64_t max_tokens = 0;
  bool max_tokens_given = false;  // else max_tokens is the default, cut to the context
  std::vector<std::string> stops;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool ignore_eos = false;
  double timeout_s = 0;  // per-request deadline (0 = the server's default)
};

// `defaults`: a bundle's generation_defaults (temperature, top_p, …,
// max_tokens, stop, seed) applied where the request says nothing; may be null.
std::variant<ApiRequest, ApiError> ParseApiRequest(Endpoint endpoint, std::string_view body,
                                                   const ApiLimits& limits,
                                                   const json::Value& defaults);

struct ResponseMeta {
  std::string id;       // "chatcmpl-…" / "cmpl-…"
  int64_t created = 0;  // unix seconds
  std::string model;    // the model that served it
  std::string bundle;   // bundle id, "" when serving a plain GGUF
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// llama.cpp-style timings object: prompt_n, prompt_ms, prompt_per_second,
// predicted_n, predicted_ms, predicted_per_second, plus queued_ms and ttft_ms.
json::Value TimingsJson(const Usage& u, double queued_ms, double prefill_ms, double ttft_ms,
                        double decode_ms);

std::string ChatCompletionJson(const ResponseMeta& m, std::string_view text,
                               runtime::StopReason reason, const Usage& u,
                               const json::Value& timings);
std::string CompletionJson(const ResponseMeta& m, std::string_view text, runtime::StopReason reason,
                           const Usage& u, const json::Value& timings);
// One SSE event's JSON (without "data: "): a delta (role first, then text),
// the final chunk with finish_reason, or the usage chunk (empty choices).
std::string ChatChunkJson(const ResponseMeta& m, std::string_view role, std::string_view text,
                          const runtime::StopReason* finish);
std::string CompletionChunkJson(const ResponseMeta& m, std::string_view text,
                                const runtime::StopReason* finish);
std::string UsageChunkJson(const ResponseMeta& m, bool chat, const Usage& u,
                           const json::Value& timings);

// /generate (the book's shape): {"text","stop_reason","tokens_generated","prompt_tokens",
// "elapsed_ms","model"}; streaming: NDJSON {"delta":…} lines, a footer with stop_reason,
// tokens_generated, elapsed_ms, then {"done":true}.
std::string GenerateJson(std::string_view model, std::string_view text, runtime::StopReason reason,
                         const Usage& u, double elapsed_ms);
std::string GenerateDeltaLine(std::string_view text);
std::string GenerateFooterLines(std::string_view model, runtime::StopReason reason, const Usage& u,
                                double elapsed_ms);

}  // namespace hearth::server
