// `hearth serve`: the local OpenAI-compatible server (docs/server.md).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "args.h"
#include "base/json.h"
#include "base/strings.h"
#include "commands.h"
#include "engine_cli.h"
#include "server/server.h"
#include "server/support/auth.h"
#include "server/support/config_toml.h"

namespace hearth::cli {
namespace {

std::atomic<int> g_signal{0};
void OnSignal(int sig) {
  g_signal.store(sig);
}

ArgParser ServeParser() {
  ArgParser p("hearth serve",
              "Serve a model over HTTP: the OpenAI API (/v1/chat/completions, /v1/completions,\n"
              "/v1/models, SSE streaming), /generate, /health, /ready, /metrics, /v1/stats and\n"
              "/admin/reload. Up to --parallel requests decode together (continuous batching).");
  p.Option("model", 'm', "MODEL.gguf", "the model to serve");
  p.Option("root", 0, "DIR", "serve the active bundle of a device store (reloads on activation)");
  p.Option("config", 'c', "hearth.toml", "read options from a TOML file (flags override it)");
  p.Option("alias", 0, "ID", "model id clients use", "bundle id or file name");
  p.Option("host", 0, "ADDR", "listen address (off loopback needs --api-keys)", "127.0.0.1");
  p.Option("port", 'p', "N", "listen port (0: any free port)", "8080");
  p.Option("port-file", 0, "FILE", "write the bound port here once listening");
  p.Option("parallel", 'n', "N", "sequences decoding together", "1");
  p.Option("ctx", 0, "N", "context length per sequence", "2048 (at most the model's)");
  p.Option("kv-type", 0, "TYPE", "KV cache type: f16 or f32", "f16");
  p.Option("threads", 't', "N", "compute threads", "physical cores");
  AddLoadOptions(p);
  p.Option("batch", 0, "N", "most tokens per forward pass", "256");
  p.Option("prefill-chunk", 0, "N", "most prompt tokens of one request per pass", "128");
  p.Option(
      "api-keys", 0, "FILE",
      "API keys (hashed; mode 0600): {\"keys\":[{\"id\",\"role\":\"user|admin\",\"sha256\"}]}");
  p.Option("log-dir", 0, "DIR", "JSON-lines request log (rotated)");
  p.Flag("log-stderr", 0, "also write log records to stderr");
  p.Option("log-max-bytes", 0, "N", "rotate the log at this size", "16777216");
  p.Option("log-files", 0, "N", "log files kept", "4");
  p.Flag("log-previews", 0, "log PII-scrubbed 80-character previews of prompts and outputs");
  p.Option("max-body-bytes", 0, "N", "largest request body (413 above)", "1048576");
  p.Option("max-tokens-limit", 0, "N", "largest max_tokens a request may ask for", "4096");
  p.Option("default-max-tokens", 0, "N", "max_tokens when a request gives none", "256");
  p.Option("queue", 0, "N", "requests waiting for a slot (503 overloaded beyond)", "64");
  p.Option("queue-timeout-ms", 0, "MS", "longest wait for a slot", "30000");
  p.Option("timeout", 0, "S", "per-request deadline in seconds", "600");
  p.Option("stall-timeout-ms", 0, "MS", "cancel a streaming client that reads nothing this long",
           "30000");
  p.Option("max-connections", 0, "N", "open connections", "64");
  p.Option("rate", 0, "R", "requests per second per client (API key, else IP); 0 = off", "0");
  p.Option("burst", 0, "B", "per-client burst", "rate");
  p.Option("global-rate", 0, "R", "requests per second over all clients; 0 = off", "0");
  p.Option("global-burst", 0, "B", "global burst", "global rate");
  p.Epilog(
      "Every option is also a key of the --config file (port = 8081, api_keys = \"keys.json\").\n"
      "Unknown request fields are rejected on /generate and ignored on /v1 (OpenAI SDKs send\n"
      "extras). Errors: {\"error\":{\"code\",\"message\",\"type\",\"param\"}} (docs/server.md).\n"
      "Examples:\n"
      "  hearth serve -m model.gguf --parallel 4\n"
      "  hearth serve --root /var/lib/hearth --host 0.0.0.0 --api-keys keys.json\n"
      "  hearth serve keygen --id k_user_1 --role user --keys keys.json   # add a key\n");
  return p;
}

// Writes the keys file with mode 0600 from the start (temp + fsync + rename).
Status SaveKeys(const server::ApiKeys& keys, const std::string& path) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("creating '" + tmp + "'", errno);
  const std::string text = keys.ToJson();
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return ErrnoError("writing '" + path + "'", ok ? errno : err);
  }
  return Status::Ok();
}

