// Token-bucket rate limits for `hearth serve` (DESIGN §6, book 13.5 R13.5-11).
//
// Each request costs one token from its client's bucket (client = API key id,
// else the peer IP; see ClientKey) and one from a single global bucket. A
// bucket holds at most `burst` tokens and refills continuously at `rate`
// tokens per second, so a client may send `burst` requests at once and then
// `rate` per second. A request is allowed only if BOTH buckets hold a whole
// token, and then takes from both; a refused request takes nothing. Refusal
// becomes 429 `rate_limited` with `scope` ("client" or "global") and a
// Retry-After header (RetryAfterHeaderSeconds).
//
// Time comes from a monotonic clock (std::chrono::steady_clock, injectable
// for tests). The clock is assumed never to go backwards, which steady_clock
// guarantees; should an injected clock do so anyway, that step is treated as
// zero elapsed time (no refill, never a negative one).
//
// Memory: at most `max_clients` client buckets are kept, in least-recently-
// used order. A bucket that has refilled to full is indistinguishable from a
// new one, so idle buckets are dropped whenever they are found at the LRU end
// (a few per call, and before adding a new client). If the map is still full
// of buckets that are not yet full, the least recently used one is evicted
// anyway: that client gets a fresh burst, which the global bucket still caps.
//
// Thread-safe (one mutex; a Check is a few hash-map operations).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hearth::server {

struct RateLimitConfig {
  // Per-client refill, requests per second; 0 = no per-client limit.
  double client_rate = 0;
  // Per-client bucket size; 0 = max(1, client_rate). Values below 1 become 1
  // (a bucket that can never hold a whole token would refuse everything).
  double client_burst = 0;
  // The same for the one global bucket shared by all clients.
  double global_rate = 0;
  double global_burst = 0;
  // Most client buckets kept (at least 1).
  size_t max_clients = 10000;
};

struct RateDecision {
  bool allowed = true;
  // "" when allowed, else "client" or "global" (the per-client bucket is
  // checked first, so a client over its own limit sees "client").
  std::string_view scope;
  // When refused: seconds until the refusing bucket holds one token.
  double retry_after_s = 0;

  // Retry-After value: whole seconds, rounded up, at least 1.
  int64_t RetryAfterHeaderSeconds() const;
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // clock: defaults to std::chrono::steady_clock::now; must be thread-safe.
  explicit RateLimiter(const RateLimitConfig& config = {}, Clock clock = nullptr);

  // Decides one request of `client` (and takes its tokens when allowed).
  RateDecision Check(std::string_view client);

  // False when both rates are 0: Check always allows and keeps no state.
  bool enabled() const { return client_.rate > 0 || global_.rate > 0; }
  // Client buckets currently held (for tests and /metrics).
  size_t tracked_clients() const;

  // The client identity: "key:<id>" for an API key, else "ip:<peer ip>", so
  // a key id can never collide with an address.
  static std::string ClientKey(std::string_view key_id, std::string_view peer_ip);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Limits {
    double rate = 0;  // tokens per second; 0 = unlimited
    double burst = 1;
  };
  struct Bucket {
    double tokens = 0;
    TimePoint last{};
  };
  struct Client {
    std::string key;
    Bucket bucket;
  };

  static void Refill(const Limits& limits, Bucket* b, TimePoint now);
  static bool IsFull(const Limits& limits, const Bucket& b, TimePoint now);
  // Drops idle (full) buckets from the LRU end; at most `max_drops`.
  void DropIdle(TimePoint now, size_t max_drops);
  Bucket* FindOrAddClient(std::string_view key, TimePoint now);

  Limits client_, global_;
  size_t max_clients_;
  Clock clock_;

  mutable std::mutex mu_;
  Bucket global_bucket_;
  std::list<Client> lru_;  // front = least recently used; nodes never move
  std::unordered_map<std::string_view, std::list<Client>::iterator> index_;
};

}  // namespace hearth::server
