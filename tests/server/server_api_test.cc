// The server's HTTP contract (DESIGN §6): one test per error code, auth in
// both modes, rate limits, log redaction, metrics and stats, lifecycle.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/mapped_file.h"
#include "server/support/auth.h"
#include "server_fixture.h"
#include "testing/test_paths.h"

namespace hearth::server::testing {
namespace {

namespace fs = std::filesystem;

class ServerApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::hearth::testing::TempDir());
    ServeOptions o = TestOptions(FastModel());
    o.ctx = 256;
    o.max_body_bytes = 64 << 10;
    o.max_tokens_limit = 200;
    o.log_dir = *dir_ + "/logs";
    server_ = StartServer(o).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static int port() { return server_->port(); }
  static HttpResult Post(const std::string& path, const std::string& body, const Headers& h = {}) {
    return Request(port(), "POST", path, body, h);
  }
  static Server* server_;
  static std::string* dir_;
};
Server* ServerApiTest::server_ = nullptr;
std::string* ServerApiTest::dir_ = nullptr;

TEST_F(ServerApiTest, ErrorCodes) {
  struct Case {
    const char* path;
    std::string body;
    int status;
    const char* code;
  };
  const std::string big(70 << 10, 'x');
  const Case cases[] = {
      {"/v1/chat/completions", "{not json", 400, "invalid_json"},
      {"/v1/chat/completions", "[1,2]", 400, "invalid_json"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"temperature":NaN})",
       400, "invalid_json"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"top_p":1e999})", 400,
       "invalid_json"},
      {"/generate", R"({"prompt":"x","bogus":1})", 400, "unknown_field"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"temperature":2.5})",
       400, "invalid_parameter"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"top_p":0})", 400,
       "invalid_parameter"},
      {"/v1/completions", R"({"prompt":"x","max_tokens":0})", 400, "invalid_parameter"},
      {"/v1/completions", R"({"prompt":"x","stream":"yes"})", 400, "invalid_parameter"},
      {"/v1/completions", R"({"prompt":"x","n":2})", 400, "invalid_parameter"},
      {"/v1/chat/completions", R"({"messages":[]})", 400, "empty_messages"},
      {"/v1/chat/completions", R"({"model":"x"})", 400, "empty_messages"},
      {"/v1/chat/completions", R"({"messages":[{"role":"robot","content":"x"}]})", 400,
       "invalid_role"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":201})",
       400, "max_tokens_too_large"},
      {"/v1/completions", "{\"prompt\":\"" + std::string(300, 'a') + " b c\",\"max_tokens\":100}",
       400, "prompt_too_long"},
      {"/v1/completions", "{\"prompt\":\"" + big + "\"}", 413, "payload_too_large"},
      {"/v1/chat/completions", R"({"model":"gpt-4","messages":[{"role":"user","content":"x"}]})",
       404, "model_not_found"},
      {"/v1/nothing", "{}", 404, "not_found"},
  };
  for (const Case& c : cases) {
    HttpResult r = Post(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body.substr(0, 120) << " -> " << r.body;
    EXPECT_EQ(ErrorCode(r), c.code) << c.body.substr(0, 120);
    // One envelope: error.{code,message,type,param}.
    json::Value v = ParseJson(r.body);
    const json::Value* e = v.Find("error");
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->Find("message") && e->Find("message")->is_string());
    EXPECT_TRUE(e->Find("type") && e->Find("type")->is_string());
    EXPECT_NE(e->Find("param"), nullptr);
  }
  // The offending parameter is named.
  HttpResult r = Post("/v1/chat/completions",
                      R"({"messages":[{"role":"user","content":"x"}],"temperature":2.5})");
  EXPECT_EQ(ParseJson(r.body).Find("error")->Find("param")->as_string(), "temperature");
  // Wrong method.
  r = Request(port(), "GET", "/v1/chat/completions");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
}

