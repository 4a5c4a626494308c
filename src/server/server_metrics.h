// The server's Prometheus metrics (GET /metrics). Internal to the server.
#pragma once

#include "base/sysinfo.h"
#include "server/server.h"

namespace hearth::server {

struct Server::Metrics {
  explicit Metrics(Server* s) {
    requests = reg.AddCounterFamily("hearth_requests_total",
                                    "HTTP requests by route and status code", {"route", "code"});
    errors = reg.AddCounterFamily("hearth_request_errors_total",
                                  "Requests that ended with an error, by error code", {"code"});
    ttft = reg.AddHistogram("hearth_ttft_seconds", "Time to first token", LatencySecondsBuckets());
    tpot = reg.AddHistogram("hearth_tpot_seconds", "Time per output token after the first",
                            TokenSecondsBuckets());
    e2e = reg.AddHistogram("hearth_request_duration_seconds",
                           "End-to-end duration of generation requests", LatencySecondsBuckets());
    tokens = reg.AddCounter("hearth_generated_tokens_total", "Tokens generated");
    prompt_tokens = reg.AddCounter("hearth_prompt_tokens_total", "Prompt tokens processed");
    cancelled = reg.AddCounterFamily("hearth_cancelled_total",
                                     "Generations stopped early, by reason (cancelled, timeout)",
                                     {"reason"});
    rate_limited = reg.AddCounterFamily("hearth_rate_limited_total",
                                        "Requests refused by a rate limit, by scope", {"scope"});
    auto sched = [s](auto field) {
      return [s, field]() -> double {
        std::shared_ptr<Engine> e = s->engine();
        return e ? static_cast<double>(field(e->scheduler->Stats())) : 0.0;
      };
    };
    reg.AddCallbackGauge("hearth_active_sequences", "Sequences decoding now",
                         sched([](const SchedulerStats& st) { return st.active; }));
    reg.AddCallbackGauge("hearth_queued_requests", "Requests waiting for a slot",
                         sched([](const SchedulerStats& st) { return st.queued; }));
    reg.AddCallbackGauge("hearth_slots", "Sequences that can decode together (--parallel)",
                         sched([](const SchedulerStats& st) { return st.slots; }));
    reg.AddCallbackGauge("hearth_kv_cache_bytes_in_use", "KV cache bytes holding live positions",
                         sched([](const SchedulerStats& st) { return st.kv_bytes_in_use; }));
    reg.AddCallbackGauge("hearth_kv_cache_bytes", "KV cache bytes allocated",
                         sched([](const SchedulerStats& st) { return st.kv_bytes_total; }));
    reg.AddCallbackGauge("hearth_resident_memory_bytes", "Resident set size of the process", [] {
      Result<RssInfo> r = ProcessRss();
      return r.ok() ? static_cast<double>(r->current_bytes) : 0.0;
    });
    for (ServerState st : {ServerState::kVerifying, ServerState::kLoading, ServerState::kWarming,
                           ServerState::kReady, ServerState::kDraining, ServerState::kFailed}) {
      reg.AddCallbackGauge("hearth_model_state", "1 for the server's current lifecycle state",
                           [s, st] { return s->state() == st ? 1.0 : 0.0; },
                           {{"state", std::string(ServerStateName(st))}});
    }
  }

  Registry reg;
  CounterFamily* requests;
  CounterFamily* errors;
  Histogram* ttft;
  Histogram* tpot;
  Histogram* e2e;
  Counter* tokens;
  Counter* prompt_tokens;
  CounterFamily* cancelled;
  CounterFamily* rate_limited;
};

}  // namespace hearth::server
