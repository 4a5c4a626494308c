#include "server/server.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "base/mapped_file.h"
#include "base/strings.h"
#include "base/sysinfo.h"
#include "deploy/manifest.h"
#include "deploy/store.h"
#include "deploy/verify.h"
#include "kernels/matmul.h"
#include "model/vocab_gguf.h"
#include "server/server_metrics.h"

namespace hearth::server {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]" ||
         StartsWith(host, "127.");
}

std::string FileStem(const std::string& path) {
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (EndsWith(name, ".gguf")) name.resize(name.size() - 5);
  return name;
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Engine::~Engine() {
  if (scheduler) scheduler->Shutdown();
}

std::string_view ServerStateName(ServerState s) {
  switch (s) {
    case ServerState::kVerifying:
      return "verifying";
    case ServerState::kLoading:
      return "loading";
    case ServerState::kWarming:
      return "warming";
    case ServerState::kReady:
      return "ready";
    case ServerState::kDraining:
      return "draining";
    case ServerState::kFailed:
      return "failed";
  }
  return "unknown";
}

Server::Server(const ServeOptions& options) : options_(options) {}

Server::~Server() {
  Shutdown();
}

Result<std::unique_ptr<Server>> Server::Start(const ServeOptions& o) {
  if (o.model_path.empty() == o.root.empty())
    return InvalidArgumentError("give exactly one of -m MODEL.gguf and --root DIR", "cli.usage");
  if (o.parallel < 1 || o.parallel > 64)
    return InvalidArgumentError("--parallel must be in [1, 64]", "cli.out_of_range");
  if (o.ctx < 16) return InvalidArgumentError("--ctx must be at least 16", "cli.out_of_range");
  if (!IsLoopback(o.host) && o.api_keys_file.empty())
    return FailedPreconditionError(
        "refusing to listen on " + o.host +
            " without API keys: anyone on the network could use the model. Pass --api-keys "
            "FILE (see hearth serve --help), or bind to 127.0.0.1",
        "cli.usage");
  auto s = std::unique_ptr<Server>(new Server(o));
  s->start_ = std::chrono::steady_clock::now();
  s->start_unix_ = NowUnix();
  if (!o.api_keys_file.empty()) {
    HEARTH_ASSIGN_OR_RETURN(ApiKeys keys, ApiKeys::Load(o.api_keys_file));
    if (keys.empty())
      return InvalidArgumentError("the API keys file '" + o.api_keys_file + "' holds no keys",
                                  "cli.bad_value");
    s->auth_ = std::make_unique<Authenticator>(std::move(keys));
  } else {
    s->auth_ = std::make_unique<Authenticator>(Authenticator::Disabled());
  }
  s->limiter_ = std::make_unique<RateLimiter>(o.rate);
  JsonLogOptions lo;
  lo.dir = o.log_dir;
  lo.max_file_bytes = o.log_max_bytes;
  lo.max_files = o.log_files;
  if (o.log_stderr) lo.sink = StderrLineSink();
  HEARTH_ASSIGN_OR_RETURN(s->logger_, JsonLog::Open(lo));
  s->log_policy_.log_previews = o.log_previews;
  s->stats_ = std::make_unique<LatencyStats>();
  s->limits_.max_tokens_limit = o.max_tokens_limit;
  s->limits_.default_max_tokens = std::min(o.default_max_tokens, o.max_tokens_limit);
  s->limits_.max_prompt_bytes = o.max_body_bytes;
  s->metrics_ = std::make_unique<Metrics>(s.get());

  HttpServerOptions ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.max_body_bytes = o.max_body_bytes;
  ho.max_connections = o.max_connections;
  Server* self = s.get();
  HEARTH_ASSIGN_OR_RETURN(s->http_,
                          HttpServer::Start(ho, [self](const HttpRequest& req, HttpResponder& out) {
                            self->Handle(req, out);
                          }));
  if (!o.port_file.empty())
    HEARTH_RETURN_IF_ERROR(WriteFileAtomic(o.port_file, std::to_string(s->http_->port()) + "\n"));
  s->loader_ = std::thread([self] { self->LoadInBackground(); });
  if (!o.root.empty()) s->watcher_ = std::thread([self] { self->WatchStore(); });
  return s;
}

int Server::port() const {
  return http_ ? http_->port() : 0;
}

bool Server::WaitReady(int timeout_ms) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    const ServerState s = state_.load();
    if (s == ServerState::kReady) return true;
    if (s == ServerState::kFailed) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void Server::Shutdown() {
  if (stopping_.exchange(true)) return;
  state_.store(ServerState::kDraining);
  if (loader_.joinable()) loader_.join();
  if (watcher_.joinable()) watcher_.join();
  if (http_) http_->Shutdown(options_.drain_ms);
  std::shared_ptr<Engine> e;
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    e = std::move(engine_);
  }
  e.reset();  // stops the scheduler once no request holds it
}

std::shared_ptr<Engine> Server::engine() const {
  std::lock_guard<std::mutex> lock(engine_mu_);
  return engine_;
}