// `hearth serve keygen`: adds a key to a keys file and prints the secret once.
int KeygenCmd(int argc, char** argv) {
  ArgParser p("hearth serve keygen",
              "Create an API key: prints the secret once and stores only its SHA-256 in the keys\n"
              "file (created with mode 0600).");
  p.Option("keys", 0, "FILE", "the keys file");
  p.Option("id", 0, "ID", "key id ([A-Za-z0-9_.-])");
  p.Option("role", 0, "ROLE", "user or admin", "user");
  auto a = p.Parse(argc, argv);
  if (!a.ok()) return ReportError("serve keygen", a.status());
  if (a->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  if (!a->Has("keys") || !a->Has("id"))
    return ReportError("serve keygen",
                       InvalidArgumentError("--keys and --id are required", "cli.usage"));
  auto role = a->GetChoice("role", "user", {"user", "admin"});
  if (!role.ok()) return ReportError("serve keygen", role.status());
  server::ApiKeys keys;
  if (FILE* f = std::fopen(a->Get("keys").c_str(), "r")) {
    std::fclose(f);
    auto loaded = server::ApiKeys::Load(a->Get("keys"));
    if (!loaded.ok()) return ReportError("serve keygen", loaded.status());
    keys = std::move(loaded).value();
  }
  auto secret = server::GenerateApiKeySecret();
  if (!secret.ok()) return ReportError("serve keygen", secret.status());
  Status s = keys.Add(a->Get("id"), *role == "admin" ? server::Role::kAdmin : server::Role::kUser,
                      server::HashApiKey(*secret));
  if (!s.ok()) return ReportError("serve keygen", s);
  s = SaveKeys(keys, a->Get("keys"));
  if (!s.ok()) return ReportError("serve keygen", s);
  std::printf("%s\n", secret->c_str());
  std::fprintf(stderr, "key %s (%s) added to %s; the secret above is not stored anywhere\n",
               a->Get("id").c_str(), role->c_str(), a->Get("keys").c_str());
  return kExitOk;
}

}  // namespace

