#include "server/support/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace hearth::server {
namespace {

// Refill arithmetic is in doubles; a bucket within this of a whole token
// counts as holding it, so that e.g. 0.1 s x 10/s refills exactly one token.
constexpr double kEpsilon = 1e-9;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int64_t RateDecision::RetryAfterHeaderSeconds() const {
  double s = std::ceil(retry_after_s - kEpsilon);
  return s < 1 ? 1 : static_cast<int64_t>(s);
}

RateLimiter::RateLimiter(const RateLimitConfig& config, Clock clock)
    : max_clients_(std::max<size_t>(1, config.max_clients)), clock_(std::move(clock)) {
  auto limits = [](double rate, double burst) {
    Limits l;
    l.rate = rate > 0 && std::isfinite(rate) ? rate : 0;
    double b = burst > 0 && std::isfinite(burst) ? burst : std::max(1.0, l.rate);
    l.burst = std::max(1.0, b);
    return l;
  };
  client_ = limits(config.client_rate, config.client_burst);
  global_ = limits(config.global_rate, config.global_burst);
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  global_bucket_.tokens = global_.burst;
  global_bucket_.last = clock_();
}

void RateLimiter::Refill(const Limits& limits, Bucket* b, TimePoint now) {
  if (now <= b->last) return;  // a clock that stood still (or stepped back): no refill
  b->tokens = std::min(limits.burst, b->tokens + Seconds(now - b->last) * limits.rate);
  b->last = now;
}

bool RateLimiter::IsFull(const Limits& limits, const Bucket& b, TimePoint now) {
  double elapsed = now > b.last ? Seconds(now - b.last) : 0;
  return b.tokens + elapsed * limits.rate >= limits.burst - kEpsilon;
}

void RateLimiter::DropIdle(TimePoint now, size_t max_drops) {
  for (size_t i = 0; i < max_drops && !lru_.empty(); ++i) {
    if (!IsFull(client_, lru_.front().bucket, now)) return;
    index_.erase(lru_.front().key);
    lru_.pop_front();
  }
}

RateLimiter::Bucket* RateLimiter::FindOrAddClient(std::string_view key, TimePoint now) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    lru_.splice(lru_.end(), lru_, it->second);  // most recently used; iterators stay valid
    return &it->second->bucket;
  }
  // A new client: make room. Idle buckets go first (no state is lost), then,
  // if every bucket is still refilling, the least recently used one.
  DropIdle(now, lru_.size());
  while (lru_.size() >= max_clients_) {
    index_.erase(lru_.front().key);
    lru_.pop_front();
  }
  lru_.push_back(Client{std::string(key), Bucket{client_.burst, now}});
  index_.emplace(lru_.back().key, std::prev(lru_.end()));
  return &lru_.back().bucket;
}

RateDecision RateLimiter::Check(std::string_view client) {
  if (!enabled()) return RateDecision{};
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_();
  Bucket* cb = nullptr;
  if (client_.rate > 0) {
    DropIdle(now, 4);  // keeps memory proportional to the active clients
    cb = FindOrAddClient(client, now);
    Refill(client_, cb, now);
  }
  if (global_.rate > 0) Refill(global_, &global_bucket_, now);

  RateDecision d;
  if (cb != nullptr && cb->tokens < 1 - kEpsilon) {
    d.allowed = false;
    d.scope = "client";
    d.retry_after_s = (1 - cb->tokens) / client_.rate;
    return d;
  }
  if (global_.rate > 0 && global_bucket_.tokens < 1 - kEpsilon) {
    d.allowed = false;
    d.scope = "global";
    d.retry_after_s = (1 - global_bucket_.tokens) / global_.rate;
    return d;
  }
  if (cb != nullptr) cb->tokens = std::max(0.0, cb->tokens - 1);
  if (global_.rate > 0) global_bucket_.tokens = std::max(0.0, global_bucket_.tokens - 1);
  return d;
}

size_t RateLimiter::tracked_clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

std::string RateLimiter::ClientKey(std::string_view key_id, std::string_view peer_ip) {
  if (!key_id.empty()) return "key:" + std::string(key_id);
  return "ip:" + std::string(peer_ip);
}

}  // namespace hearth::server