Result<std::shared_ptr<Engine>> Server::LoadEngine(const std::string& model_path) {
  auto e = std::make_shared<Engine>();
  std::string path = model_path;
  std::string template_source;
  if (path.empty()) {
    // The store's active bundle, checked (sizes, hashes, facts) before it loads.
    HEARTH_ASSIGN_OR_RETURN(deploy::StoreState st, deploy::Store::ReadState(options_.root));
    if (st.active.empty())
      return FailedPreconditionError("the store " + options_.root + " has no active bundle",
                                     "model_not_ready");
    const std::string dir = options_.root + "/bundles/" + st.active;
    HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<deploy::BundleReader> reader,
                            deploy::BundleReader::Open(dir));
    deploy::VerifyOptions vo;
    vo.check_signature = false;  // checked at install; the store is read-only
    deploy::VerifyReport report = deploy::VerifyBundle(*reader, vo);
    if (!report.ok())
      return DataLossError(
          "active bundle " + st.active + " fails verification: " + report.Summary(),
          "bundle.verify");
    path = dir + "/" + report.manifest.model_path;
    e->bundle_id = report.manifest.bundle_id;
    e->defaults = report.manifest.generation_defaults;
    if (!report.manifest.template_path.empty()) {
      HEARTH_ASSIGN_OR_RETURN(template_source,
                              ReadFileToString(dir + "/" + report.manifest.template_path, 1 << 20));
    }
  }
  state_.store(ServerState::kLoading);
  e->path = path;
  ModelLoadOptions lo;
  lo.in_memory = options_.load_in_memory;
  lo.repack = options_.repack;
  HEARTH_ASSIGN_OR_RETURN(e->model, Model::Load(path, lo));
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<tok::Tokenizer> tokenizer,
                          LoadTokenizer(e->model->file()));
  e->tokenizer = std::move(tokenizer);
  if (template_source.empty()) {
    if (Result<std::string_view> t = e->model->file().GetString("tokenizer.chat_template"); t.ok())
      template_source = std::string(*t);
  }
  HEARTH_ASSIGN_OR_RETURN(runtime::ChatFormatter formatter,
                          runtime::ChatFormatter::ForTokenizer(
                              template_source, e->model->hparams().arch, *e->tokenizer));
  e->formatter = std::make_unique<runtime::ChatFormatter>(std::move(formatter));
  e->id = !options_.model_alias.empty() ? options_.model_alias
          : !e->bundle_id.empty()       ? e->bundle_id
                                        : FileStem(path);
  SchedulerOptions so;
  so.parallel = options_.parallel;
  so.n_ctx = std::min<int>(
      options_.ctx, static_cast<int>(std::max<uint64_t>(e->model->hparams().n_ctx_train, 16)));
  so.kv_type = options_.kv_type;
  so.n_batch = options_.n_batch;
  so.prefill_chunk = options_.prefill_chunk;
  so.n_threads = options_.threads;
  so.prefetch_bytes = options_.prefetch_bytes;
  so.queue_max = options_.queue_max;
  so.queue_timeout_ms = options_.queue_timeout_ms;
  Result<std::unique_ptr<Scheduler>> sched = Scheduler::Create(e->model, e->tokenizer, so);
  if (!sched.ok()) {
    if (sched.status().reason() == "oom_kv_cache")
      return ResourceExhaustedError(sched.status().message(), "insufficient_kv_cache");
    return sched.status();
  }
  e->scheduler = std::move(sched).value();
  e->backend = std::string("cpu:") + kernels::IsaName(kernels::ActiveIsa());
  e->created_unix = NowUnix();
  return e;
}

Status Server::Warm(Engine& e) {
  // One short generation through the real scheduler: prefill + one decode step.
  GenRequest r;
  r.request_id = "warmup";
  r.prompt = e.tokenizer->Encode("Hello");
  if (r.prompt.empty()) r.prompt.push_back(0);
  r.sampling.temperature = 0;
  r.max_tokens = 2;
  r.ignore_eos = true;
  HEARTH_ASSIGN_OR_RETURN(std::shared_ptr<GenStream> stream, e.scheduler->Submit(std::move(r)));
  for (;;) {
    GenStream::Chunk c = stream->Take(1000);
    if (c.done) {
      if (!c.result.error.ok()) return c.result.error.WithContext("warmup");
      if (c.result.completion_tokens < 1)
        return InternalError("warmup produced no token", "smoke_failed");
      return Status::Ok();
    }
  }
}

