// Pure request/response conversion: defaults, validation, error mapping, and
// the exact JSON shapes clients parse.
#include "server/api_types.h"

#include <gtest/gtest.h>

namespace hearth::server {
namespace {

ApiRequest Ok(Endpoint e, const std::string& body, const json::Value& defaults = {}) {
  auto r = ParseApiRequest(e, body, ApiLimits{}, defaults);
  EXPECT_TRUE(std::holds_alternative<ApiRequest>(r))
      << body << " -> " << std::get<ApiError>(r).code << ": " << std::get<ApiError>(r).message;
  return std::holds_alternative<ApiRequest>(r) ? std::get<ApiRequest>(r) : ApiRequest{};
}

ApiError Bad(Endpoint e, const std::string& body) {
  auto r = ParseApiRequest(e, body, ApiLimits{}, json::Value());
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(ApiTypesTest, DefaultsThenBundleDefaultsThenRequest) {
  ApiRequest r = Ok(Endpoint::kCompletion, R"({"prompt":"hi"})");
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_EQ(r.max_tokens, 256);
  EXPECT_FALSE(r.max_tokens_given);
  EXPECT_FALSE(r.seed_given);
  json::Value defaults = *json::Parse(R"({"temperature":0.2,"max_tokens":50,"stop":["\n\n"]})");
  r = Ok(Endpoint::kCompletion, R"({"prompt":"hi"})", defaults);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.2f);
  EXPECT_EQ(r.max_tokens, 50);
  EXPECT_FALSE(r.max_tokens_given);
  ASSERT_EQ(r.stops.size(), 1u);
  r = Ok(Endpoint::kCompletion,
         R"({"prompt":"hi","temperature":0.9,"max_tokens":7,"seed":3,"stop":"X"})", defaults);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.9f);
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_TRUE(r.max_tokens_given);
  EXPECT_EQ(r.sampling.seed, 3u);
  EXPECT_EQ(r.stops, std::vector<std::string>{"X"});
  // /v1 ignores fields it does not implement (SDKs send them); /generate refuses them.
  r = Ok(Endpoint::kChat, R"({"messages":[{"role":"user","content":"x"}],"user":"u1","tools":[],
                              "response_format":{"type":"text"},"stream_options":{"include_usage":true}})");
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(Bad(Endpoint::kGenerate, R"({"prompt":"x","user":"u"})").code, "unknown_field");
  r = Ok(Endpoint::kGenerate, R"({"prompt":"x","max_new_tokens":9})");
  EXPECT_EQ(r.max_tokens, 9);
  r = Ok(Endpoint::kCompletion, R"({"prompt":["one prompt"]})");
  EXPECT_EQ(r.prompt, "one prompt");
}

TEST(ApiTypesTest, OutOfRangeIsRejectedNeverClamped) {
  struct Case {
    const char* body;
    const char* code;
    const char* param;
  } cases[] = {
      {R"({"prompt":"x","temperature":-0.1})", "invalid_parameter", "temperature"},
      {R"({"prompt":"x","temperature":2.01})", "invalid_parameter", "temperature"},
      {R"({"prompt":"x","top_p":0})", "invalid_parameter", "top_p"},
      {R"({"prompt":"x","top_p":1.5})", "invalid_parameter", "top_p"},
      {R"({"prompt":"x","top_k":-1})", "invalid_parameter", "top_k"},
      {R"({"prompt":"x","top_k":1.5})", "invalid_parameter", "top_k"},
      {R"({"prompt":"x","min_p":2})", "invalid_parameter", "min_p"},
      {R"({"prompt":"x","repetition_penalty":0})", "invalid_parameter", "repetition_penalty"},
      {R"({"prompt":"x","presence_penalty":3})", "invalid_parameter", "presence_penalty"},
      {R"({"prompt":"x","max_tokens":0})", "invalid_parameter", "max_tokens"},
      {R"({"prompt":"x","max_tokens":5000})", "max_tokens_too_large", "max_tokens"},
      {R"({"prompt":"x","seed":"7"})", "invalid_parameter", "seed"},
      {R"({"prompt":"x","stop":[1]})", "invalid_parameter", "stop"},
      {R"({"prompt":"x","stop":[""]})", "invalid_parameter", "stop"},
      {R"({"prompt":"x","logit_bias":{"a":1}})", "invalid_parameter", "logit_bias"},
      {R"({"prompt":"x","logit_bias":{"5":500}})", "invalid_parameter", "logit_bias[5]"},
      {R"({"prompt":"x","timeout":0})", "invalid_parameter", "timeout"},
      {R"({"prompt":""})", "invalid_parameter", "prompt"},
      {R"({"prompt":5})", "invalid_parameter", "prompt"},
      {R"({"prompt":"x","echo":true})", "invalid_parameter", "echo"},
  };
  for (const Case& c : cases) {
    ApiError e = Bad(Endpoint::kCompletion, c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.code, c.code) << c.body << ": " << e.message;
    EXPECT_EQ(e.param, c.param) << c.body;
  }
}