int RunServe(int argc, char** argv) {
  if (argc >= 1 && std::string(argv[0]) == "keygen") return KeygenCmd(argc - 1, argv + 1);
  ArgParser p = ServeParser();
  std::vector<std::string> argv_all;
  // --config first: its keys become flags placed before the command line's.
  for (int i = 0; i + 1 < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" || a == "-c") {
      auto flat = server::LoadConfigToml(argv[i + 1]);
      if (!flat.ok()) return ReportError("serve", flat.status());
      auto pairs = server::ConfigToArgs(*flat);
      if (!pairs.ok()) return ReportError("serve", pairs.status());
      for (const auto& [flag, value] : *pairs) {
        argv_all.push_back(flag);
        if (!value.empty()) argv_all.push_back(value);
      }
    }
  }
  for (int i = 0; i < argc; ++i) argv_all.emplace_back(argv[i]);
  auto a = p.Parse(argv_all);
  if (!a.ok()) return ReportError("serve", a.status());
  if (a->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  server::ServeOptions o;
  o.model_path = a->Get("model");
  o.root = a->Get("root");
  o.model_alias = a->Get("alias");
  o.host = a->Get("host", "127.0.0.1");
  o.port_file = a->Get("port-file");
  o.api_keys_file = a->Get("api-keys");
  o.log_dir = a->Get("log-dir");
  o.log_stderr = a->Has("log-stderr");
  o.log_previews = a->Has("log-previews");
  auto kv = a->GetChoice("kv-type", "f16", {"f16", "f32"});
  if (!kv.ok()) return ReportError("serve", kv.status());
  o.kv_type = *kv == "f32" ? KvType::kF32 : KvType::kF16;
  auto load = ParseLoadOption(*a);
  if (!load.ok()) return ReportError("serve", load.status());
  o.load_in_memory = load->in_memory;
  o.repack = load->repack;
  auto prefetch = ParsePrefetchOption(*a);
  if (!prefetch.ok()) return ReportError("serve", prefetch.status());
  o.prefetch_bytes = *prefetch;
  struct IntOpt {
    const char* name;
    int64_t def, lo, hi;
    int64_t* out;
  };
  int64_t port, parallel, ctx, threads, batch, chunk, log_max, log_files, body, max_limit, def_max,
      queue, queue_ms, stall_ms, max_conn;
  const IntOpt ints[] = {
      {"port", 8080, 0, 65535, &port},
      {"parallel", 1, 1, 64, &parallel},
      {"ctx", 2048, 16, 1 << 20, &ctx},
      {"threads", 0, 0, 1024, &threads},
      {"batch", 256, 1, 4096, &batch},
      {"prefill-chunk", 128, 1, 4096, &chunk},
      {"log-max-bytes", 16 << 20, 4096, int64_t{1} << 40, &log_max},
      {"log-files", 4, 1, 1000, &log_files},
      {"max-body-bytes", 1 << 20, 1024, int64_t{1} << 32, &body},
      {"max-tokens-limit", 4096, 1, 1 << 20, &max_limit},
      {"default-max-tokens", 256, 1, 1 << 20, &def_max},
      {"queue", 64, 0, 100000, &queue},
      {"queue-timeout-ms", 30000, 1, 3600000, &queue_ms},
      {"stall-timeout-ms", 30000, 10, 3600000, &stall_ms},
      {"max-connections", 64, 1, 100000, &max_conn},
  };
  for (const IntOpt& i : ints) {
    auto v = a->GetInt(i.name, i.def, i.lo, i.hi);
    if (!v.ok()) return ReportError("serve", v.status());
    *i.out = *v;
  }
  auto timeout = a->GetDouble("timeout", 600, 0.001, 86400);
  auto rate = a->GetDouble("rate", 0, 0, 1e6);
  auto burst = a->GetDouble("burst", 0, 0, 1e6);
  auto grate = a->GetDouble("global-rate", 0, 0, 1e6);
  auto gburst = a->GetDouble("global-burst", 0, 0, 1e6);
  for (const auto* r : {&timeout, &rate, &burst, &grate, &gburst})
    if (!r->ok()) return ReportError("serve", r->status());
  o.port = static_cast<int>(port);
  o.parallel = static_cast<int>(parallel);
  o.ctx = static_cast<int>(ctx);
  o.threads = static_cast<int>(threads);
  o.n_batch = static_cast<int>(batch);
  o.prefill_chunk = static_cast<int>(chunk);
  o.log_max_bytes = static_cast<uint64_t>(log_max);
  o.log_files = static_cast<int>(log_files);
  o.max_body_bytes = static_cast<size_t>(body);
  o.max_tokens_limit = max_limit;
  o.default_max_tokens = def_max;
  o.queue_max = static_cast<int>(queue);
  o.queue_timeout_ms = static_cast<int>(queue_ms);
  o.request_timeout_s = *timeout;
  o.stall_timeout_ms = static_cast<int>(stall_ms);
  o.max_connections = static_cast<int>(max_conn);
  o.rate.client_rate = *rate;
  o.rate.client_burst = *burst;
  o.rate.global_rate = *grate;
  o.rate.global_burst = *gburst;

  ::signal(SIGPIPE, SIG_IGN);
  auto server = server::Server::Start(o);
  if (!server.ok()) return ReportError("serve", server.status());
  std::fprintf(stderr, "hearth serve: listening on http://%s:%d; configuration:\n%s\n",
               o.host.c_str(), (*server)->port(),
               json::Serialize((*server)->EffectiveConfig(), 2).c_str());
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  while (g_signal.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "hearth serve: draining (signal %d)\n", g_signal.load());
  (*server)->Shutdown();
  return kExitOk;
}

}  // namespace hearth::cli