void Server::LoadInBackground() {
  state_.store(options_.root.empty() ? ServerState::kLoading : ServerState::kVerifying);
  Result<std::shared_ptr<Engine>> e = LoadEngine(options_.model_path);
  if (e.ok()) {
    state_.store(ServerState::kWarming);
    {
      std::lock_guard<std::mutex> lock(engine_mu_);
      not_ready_reason_ = "warmup_not_done";
    }
    Status w = Warm(**e);
    if (!w.ok()) {
      std::lock_guard<std::mutex> lock(engine_mu_);
      not_ready_reason_ = "smoke_failed";
      last_error_ = w.message();
      state_.store(ServerState::kFailed);
    } else {
      std::lock_guard<std::mutex> lock(engine_mu_);
      engine_ = *e;
      not_ready_reason_.clear();
      if (!stopping_.load()) state_.store(ServerState::kReady);
    }
  } else {
    std::lock_guard<std::mutex> lock(engine_mu_);
    not_ready_reason_ =
        e.status().reason() == "insufficient_kv_cache" ? "insufficient_kv_cache" : "load_failed";
    last_error_ = e.status().message();
    state_.store(ServerState::kFailed);
  }
  json::Value rec = json::Value::Object{
      {"event", "server.state"},
      {"state", std::string(ServerStateName(state_.load()))},
      {"model", e.ok() ? json::Value((*e)->id) : json::Value()},
      {"error", last_error_.empty() ? json::Value() : json::Value(last_error_)}};
  logger_->Write(rec);
  if (state_.load() == ServerState::kFailed)
    std::fprintf(stderr, "hearth serve: the model failed to load: %s\n", last_error_.c_str());
  else
    std::fprintf(stderr, "hearth serve: ready on http://%s:%d (model %s)\n", options_.host.c_str(),
                 port(), (*e)->id.c_str());
}

Status Server::Reload(const std::string& model_path) {
  std::unique_lock<std::mutex> single(reload_mu_, std::try_to_lock);
  if (!single.owns_lock())
    return FailedPreconditionError("a reload is already in progress", "reload_in_progress");
  const ServerState before = state_.load();
  Result<std::shared_ptr<Engine>> e = LoadEngine(model_path);
  if (state_.load() != ServerState::kDraining) state_.store(before);
  if (!e.ok()) return e.status().WithContext("reload");
  HEARTH_RETURN_IF_ERROR(Warm(**e).WithContext("reload: the new model failed its warmup"));
  std::shared_ptr<Engine> old;
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    old = std::move(engine_);
    engine_ = *e;
    not_ready_reason_.clear();
    last_error_.clear();
  }
  if (!stopping_.load()) state_.store(ServerState::kReady);
  logger_->Write(json::Value::Object{{"event", "server.reloaded"},
                                     {"model", (*e)->id},
                                     {"bundle_id", (*e)->bundle_id},
                                     {"previous", old ? json::Value(old->id) : json::Value()}});
  return Status::Ok();  // `old` is freed when its last request finishes
}

void Server::WatchStore() {
  // A new active bundle (hearth install/activate/rollback) is served without
  // dropping requests: polled, then Reload().
  std::string seen;
  while (!stopping_.load()) {
    for (int i = 0; i < 20 && !stopping_.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stopping_.load() || state_.load() == ServerState::kLoading ||
        state_.load() == ServerState::kVerifying || state_.load() == ServerState::kWarming)
      continue;
    Result<deploy::StoreState> st = deploy::Store::ReadState(options_.root);
    if (!st.ok() || st->active.empty() || !st->trial.empty()) continue;
    std::shared_ptr<Engine> current = engine();
    if (seen.empty() && current) seen = current->bundle_id;
    if (st->active == seen) continue;
    seen = st->active;
    Status s = Reload("");
    if (!s.ok())
      logger_->Write(json::Value::Object{
          {"event", "server.reload_failed"}, {"bundle_id", st->active}, {"error", s.message()}});
  }
}

json::Value Server::EffectiveConfig() const {
  const ServeOptions& o = options_;
  return json::Value::Object{
      {"model", o.model_path.empty() ? json::Value() : json::Value(o.model_path)},
      {"root", o.root.empty() ? json::Value() : json::Value(o.root)},
      {"host", o.host},
      {"port", port()},
      {"parallel", o.parallel},
      {"ctx", o.ctx},
      {"kv_type", KvTypeName(o.kv_type)},
      {"threads", o.threads},
      {"load", !o.load_in_memory ? "mmap"
               : o.repack        ? "memory"
                                 : "memory-plain"},
      {"prefetch_bytes", o.prefetch_bytes},
      {"batch", o.n_batch},
      {"prefill_chunk", o.prefill_chunk},
      {"api_keys",
       o.api_keys_file.empty()
           ? json::Value("disabled (loopback only)")
           : json::Value(StrFormat("%s (%zu keys, secrets not shown)", o.api_keys_file.c_str(),
                                   auth_ ? auth_->keys().size() : 0))},
      {"log_dir", o.log_dir.empty() ? json::Value() : json::Value(o.log_dir)},
      {"log_previews", o.log_previews},
      {"max_body_bytes", o.max_body_bytes},
      {"max_tokens_limit", o.max_tokens_limit},
      {"default_max_tokens", o.default_max_tokens},
      {"queue_max", o.queue_max},
      {"queue_timeout_ms", o.queue_timeout_ms},
      {"request_timeout_s", o.request_timeout_s},
      {"stall_timeout_ms", o.stall_timeout_ms},
      {"rate_per_client", o.rate.client_rate},
      {"rate_global", o.rate.global_rate}};
}

}  // namespace hearth::server
