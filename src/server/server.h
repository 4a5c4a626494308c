// `hearth serve`: the local inference server (DESIGN §6).
//
// Lifecycle: verifying → loading → warming → ready → draining (or failed).
// The HTTP listener starts first, so /health answers at once and /ready says
// why it is not ready yet. Warmup runs once (single flight), whatever arrives
// meanwhile gets 503 model_not_ready. A reload (POST /admin/reload, or a new
// active bundle under --root) loads and warms the new model beside the old,
// then swaps one shared pointer: requests in flight finish on the engine they
// started with, and every response names the model (and bundle) that served it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/json.h"
#include "base/status.h"
#include "model/hparams.h"
#include "runtime/chat_prompt.h"
#include "server/api_types.h"
#include "server/http/http_server.h"
#include "server/scheduler.h"
#include "server/support/auth.h"
#include "server/support/json_log.h"
#include "server/support/latency_stats.h"
#include "server/support/metrics.h"
#include "server/support/rate_limit.h"

namespace hearth::server {

struct ServeOptions {
  std::string model_path;   // a GGUF (-m), or
  std::string root;         // a device store: serve its active bundle (--root)
  std::string model_alias;  // the id clients use; default: bundle id or file stem
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string port_file;  // written with the bound port once listening (for --port 0)
  int parallel = 1;
  int ctx = 2048;
  KvType kv_type = KvType::kF16;
  int threads = 0;
  bool load_in_memory = false;  // --load memory or memory-plain
  bool repack = true;           // with load_in_memory (--load memory)
  int64_t prefetch_bytes = 0;   // --prefetch: 0 tunes it while decoding
  int n_batch = 256;
  int prefill_chunk = 128;
  std::string api_keys_file;
  std::string log_dir;  // "" = no file log (records go to stderr only when --log-stderr)
  bool log_stderr = false;
  uint64_t log_max_bytes = 16 << 20;  // per file
  int log_files = 4;
  bool log_previews = false;  // PII-scrubbed 80-character previews (off: hashes only)
  size_t max_body_bytes = 1 << 20;
  int64_t max_tokens_limit = 4096;
  int64_t default_max_tokens = 256;
  int queue_max = 64;
  int queue_timeout_ms = 30000;
  double request_timeout_s = 600;  // per-request deadline (a request may ask for less)
  int stall_timeout_ms = 30000;    // a streaming client that reads nothing this long is cancelled
  int max_connections = 64;
  RateLimitConfig rate;
  int drain_ms = 10000;
};

// One loaded model with its scheduler. Shared by the requests using it.
struct Engine {
  std::string id;         // what /v1/models lists and responses name
  std::string bundle_id;  // "" for a plain GGUF
  std::string path;       // the GGUF
  std::string backend;    // "cpu:avx512-vnni"
  std::shared_ptr<const Model> model;
  std::shared_ptr<const tok::Tokenizer> tokenizer;
  std::unique_ptr<runtime::ChatFormatter> formatter;
  json::Value defaults;  // the bundle's generation defaults (or null)
  std::unique_ptr<Scheduler> scheduler;
  int64_t created_unix = 0;
  ~Engine();
};

enum class ServerState { kVerifying, kLoading, kWarming, kReady, kDraining, kFailed };
std::string_view ServerStateName(ServerState s);

class Server {
 public:
  // Validates the options (off-loopback without API keys is refused), starts
  // listening and loads the model in the background. Errors: bad options,
  // unreadable keys file, the port in use.
  static Result<std::unique_ptr<Server>> Start(const ServeOptions& options);
  ~Server();

  int port() const;
  ServerState state() const { return state_.load(); }
  // Blocks until the model is ready (true) or failed (false), at most timeout_ms.
  bool WaitReady(int timeout_ms) const;
  // Stops accepting, lets requests finish for up to drain_ms, stops the engine.
  void Shutdown();
  // Loads `model_path` (or the store's active bundle when empty and --root is
  // set), warms it and swaps it in. Single flight: a concurrent call fails.
  Status Reload(const std::string& model_path);
  // The effective configuration (for the start-up banner), secrets masked.
  json::Value EffectiveConfig() const;

  // Request handling (routes.cc, generate_handler.cc).
  void Handle(const HttpRequest& req, HttpResponder& out);

 private:
  struct Metrics;
  explicit Server(const ServeOptions& options);
  Result<std::shared_ptr<Engine>> LoadEngine(const std::string& model_path);
  Status Warm(Engine& engine);
  void LoadInBackground();
  void WatchStore();
  std::shared_ptr<Engine> engine() const;

  // routes.cc
  void Route(const HttpRequest& req, HttpResponder& out, const std::string& request_id,
             json::Value* log);
  void HandleHealth(HttpResponder& out);
  void HandleReady(HttpResponder& out);
  void HandleModels(HttpResponder& out);
  void HandleMetrics(HttpResponder& out);
  void HandleStats(HttpResponder& out);
  void HandleReload(const HttpRequest& req, HttpResponder& out, json::Value* log);
  void SendError(HttpResponder& out, const ApiError& e, const std::string& request_id,
                 json::Value* log);
  // generate_handler.cc
  void HandleGenerate(Endpoint endpoint, const HttpRequest& req, HttpResponder& out,
                      const std::string& request_id, json::Value* log);

  ServeOptions options_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<JsonLog> logger_;
  LogPolicy log_policy_;
  std::unique_ptr<LatencyStats> stats_;
  std::unique_ptr<Metrics> metrics_;
  ApiLimits limits_;

  mutable std::mutex engine_mu_;
  std::shared_ptr<Engine> engine_;
  std::atomic<ServerState> state_{ServerState::kVerifying};
  std::string not_ready_reason_ = "loading";  // guarded by engine_mu_
  std::string last_error_;                    // guarded by engine_mu_
  std::mutex reload_mu_;                      // single-flight reloads
  std::thread loader_;
  std::thread watcher_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> request_counter_{0};
  int64_t start_unix_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace hearth::server
