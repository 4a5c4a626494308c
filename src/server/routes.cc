// Request dispatch: auth, rate limits, routes other than generation, the
// error envelope, and the one terminal log record per request.
#include <chrono>

#include "base/strings.h"
#include "server/server.h"
#include "server/server_metrics.h"

namespace hearth::server {
namespace {

using json::Value;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Route label for metrics and logs (bounded cardinality).
std::string RouteLabel(const std::string& path) {
  static const char* kRoutes[] = {"/v1/chat/completions",
                                  "/v1/completions",
                                  "/v1/models",
                                  "/generate",
                                  "/health",
                                  "/healthz",
                                  "/ready",
                                  "/readyz",
                                  "/metrics",
                                  "/v1/stats",
                                  "/admin/reload"};
  for (const char* r : kRoutes)
    if (path == r) return r;
  return "other";
}

bool ValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

void Server::SendError(HttpResponder& out, const ApiError& e, const std::string& request_id,
                       json::Value* log) {
  HeaderList headers{{"X-Request-Id", request_id}};
  if (e.retry_after_s > 0) headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  if (e.status == 401) headers.emplace_back("WWW-Authenticate", "Bearer");
  if (e.status == 405) headers.emplace_back("Allow", e.param);
  out.Send(e.status, "application/json", ErrorJson(e), headers);
  log->Set("status", e.status);
  log->Set("error_code", e.code);
  metrics_->errors->WithLabels({e.code})->Inc();
}

void Server::Handle(const HttpRequest& req, HttpResponder& out) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string* given = req.Header("x-request-id");
  const std::string request_id =
      given != nullptr && ValidRequestId(*given)
          ? *given
          : StrFormat("req-%llx-%llu", static_cast<unsigned long long>(NowUnixMs()),
                      static_cast<unsigned long long>(request_counter_.fetch_add(1)));
  const std::string route = RouteLabel(req.path);
  Value log = Value::Object{{"event", "http.request"},
                            {"request_id", request_id},
                            {"method", req.method},
                            {"route", route},
                            {"client_ip", req.peer_ip}};