TEST_F(ServerApiTest, HealthReadyModelsMetricsStats) {
  HttpResult h = Request(port(), "GET", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(ParseJson(h.body).Find("ok")->as_bool());
  EXPECT_EQ(Request(port(), "GET", "/healthz").status, 200);
  HttpResult ready = Request(port(), "GET", "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ParseJson(ready.body).Find("model")->as_string(), "fast");
  HttpResult models = Request(port(), "GET", "/v1/models");
  EXPECT_EQ(ParseJson(models.body).Find("data")->as_array()[0].Find("id")->as_string(), "fast");
  // A few generations, then the numbers.
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(Post("/v1/completions", R"({"prompt":"hello","max_tokens":5})").status, 200);
  // Request counters are updated as each response completes: allow a moment.
  HttpResult m;
  for (int i = 0; i < 100; ++i) {
    m = Request(port(), "GET", "/metrics");
    if (MetricValue(m.body, R"(hearth_requests_total{route="/v1/completions",code="200"})") >= 3)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_GE(MetricValue(m.body, R"(hearth_requests_total{route="/v1/completions",code="200"})"), 3);
  EXPECT_GE(MetricValue(m.body, "hearth_ttft_seconds_count"), 3);
  EXPECT_GE(MetricValue(m.body, "hearth_tpot_seconds_count"), 3);
  EXPECT_GE(MetricValue(m.body, "hearth_generated_tokens_total"), 15);
  EXPECT_EQ(MetricValue(m.body, "hearth_active_sequences"), 0);
  EXPECT_EQ(MetricValue(m.body, "hearth_queued_requests"), 0);
  EXPECT_GT(MetricValue(m.body, "hearth_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(MetricValue(m.body, "hearth_kv_cache_bytes"), 0);
  EXPECT_EQ(MetricValue(m.body, R"(hearth_model_state{state="ready"})"), 1);
  EXPECT_GE(MetricValue(m.body, R"(hearth_request_errors_total{code="invalid_json"})"), 0);
  HttpResult s = Request(port(), "GET", "/v1/stats");
  json::Value stats = ParseJson(s.body);
  for (const char* series : {"ttft_s", "tpot_s", "e2e_s"}) {
    const json::Value* t = stats.Find(series);
    ASSERT_NE(t, nullptr) << s.body;
    for (const char* q : {"p50", "p90", "p95", "p99"}) EXPECT_NE(t->Find(q), nullptr) << series;
  }
}

TEST_F(ServerApiTest, LogsNeverHoldPromptOrOutput) {
  const std::string marker = "ZEBRA-7731 jane.doe@example.com";
  HttpResult r = Post("/v1/chat/completions",
                      ChatBody("Remember this: " + marker, 12, false, R"("temperature":0)"));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string output = ParseJson(r.body)
                                 .Find("choices")
                                 ->as_array()[0]
                                 .Find("message")
                                 ->Find("content")
                                 ->as_string();
  r = Post("/generate", "{\"prompt\":\"" + marker + "\",\"max_new_tokens\":8,\"stream\":true}");
  ASSERT_EQ(r.status, 200);
  r = Post("/v1/completions", "{\"prompt\":\"" + marker + "\",\"max_tokens\":999}");  // an error
  ASSERT_EQ(r.status, 400);
  std::string all;
  for (const auto& e : fs::directory_iterator(*dir_ + "/logs"))
    all += *ReadFileToString(e.path().string());
  ASSERT_NE(all.find("\"log_schema_version\":1"), std::string::npos) << all.substr(0, 300);
  EXPECT_EQ(all.find("ZEBRA"), std::string::npos);
  EXPECT_EQ(all.find("jane.doe"), std::string::npos);
  EXPECT_EQ(all.find("Remember this"), std::string::npos);
  if (output.size() >= 6) {
    EXPECT_EQ(all.find(output), std::string::npos) << output;
  }
  EXPECT_NE(all.find("prompt_hash"), std::string::npos);
  // Exactly one terminal record per request, each with its request id.
  std::istringstream in(all);
  std::map<std::string, int> per_request;
  for (std::string line; std::getline(in, line);) {
    json::Value rec = ParseJson(line);
    if (const json::Value* id = rec.Find("request_id")) ++per_request[id->as_string()];
  }
  for (const auto& [id, n] : per_request) EXPECT_EQ(n, 1) << id;
  EXPECT_GE(per_request.size(), 3u);
}

TEST(ServerAuthTest, BearerSignedRolesAndReplay) {
  const std::string dir = ::hearth::testing::TempDir();
  ServeOptions o = TestOptions(FastModel());
  o.api_keys_file = WriteKeysFile(dir);
  std::unique_ptr<Server> s = StartServer(o);
  const int port = s->port();
  const std::string body = R"({"prompt":"hi","max_tokens":2})";
  // Public probes need no key; everything else does.
  EXPECT_EQ(Request(port, "GET", "/health").status, 200);
  EXPECT_EQ(Request(port, "GET", "/ready").status, 200);
  HttpResult r = Request(port, "POST", "/v1/completions", body);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthorized");
  EXPECT_EQ(Request(port, "GET", "/metrics").status, 401);
  r = Request(port, "POST", "/v1/completions", body, {{"Authorization", "Bearer hk_wrong"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorMessage(r), "Invalid API key");
  EXPECT_EQ(
      Request(port, "POST", "/v1/completions", body, {{"Authorization", "Bearer " + UserSecret()}})
          .status,
      200);
  // Roles: a user key may not reload; an admin key may do both.
  r = Request(port, "POST", "/admin/reload", "{}", {{"Authorization", "Bearer " + UserSecret()}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "forbidden");
  EXPECT_EQ(
      Request(port, "POST", "/v1/completions", body, {{"Authorization", "Bearer " + AdminSecret()}})
          .status,
      200);
  // Signed mode: ApiKey <id>, X-Timestamp, X-Signature over method, path, ts, body hash.
  const int64_t now = std::time(nullptr);
  auto signed_headers = [&](int64_t ts, const std::string& b) {
    return Headers{{"Authorization", "ApiKey k_user"},
                   {"X-Timestamp", std::to_string(ts)},
                   {"X-Signature", SignRequest(UserSecret(), "POST", "/v1/completions", ts, b)}};
  };
  Headers good = signed_headers(now, body);
  EXPECT_EQ(Request(port, "POST", "/v1/completions", body, good).status, 200);
  r = Request(port, "POST", "/v1/completions", body, good);  // the same bytes again
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorMessage(r), "Replayed request");
  // Outside the ±60 s window. The clock is read again here and the skew has
  // a margin: time() ticks in whole seconds and a loaded machine may cross a
  // tick or two between reading it and the server's check.
  for (int64_t skew : {-63, 63}) {
    const int64_t ts = std::time(nullptr) + skew;
    r = Request(port, "POST", "/v1/completions", body, signed_headers(ts, body));
    EXPECT_EQ(ErrorMessage(r), "Stale request");
  }
  Headers tampered = signed_headers(now + 1, body);
  r = Request(port, "POST", "/v1/completions", R"({"prompt":"hi","max_tokens":3})", tampered);
  EXPECT_EQ(ErrorMessage(r), "Bad signature");
  r = Request(port, "POST", "/v1/completions", body,
              {{"Authorization", "ApiKey k_user"}, {"X-Timestamp", std::to_string(now)}});
  EXPECT_EQ(ErrorMessage(r), "Missing signature headers");
}

TEST(ServerAuthTest, RefusesOffLoopbackWithoutKeys) {
  ServeOptions o = TestOptions(FastModel());
  o.host = "0.0.0.0";
  Result<std::unique_ptr<Server>> s = Server::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("without API keys"), std::string::npos);
}

TEST(ServerLimitTest, RateLimitsPerClientAndGlobal) {
  ServeOptions o = TestOptions(FastModel());
  o.rate.client_rate = 0.5;  // one token per 2 s
  o.rate.client_burst = 2;
  std::unique_ptr<Server> s = StartServer(o);
  const std::string body = R"({"prompt":"hi","max_tokens":1})";
  EXPECT_EQ(Request(s->port(), "POST", "/v1/completions", body).status, 200);
  EXPECT_EQ(Request(s->port(), "POST", "/v1/completions", body).status, 200);
  HttpResult r = Request(s->port(), "POST", "/v1/completions", body);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(ErrorCode(r), "rate_limited");
  EXPECT_EQ(ParseJson(r.body).Find("error")->Find("scope")->as_string(), "client");
  EXPECT_GE(std::stoi(r.Header("retry-after")), 1);
  EXPECT_EQ(Request(s->port(), "GET", "/health").status, 200);  // probes are never limited
  s.reset();

  ServeOptions g = TestOptions(FastModel());
  g.rate.global_rate = 0.5;
  g.rate.global_burst = 1;
  s = StartServer(g);
  EXPECT_EQ(Request(s->port(), "POST", "/v1/completions", body).status, 200);
  r = Request(s->port(), "POST", "/v1/completions", body);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(ParseJson(r.body).Find("error")->Find("scope")->as_string(), "global");
}

TEST(ServerLifecycleTest, FailedLoadIsNotReadyButLive) {
  const std::string dir = ::hearth::testing::TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/broken.gguf", "GGUF but not really").ok());
  ServeOptions o = TestOptions(dir + "/broken.gguf");
  Result<std::unique_ptr<Server>> s = Server::Start(o);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->WaitReady(10000));
  const int port = (*s)->port();
  EXPECT_EQ(Request(port, "GET", "/health").status, 200);
  HttpResult r = Request(port, "GET", "/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ParseJson(r.body).Find("reason")->as_string(), "load_failed");
  EXPECT_NE(ParseJson(r.body).Find("last_error"), nullptr);
  r = Request(port, "POST", "/v1/completions", R"({"prompt":"x"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ErrorCode(r), "model_not_ready");
}

// --prefetch BYTES reaches the decode steps of the server's scheduler (12 KiB
// is none of the tuner's candidates; /v1/stats reports the distance), and a
// model read into memory (repacked where the CPU has a layout for it) serves.
TEST(ServerLifecycleTest, FixedPrefetchAndInMemoryLoad) {
  ServeOptions o = TestOptions(FastModel());
  o.prefetch_bytes = 12288;
  o.load_in_memory = true;
  std::unique_ptr<Server> s = StartServer(o);
  ASSERT_NE(s, nullptr);
  HttpResult r = Request(s->port(), "POST", "/v1/completions",
                         R"({"prompt":"x","max_tokens":4,"temperature":0})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Request(s->port(), "GET", "/v1/stats");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(ParseJson(r.body).Find("scheduler")->Find("prefetch_bytes")->as_int(), 12288) << r.body;
}

TEST(ServerLifecycleTest, KvCacheThatCannotFitIsReported) {
  const std::string dir = ::hearth::testing::TempDir();
  ServeOptions o = TestOptions(HugeContextModel());
  o.parallel = 64;
  o.ctx = 1 << 20;  // 64 sequences x 1M tokens x 2 KiB (F32 KV) = 128 GiB
  o.kv_type = KvType::kF32;
  Result<std::unique_ptr<Server>> s = Server::Start(o);
  ASSERT_TRUE(s.ok());
  if ((*s)->WaitReady(20000)) GTEST_SKIP() << "this machine can hold the KV cache";
  HttpResult r = Request((*s)->port(), "GET", "/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ParseJson(r.body).Find("reason")->as_string(), "insufficient_kv_cache") << r.body;
}

}  // namespace
}  // namespace hearth::server::testing