TEST(ApiTypesTest, StatusMapping) {
  struct Case {
    Status s;
    int status;
    const char* code;
  } cases[] = {
      {InvalidArgumentError("top_p must be ...", "invalid_parameter"), 400, "invalid_parameter"},
      {OutOfRangeError("too long", "prompt_too_long"), 400, "prompt_too_long"},
      {InvalidArgumentError("x", "empty_messages"), 400, "empty_messages"},
      {InvalidArgumentError("x", "invalid_role"), 400, "invalid_role"},
      {UnavailableError("busy", "overloaded"), 503, "overloaded"},
      {UnavailableError("bye", "shutting_down"), 503, "model_not_ready"},
      {ResourceExhaustedError("kv", "oom_kv_cache"), 503, "oom_kv_cache"},
      {DeadlineExceededError("late"), 504, "timeout"},
      {InternalError("boom"), 500, "generation_failed"},
      {DataLossError("bad weights"), 500, "generation_failed"},
  };
  for (const Case& c : cases) {
    ApiError e = ApiErrorFromStatus(c.s);
    EXPECT_EQ(e.status, c.status) << c.s.ToString();
    EXPECT_EQ(e.code, c.code) << c.s.ToString();
  }
  EXPECT_EQ(ApiErrorFromStatus(UnavailableError("busy", "overloaded")).retry_after_s, 1);
  ApiError limited;
  limited.status = 429;
  limited.code = "rate_limited";
  limited.message = "slow down";
  limited.scope = "client";
  EXPECT_EQ(
      ErrorJson(limited),
      R"({"error":{"code":"rate_limited","message":"slow down","type":"invalid_request_error","param":null,"scope":"client"}})");
}

TEST(ApiTypesTest, ResponseShapes) {
  ResponseMeta m{"chatcmpl-1", 1700000000, "tiny", "tiny-1.0.0"};
  Usage u{5, 3};
  json::Value t = TimingsJson(u, 1.0, 10.0, 11.0, 20.0);
  EXPECT_DOUBLE_EQ(t.Find("predicted_per_second")->as_double(), 100.0);  // 2 tokens in 20 ms
  json::Value c = *json::Parse(ChatCompletionJson(m, "hey", runtime::StopReason::kMaxTokens, u, t));
  EXPECT_EQ(c.Find("object")->as_string(), "chat.completion");
  EXPECT_EQ(c.Find("system_fingerprint")->as_string(), "tiny-1.0.0");
  const json::Value& choice = c.Find("choices")->as_array()[0];
  EXPECT_EQ(choice.Find("message")->Find("content")->as_string(), "hey");
  EXPECT_EQ(choice.Find("finish_reason")->as_string(), "length");
  EXPECT_EQ(c.Find("usage")->Find("total_tokens")->as_int(), 8);
  for (runtime::StopReason r : {runtime::StopReason::kEos, runtime::StopReason::kStopSequence})
    EXPECT_EQ(json::Parse(CompletionJson(m, "x", r, u, t))
                  ->Find("choices")
                  ->as_array()[0]
                  .Find("finish_reason")
                  ->as_string(),
              "stop");
  json::Value first = *json::Parse(ChatChunkJson(m, "assistant", "", nullptr));
  EXPECT_EQ(first.Find("choices")->as_array()[0].Find("delta")->Find("role")->as_string(),
            "assistant");
  const runtime::StopReason stop = runtime::StopReason::kEos;
  json::Value last = *json::Parse(ChatChunkJson(m, "", "", &stop));
  EXPECT_TRUE(last.Find("choices")->as_array()[0].Find("delta")->as_object().empty());
  EXPECT_EQ(GenerateDeltaLine("a\"b"), "{\"delta\":\"a\\\"b\"}\n");
  const std::string footer =
      GenerateFooterLines("tiny", runtime::StopReason::kStopSequence, u, 12.5);
  EXPECT_EQ(footer.substr(footer.size() - 14), "{\"done\":true}\n");
  EXPECT_NE(footer.find("\"stop_reason\":\"stop_sequence\""), std::string::npos);
}

}  // namespace
}  // namespace hearth::server