  std::variant<Principal, AuthError> who = auth_->Check(
      req.method, req.target, [&req](std::string_view name) { return req.Header(name); }, req.body,
      NowUnixMs() / 1000);
  if (const AuthError* denied = std::get_if<AuthError>(&who)) {
    ApiError e;
    e.status = denied->http_status;
    e.code = denied->code;
    e.message = denied->message;
    e.type = denied->http_status == 403 ? "permission_error" : "authentication_error";
    SendError(out, e, request_id, &log);
  } else {
    const Principal& p = std::get<Principal>(who);
    if (!p.key_id.empty()) log.Set("key_id", p.key_id);
    RateDecision d;
    if (Authenticator::RequiredRole(req.path) != Role::kNone)
      d = limiter_->Check(RateLimiter::ClientKey(p.key_id, req.peer_ip));
    if (!d.allowed) {
      ApiError e;
      e.status = 429;
      e.code = "rate_limited";
      e.type = "rate_limit_error";
      e.scope = std::string(d.scope);
      e.message =
          StrFormat("rate limit exceeded (%s); retry in %lld s", std::string(d.scope).c_str(),
                    static_cast<long long>(d.RetryAfterHeaderSeconds()));
      e.retry_after_s = static_cast<int>(d.RetryAfterHeaderSeconds());
      metrics_->rate_limited->WithLabels({e.scope})->Inc();
      SendError(out, e, request_id, &log);
    } else {
      Route(req, out, request_id, &log);
    }
  }
  if (!out.sent()) {
    ApiError e;
    e.status = 500;
    e.code = "generation_failed";
    e.type = "server_error";
    e.message = "the request was not answered";
    SendError(out, e, request_id, &log);
  }
  const Value* status = log.Find("status");
  const int code =
      status != nullptr && status->is_integer() ? static_cast<int>(status->as_int()) : 0;
  metrics_->requests->WithLabels({route, std::to_string(code)})->Inc();
  log.Set("duration_ms",
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  if (!log.Find("event_final"))
    log.Set("event", code >= 400 || code == 0 ? "request.failed" : "request.completed");
  logger_->Write(log);
}

void Server::Route(const HttpRequest& req, HttpResponder& out, const std::string& request_id,
                   json::Value* log) {
  const std::string& path = req.path;
  auto method_is = [&](const char* want) {
    if (req.method == want || (std::string_view(want) == "GET" && req.method == "HEAD"))
      return true;
    ApiError e;
    e.status = 405;
    e.code = "method_not_allowed";
    e.message = req.method + " is not allowed on " + path + "; use " + want;
    e.param = want;  // becomes the Allow header
    SendError(out, e, request_id, log);
    return false;
  };
  auto sent = [&](int status) { log->Set("status", status); };
  if (path == "/health" || path == "/healthz") {
    if (method_is("GET")) HandleHealth(out), sent(200);
  } else if (path == "/ready" || path == "/readyz") {
    if (method_is("GET")) {
      HandleReady(out);
      sent(state() == ServerState::kReady ? 200 : 503);
    }
  } else if (path == "/v1/models") {
    if (method_is("GET")) HandleModels(out), sent(200);
  } else if (path == "/metrics") {
    if (method_is("GET")) HandleMetrics(out), sent(200);
  } else if (path == "/v1/stats") {
    if (method_is("GET")) HandleStats(out), sent(200);
  } else if (path == "/v1/chat/completions") {
    if (method_is("POST")) HandleGenerate(Endpoint::kChat, req, out, request_id, log);
  } else if (path == "/v1/completions") {
    if (method_is("POST")) HandleGenerate(Endpoint::kCompletion, req, out, request_id, log);
  } else if (path == "/generate") {
    if (method_is("POST")) HandleGenerate(Endpoint::kGenerate, req, out, request_id, log);
  } else if (path == "/admin/reload") {
    if (method_is("POST")) HandleReload(req, out, log);
  } else {
    ApiError e;
    e.status = 404;
    e.code = "not_found";
    e.message = "no route " + path;
    SendError(out, e, request_id, log);
  }
}

void Server::HandleHealth(HttpResponder& out) {
  const auto up = std::chrono::steady_clock::now() - start_;
  out.Send(200, "application/json",
           json::Serialize(Value::Object{
               {"ok", true},
               {"state", std::string(ServerStateName(state()))},
               {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(up).count()}}));
}

void Server::HandleReady(HttpResponder& out) {
  std::shared_ptr<Engine> e = engine();
  if (state() == ServerState::kReady && e) {
    out.Send(200, "application/json",
             json::Serialize(Value::Object{
                 {"ready", true},
                 {"model", e->id},
                 {"bundle_id", e->bundle_id.empty() ? Value() : Value(e->bundle_id)}}));
    return;
  }
  std::string reason, last_error;
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    reason = not_ready_reason_;
    last_error = last_error_;
  }
  const ServerState s = state();
  if (s == ServerState::kLoading || s == ServerState::kVerifying) reason = "loading";
  if (s == ServerState::kWarming) reason = "warmup_not_done";
  if (s == ServerState::kDraining) reason = "draining";
  if (reason.empty()) reason = "loading";
  Value body = Value::Object{
      {"ready", false}, {"reason", reason}, {"state", std::string(ServerStateName(s))}};
  if (!last_error.empty()) body.Set("last_error", last_error);
  out.Send(503, "application/json", json::Serialize(body), {{"Retry-After", "1"}});
}

void Server::HandleModels(HttpResponder& out) {
  Value::Array data;
  if (std::shared_ptr<Engine> e = engine()) {
    const HParams& hp = e->model->hparams();
    data.push_back(
        Value::Object{{"id", e->id},
                      {"object", "model"},
                      {"created", e->created_unix},
                      {"owned_by", "hearth"},
                      {"bundle_id", e->bundle_id.empty() ? Value() : Value(e->bundle_id)},
                      {"arch", hp.arch},
                      {"context_length", e->scheduler->options().n_ctx}});
  }
  out.Send(200, "application/json",
           json::Serialize(Value::Object{{"object", "list"}, {"data", data}}));
}

void Server::HandleMetrics(HttpResponder& out) {
  out.Send(200, "text/plain; version=0.0.4; charset=utf-8", metrics_->reg.Expose());
}

void Server::HandleStats(HttpResponder& out) {
  Value snap = stats_->Snapshot();
  if (std::shared_ptr<Engine> e = engine()) {
    const SchedulerStats st = e->scheduler->Stats();
    snap.Set("scheduler", Value::Object{{"active", st.active},
                                        {"queued", st.queued},
                                        {"slots", st.slots},
                                        {"steps", st.steps},
                                        {"tokens_generated", st.tokens_generated},
                                        {"cancelled", st.cancelled},
                                        {"kv_bytes_in_use", st.kv_bytes_in_use},
                                        {"kv_bytes", st.kv_bytes_total},
                                        {"prefetch_bytes", st.prefetch_bytes}});
    snap.Set("model", e->id);
  }
  out.Send(200, "application/json", json::Serialize(snap));
}

void Server::HandleReload(const HttpRequest& req, HttpResponder& out, json::Value* log) {
  std::string path;
  if (!StripWhitespace(req.body).empty()) {
    Result<Value> body = json::Parse(req.body);
    const Value* m = body.ok() ? body->Find("model") : nullptr;
    if (!body.ok() || !body->is_object() || (m != nullptr && !m->is_string())) {
      ApiError e;
      e.code = "invalid_json";
      e.message = "the body must be {} or {\"model\": \"/path/to/model.gguf\"}";
      SendError(out, e, log->Find("request_id")->as_string(), log);
      return;
    }
    if (m != nullptr) path = m->as_string();
  }
  if (path.empty() && options_.root.empty()) path = options_.model_path;
  Status s = Reload(path);
  if (!s.ok()) {
    ApiError e = ApiErrorFromStatus(s);
    if (s.reason() == "reload_in_progress") {
      e.status = 409;
      e.code = "reload_in_progress";
    } else if (e.status == 400 || e.status == 500) {
      e.status = 500;
      e.code = "reload_failed";
    }
    SendError(out, e, log->Find("request_id")->as_string(), log);
    return;
  }
  std::shared_ptr<Engine> e = engine();
  out.Send(200, "application/json",
           json::Serialize(
               Value::Object{{"status", "reloaded"},
                             {"model", e->id},
                             {"bundle_id", e->bundle_id.empty() ? Value() : Value(e->bundle_id)}}));
  log->Set("status", 200);
}

}  // namespace hearth::server
