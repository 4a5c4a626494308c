#include "server/api_types.h"

#include <cmath>
#include <random>

#include "base/strings.h"

namespace hearth::server {
namespace {

using json::Value;

ApiError Invalid(std::string param, std::string message, std::string code = "invalid_parameter") {
  ApiError e;
  e.code = std::move(code);
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

// Reads optional numeric fields into a request; each returns an error text or "".
struct FieldReader {
  const Value& obj;
  std::optional<ApiError> error;

  const Value* Get(std::string_view key) {
    const Value* v = obj.Find(key);
    return v != nullptr && !v->is_null() ? v : nullptr;
  }
  void Number(std::string_view key, double lo, double hi, bool lo_open, float* out) {
    const Value* v = Get(key);
    if (v == nullptr || error) return;
    if (!v->is_number()) {
      error = Invalid(std::string(key), std::string(key) + " must be a number");
      return;
    }
    const double d = v->as_double();
    if (!std::isfinite(d) || d < lo || d > hi || (lo_open && d == lo)) {
      error = Invalid(std::string(key),
                      StrFormat("%s must be in %c%g, %g], got %g", std::string(key).c_str(),
                                lo_open ? '(' : '[', lo, hi, d));
      return;
    }
    *out = static_cast<float>(d);
  }
  void Int(std::string_view key, int64_t lo, int64_t hi, int64_t* out) {
    const Value* v = Get(key);
    if (v == nullptr || error) return;
    if (!v->is_integer()) {
      error = Invalid(std::string(key), std::string(key) + " must be an integer");
      return;
    }
    const int64_t i = v->as_int();
    if (i < lo || i > hi) {
      error = Invalid(std::string(key),
                      StrFormat("%s must be in [%lld, %lld], got %lld", std::string(key).c_str(),
                                static_cast<long long>(lo), static_cast<long long>(hi),
                                static_cast<long long>(i)));
      return;
    }
    *out = i;
  }
  void Bool(std::string_view key, bool* out) {
    const Value* v = Get(key);
    if (v == nullptr || error) return;
    if (!v->is_bool()) {
      error = Invalid(std::string(key), std::string(key) + " must be true or false");
      return;
    }
    *out = v->as_bool();
  }
};

// Sampling fields shared by every endpoint, from `obj` onto `r`.
void ReadSampling(FieldReader& f, const ApiLimits& limits, bool from_defaults, ApiRequest* r) {
  sampling::SamplingParams& s = r->sampling;
  f.Number("temperature", 0, sampling::kMaxTemperature, false, &s.temperature);
  f.Number("top_p", 0, 1, true, &s.top_p);
  f.Number("min_p", 0, 1, false, &s.min_p);
  f.Number("repetition_penalty", 0, sampling::kMaxRepetitionPenalty, true, &s.repetition_penalty);
  f.Number("repeat_penalty", 0, sampling::kMaxRepetitionPenalty, true, &s.repetition_penalty);
  f.Number("frequency_penalty", -sampling::kMaxAbsOpenAiPenalty, sampling::kMaxAbsOpenAiPenalty,
           false, &s.frequency_penalty);
  f.Number("presence_penalty", -sampling::kMaxAbsOpenAiPenalty, sampling::kMaxAbsOpenAiPenalty,
           false, &s.presence_penalty);
  int64_t top_k = s.top_k;
  f.Int("top_k", 0, 1 << 30, &top_k);
  s.top_k = static_cast<int32_t>(top_k);
  if (const Value* seed = f.Get("seed"); seed != nullptr && !f.error) {
    if (!seed->is_integer()) {
      f.error = Invalid("seed", "seed must be an integer");
    } else {
      s.seed = static_cast<uint64_t>(seed->as_int());
      r->seed_given = true;
    }
  }
  // max_tokens: above the server's limit is its own error code (DESIGN §6).
  for (const char* key : {"max_tokens", "max_completion_tokens", "max_new_tokens"}) {
    const Value* v = f.Get(key);
    if (v == nullptr || f.error) continue;
    if (!v->is_integer() || v->as_int() < 1) {
      f.error = Invalid(key, std::string(key) + " must be an integer >= 1");
    } else if (v->as_int() > limits.max_tokens_limit) {
      f.error = Invalid(key,
                        StrFormat("%s is %lld; this server allows at most %lld", key,
                                  static_cast<long long>(v->as_int()),
                                  static_cast<long long>(limits.max_tokens_limit)),
                        "max_tokens_too_large");
    } else {
      r->max_tokens = v->as_int();
      if (!from_defaults) r->max_tokens_given = true;
    }
  }
  if (const Value* stop = f.Get("stop"); stop != nullptr && !f.error) {
    std::vector<std::string> stops;
    if (stop->is_string()) {
      stops.push_back(stop->as_string());
    } else if (stop->is_array()) {
      for (const Value& s2 : stop->as_array()) {
        if (!s2.is_string()) {
          f.error = Invalid("stop", "stop must be a string or an array of strings");
          return;
        }
        stops.push_back(s2.as_string());
      }
    } else {
      f.error = Invalid("stop", "stop must be a string or an array of strings");
      return;
    }
    if (stops.size() > limits.max_stop_strings) {
      f.error = Invalid("stop", StrFormat("at most %zu stop strings", limits.max_stop_strings));
      return;
    }
    for (const std::string& s2 : stops) {
      if (s2.empty()) {
        f.error = Invalid("stop", "stop strings must not be empty");
        return;
      }
    }
    r->stops = std::move(stops);
  }
  if (from_defaults) return;
  if (const Value* bias = f.Get("logit_bias"); bias != nullptr && !f.error) {
    if (!bias->is_object()) {
      f.error = Invalid("logit_bias", "logit_bias must be an object of token id -> bias");
      return;
    }
    for (const auto& member : bias->as_object()) {
      int64_t id = 0;
      if (!ParseInt64(member.first, &id) || id < 0 || id > INT32_MAX ||
          !member.second.is_number()) {
        f.error = Invalid("logit_bias", "logit_bias keys are token ids and values numbers");
        return;
      }
      r->sampling.logit_bias.push_back(
          {static_cast<int32_t>(id), static_cast<float>(member.second.as_double())});
    }
  }
  f.Bool("stream", &r->stream);
  f.Bool("ignore_eos", &r->ignore_eos);
  if (const Value* t = f.Get("timeout"); t != nullptr && !f.error) {
    if (!t->is_number() || !(t->as_double() > 0) || t->as_double() > 86400) {
      f.error = Invalid("timeout", "timeout must be seconds in (0, 86400]");
    } else {
      r->timeout_s = t->as_double();
    }
  }
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

Value Json(std::string_view s) {
  return Value(std::string(s));
}

}  // namespace

std::string ErrorJson(const ApiError& e) {
  Value err = Value::Object{{"code", e.code},
                            {"message", e.message},
                            {"type", e.type},
                            {"param", e.param.empty() ? Value() : Value(e.param)}};
  if (!e.scope.empty()) err.Set("scope", e.scope);
  return json::Serialize(Value::Object{{"error", err}});
}

ApiError ApiErrorFromStatus(const Status& s) {
  ApiError e;
  e.message = s.message();
  const std::string& r = s.reason();
  if (r == "prompt_too_long" || r == "empty_messages" || r == "invalid_role" ||
      r == "max_tokens_too_large" || r == "invalid_parameter" || r == "invalid_token") {
    e.code = r == "invalid_token" ? "invalid_parameter" : r;
    e.status = 400;
    if (r == "invalid_parameter") {
      // Messages start with the parameter name ("top_p must be ...").
      const size_t space = e.message.find(' ');
      e.param = e.message.substr(0, space);
    }
  } else if (r == "overloaded") {
    e.code = "overloaded";
    e.status = 503;
    e.type = "server_error";
    e.retry_after_s = 1;
  } else if (r == "shutting_down" || r == "model_not_ready") {
    e.code = "model_not_ready";
    e.status = 503;
    e.type = "server_error";
    e.retry_after_s = 1;
  } else if (r == "oom_kv_cache") {
    e.code = "oom_kv_cache";
    e.status = 503;
    e.type = "server_error";
  } else if (s.code() == StatusCode::kDeadlineExceeded || r == "timeout") {
    e.code = "timeout";
    e.status = 504;
    e.type = "server_error";
  } else {
    e.code = "generation_failed";
    e.status = 500;
    e.type = "server_error";
  }
  return e;
}

std::variant<ApiRequest, ApiError> ParseApiRequest(Endpoint endpoint, std::string_view body,
                                                   const ApiLimits& limits,
                                                   const json::Value& defaults) {
  Result<Value> doc = json::Parse(body, {.max_depth = 64, .max_bytes = 64 << 20});
  if (!doc.ok())
    return Invalid("", "the body is not valid JSON: " + doc.status().message(), "invalid_json");
  if (!doc->is_object()) return Invalid("", "the body must be a JSON object", "invalid_json");
  ApiRequest r;
  r.endpoint = endpoint;
  r.max_tokens = limits.default_max_tokens;
  r.sampling.temperature = 1.0f;  // OpenAI's default
  r.sampling.penalty_last_n = 64;
  if (defaults.is_object()) {
    FieldReader d{defaults, std::nullopt};
    ReadSampling(d, limits, /*from_defaults=*/true, &r);
    if (d.error) return *d.error;  // (defaults were validated at pack time)
  }

  if (endpoint == Endpoint::kGenerate) {
    static constexpr std::string_view kKnown[] = {
        "prompt", "max_new_tokens",     "max_tokens",        "temperature",      "top_p", "top_k",
        "min_p",  "repetition_penalty", "frequency_penalty", "presence_penalty", "stop",  "seed",
        "stream", "ignore_eos",         "timeout",           "logit_bias"};
    for (const auto& member : doc->as_object()) {
      bool known = false;
      for (std::string_view k : kKnown) known = known || member.first == k;
      if (!known)
        return Invalid(member.first, "unknown field '" + member.first + "'", "unknown_field");
    }
  }
  FieldReader f{*doc, std::nullopt};
  ReadSampling(f, limits, /*from_defaults=*/false, &r);
  if (f.error) return *f.error;

  if (const Value* m = f.Get("model")) {
    if (!m->is_string()) return Invalid("model", "model must be a string");
    r.model = m->as_string();
  }
  if (const Value* n = f.Get("n"); n != nullptr && !(n->is_integer() && n->as_int() == 1))
    return Invalid("n", "only n = 1 is supported");

  if (endpoint == Endpoint::kChat) {
    const Value* messages = doc->Find("messages");
    if (messages == nullptr) return Invalid("messages", "messages is required", "empty_messages");
    if (!messages->is_array()) return Invalid("messages", "messages must be an array");
    if (messages->as_array().empty())
      return Invalid("messages", "messages must not be empty", "empty_messages");
    r.messages = *messages;
    if (const Value* so = f.Get("stream_options")) {
      if (!so->is_object()) return Invalid("stream_options", "stream_options must be an object");
      if (const Value* iu = so->Find("include_usage"); iu != nullptr && !iu->is_null()) {
        if (!iu->is_bool()) return Invalid("stream_options", "include_usage must be a boolean");
        r.include_usage = iu->as_bool();
      }
    }
  } else {
    const Value* p = doc->Find("prompt");
    if (p == nullptr || p->is_null()) return Invalid("prompt", "prompt is required");
    if (p->is_array() && endpoint == Endpoint::kCompletion && p->as_array().size() == 1 &&
        p->as_array()[0].is_string()) {
      r.prompt = p->as_array()[0].as_string();
    } else if (p->is_string()) {
      r.prompt = p->as_string();
    } else {
      return Invalid("prompt", endpoint == Endpoint::kCompletion
                                   ? "prompt must be a string (or an array of one string)"
                                   : "prompt must be a string");
    }
    if (r.prompt.empty()) return Invalid("prompt", "prompt must not be empty");
    if (r.prompt.size() > limits.max_prompt_bytes)
      return Invalid("prompt",
                     StrFormat("the prompt is %zu bytes; the limit is %zu", r.prompt.size(),
                               limits.max_prompt_bytes),
                     "prompt_too_long");
    if (endpoint == Endpoint::kCompletion) {
      if (const Value* echo = f.Get("echo");
          echo != nullptr && !(echo->is_bool() && !echo->as_bool()))
        return Invalid("echo", "echo is not supported");
      if (const Value* so = f.Get("stream_options"); so != nullptr && so->is_object())
        if (const Value* iu = so->Find("include_usage"); iu != nullptr && iu->is_bool())
          r.include_usage = iu->as_bool();
    }
  }
  if (Status s = sampling::ValidateSamplingParams(r.sampling); !s.ok()) {
    ApiError e = ApiErrorFromStatus(s);
    e.code = "invalid_parameter";
    e.status = 400;
    return e;
  }
  if (!r.seed_given) r.sampling.seed = RandomSeed();
  return r;
}

json::Value TimingsJson(const Usage& u, double queued_ms, double prefill_ms, double ttft_ms,
                        double decode_ms) {
  auto rate = [](int64_t n, double ms) {
    return ms > 0 ? static_cast<double>(n) / (ms / 1e3) : 0.0;
  };
  const int64_t decoded = u.completion_tokens > 1 ? u.completion_tokens - 1 : 0;
  return Value::Object{{"prompt_n", u.prompt_tokens},
                       {"prompt_ms", prefill_ms},
                       {"prompt_per_second", rate(u.prompt_tokens, prefill_ms)},
                       {"predicted_n", u.completion_tokens},
                       {"predicted_ms", decode_ms},
                       {"predicted_per_second", rate(decoded, decode_ms)},
                       {"queued_ms", queued_ms},
                       {"ttft_ms", ttft_ms}};
}

namespace {

Value UsageJson(const Usage& u) {
  return Value::Object{{"prompt_tokens", u.prompt_tokens},
                       {"completion_tokens", u.completion_tokens},
                       {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

Value::Object Head(const ResponseMeta& m, const char* object) {
  Value::Object o{{"id", m.id}, {"object", object}, {"created", m.created}, {"model", m.model}};
  if (!m.bundle.empty()) o.emplace_back("system_fingerprint", m.bundle);
  return o;
}

Value Finish(const runtime::StopReason* r) {
  return r == nullptr ? Value() : Json(runtime::OpenAiFinishReason(*r));
}

}  // namespace

std::string ChatCompletionJson(const ResponseMeta& m, std::string_view text,
                               runtime::StopReason reason, const Usage& u,
                               const json::Value& timings) {
  Value::Object o = Head(m, "chat.completion");
  Value choice =
      Value::Object{{"index", 0},
                    {"message", Value::Object{{"role", "assistant"}, {"content", Json(text)}}},
                    {"logprobs", Value()},
                    {"finish_reason", Finish(&reason)}};
  o.emplace_back("choices", Value::Array{choice});
  o.emplace_back("usage", UsageJson(u));
  o.emplace_back("timings", timings);
  return json::Serialize(Value(o));
}

std::string CompletionJson(const ResponseMeta& m, std::string_view text, runtime::StopReason reason,
                           const Usage& u, const json::Value& timings) {
  Value::Object o = Head(m, "text_completion");
  Value choice = Value::Object{{"index", 0},
                               {"text", Json(text)},
                               {"logprobs", Value()},
                               {"finish_reason", Finish(&reason)}};
  o.emplace_back("choices", Value::Array{choice});
  o.emplace_back("usage", UsageJson(u));
  o.emplace_back("timings", timings);
  return json::Serialize(Value(o));
}

std::string ChatChunkJson(const ResponseMeta& m, std::string_view role, std::string_view text,
                          const runtime::StopReason* finish) {
  Value::Object o = Head(m, "chat.completion.chunk");
  Value::Object delta;
  // The first chunk carries the role, text chunks the content, the last one
  // only finish_reason (an empty delta).
  if (!role.empty()) delta.emplace_back("role", Json(role));
  if (!role.empty() || finish == nullptr) delta.emplace_back("content", Json(text));
  Value choice = Value::Object{
      {"index", 0}, {"delta", delta}, {"logprobs", Value()}, {"finish_reason", Finish(finish)}};
  o.emplace_back("choices", Value::Array{choice});
  return json::Serialize(Value(o));
}

std::string CompletionChunkJson(const ResponseMeta& m, std::string_view text,
                                const runtime::StopReason* finish) {
  Value::Object o = Head(m, "text_completion");
  Value choice = Value::Object{
      {"index", 0}, {"text", Json(text)}, {"logprobs", Value()}, {"finish_reason", Finish(finish)}};
  o.emplace_back("choices", Value::Array{choice});
  return json::Serialize(Value(o));
}

std::string UsageChunkJson(const ResponseMeta& m, bool chat, const Usage& u,
                           const json::Value& timings) {
  Value::Object o = Head(m, chat ? "chat.completion.chunk" : "text_completion");
  o.emplace_back("choices", Value::Array{});
  o.emplace_back("usage", UsageJson(u));
  o.emplace_back("timings", timings);
  return json::Serialize(Value(o));
}

std::string GenerateJson(std::string_view model, std::string_view text, runtime::StopReason reason,
                         const Usage& u, double elapsed_ms) {
  return json::Serialize(Value::Object{{"text", Json(text)},
                                       {"stop_reason", Json(runtime::StopReasonName(reason))},
                                       {"tokens_generated", u.completion_tokens},
                                       {"prompt_tokens", u.prompt_tokens},
                                       {"elapsed_ms", elapsed_ms},
                                       {"model", Json(model)}});
}

std::string GenerateDeltaLine(std::string_view text) {
  return json::Serialize(Value::Object{{"delta", Json(text)}}) + "\n";
}

std::string GenerateFooterLines(std::string_view model, runtime::StopReason reason, const Usage& u,
                                double elapsed_ms) {
  return json::Serialize(Value::Object{{"stop_reason", Json(runtime::StopReasonName(reason))},
                                       {"tokens_generated", u.completion_tokens},
                                       {"prompt_tokens", u.prompt_tokens},
                                       {"elapsed_ms", elapsed_ms},
                                       {"model", Json(model)}}) +
         "\n" + json::Serialize(Value::Object{{"done", true}}) + "\n";
}

}  // namespace hearth::server
