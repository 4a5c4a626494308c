// API keys and request authentication for `hearth serve` (DESIGN §6, book 13.5).
//
// Keys file (`--api-keys FILE`), JSON, mode 0600 (anything readable or
// writable by group/other is refused):
//
//   {"keys": [{"id": "k_user_1",  "role": "user",  "sha256": "<64 hex>"},
//             {"id": "k_admin_1", "role": "admin", "sha256": "<64 hex>"}]}
//
// Only SHA-256(secret) is stored, never the secret itself. Secrets look like
// "hk_" + base64url(32 random bytes) (GenerateApiKeySecret).
//
// Every request authenticates in one of two ways:
//
//  1. `Authorization: Bearer <secret>` (what OpenAI SDKs send). The server
//     hashes the presented secret and compares it with every stored hash in
//     constant time. There is no replay protection in this mode: a bearer
//     secret is a static credential (use it on loopback or behind TLS).
//
//  2. Signed mode (the book's scheme, hardened):
//       Authorization: ApiKey <key_id>
//       X-Timestamp:   <unix seconds, decimal digits>
//       X-Signature:   <lower-case hex HMAC-SHA256(key, string_to_sign)>
//     string_to_sign = METHOD "\n" TARGET "\n" TIMESTAMP "\n" sha256_hex(body)
//     where TARGET is the request-target exactly as sent on the request line
//     (path AND query string, not decoded; the book signs the path only and
//     leaves query parameters open to tampering, ambiguity 26), TIMESTAMP is
//     the X-Timestamp header text, and the body hash covers the raw bytes as
//     received (lower-case hex; the hash of an empty body for GET).
//     Because the server stores only SHA-256(secret), the HMAC key is the 32
//     raw bytes of SHA-256(secret): a client computes
//       key = sha256(secret)            # raw digest, not hex
//       sig = hmac_sha256(key, string_to_sign).hexdigest()
//     (SignRequest below does exactly that.) A request is accepted when
//     |now - ts| <= skew (60 s by default) and the same (key id, timestamp,
//     signature) has not been accepted before within the window; a repeat is
//     refused as "Replayed request" (the book's ±60 s window alone allows
//     replays, ambiguity 26).
//
// Roles: admin may do everything a user may (DESIGN §6; the book's equality
// check would lock admins out of /v1/chat, ambiguity 15). Route policy is deny
// by default: only the health/readiness probes are public, /admin... needs
// admin, everything else (including unknown paths) needs at least user.
//
// Without a keys file the server runs in Authenticator::Disabled() mode
// (loopback only, DESIGN §6): every request is allowed, as with llama.cpp or
// Ollama on localhost.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace hearth::server {

// kNone: no key (public routes, or a request that did not authenticate).
enum class Role { kNone, kUser, kAdmin };
// "none", "user", "admin".
std::string_view RoleName(Role role);

// Who made a request. key_id is empty when auth is disabled.
struct Principal {
  std::string key_id;
  Role role = Role::kNone;
};

// A refusal: 401 "unauthorized" or 403 "forbidden", with the stable message
// (one of the kMsg* constants below). The server puts code/message into the
// error envelope (and, for 401, may add `WWW-Authenticate: Bearer`).
struct AuthError {
  int http_status = 401;
  std::string code;
  std::string message;
};

// The exact messages (book 13.5's table, plus the replay case).
inline constexpr std::string_view kMsgMissingKey = "Missing API key";
inline constexpr std::string_view kMsgInvalidKey = "Invalid API key";
inline constexpr std::string_view kMsgMissingSignature = "Missing signature headers";
inline constexpr std::string_view kMsgBadTimestamp = "Bad timestamp";
inline constexpr std::string_view kMsgStale = "Stale request";
inline constexpr std::string_view kMsgBadSignature = "Bad signature";
inline constexpr std::string_view kMsgReplayed = "Replayed request";
inline constexpr std::string_view kMsgForbidden = "Forbidden";

// One entry of the keys file.
struct ApiKey {
  std::string id;                    // [A-Za-z0-9_.-]{1,64}
  Role role = Role::kUser;           // kUser or kAdmin
  std::array<uint8_t, 32> sha256{};  // SHA-256 of the secret
};

class ApiKeys {
 public:
  ApiKeys() = default;

  // Reads and parses a keys file. Refuses (PermissionDenied, reason
  // "api_keys.permissions") a file whose mode has any group/other bit set,
  // naming the mode and the chmod that fixes it; also a non-regular file or
  // one larger than 1 MiB.
  static Result<ApiKeys> Load(const std::string& path);
  // Strict parse: only the members shown above, all required; no duplicate
  // member names, key ids or hashes; sha256 exactly 64 hex digits; role
  // user|admin.
  // Errors are InvalidArgument with reasons "api_keys.syntax",
  // "api_keys.unknown_field", "api_keys.missing_field", "api_keys.bad_id",
  // "api_keys.duplicate_id", "api_keys.duplicate_hash", "api_keys.bad_hash",
  // "api_keys.bad_role".
  // An empty "keys" array is valid (an enabled Authenticator with no keys
  // refuses every request).
  static Result<ApiKeys> Parse(std::string_view json_text);

  // Adds a key (for a `hearth serve keys add` command). Same checks as Parse.
  Status Add(std::string id, Role role, std::string_view sha256_hex);
  // The keys file text (pretty JSON, trailing newline). The caller writes it
  // with mode 0600, or Load will refuse it.
  std::string ToJson() const;

  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<ApiKey>& keys() const { return keys_; }
  // Lookup by id (ids are not secret; plain comparison), or nullptr.
  const ApiKey* Find(std::string_view id) const;

 private:
  std::vector<ApiKey> keys_;
};

// Lower-case hex SHA-256 of a secret: the value stored in the keys file.
std::string HashApiKey(std::string_view secret);
// A new secret: "hk_" + base64url (no padding) of 32 bytes from the OS CSPRNG.
Result<std::string> GenerateApiKeySecret();

// HMAC-SHA256 (RFC 2104) through OpenSSL.
std::array<uint8_t, 32> HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// METHOD "\n" TARGET "\n" TIMESTAMP "\n" sha256_hex(body).
std::string StringToSign(std::string_view method, std::string_view target,
                         std::string_view timestamp, std::string_view body);
// Client side of signed mode (for tests, docs and tools): the X-Signature
// value for a request, keyed with the raw SHA-256 of `secret`.
std::string SignRequest(std::string_view secret, std::string_view method, std::string_view target,
                        int64_t ts, std::string_view body);

class ReplayCache;

class Authenticator {
 public:
  // Header lookup by lower-case name; nullptr when absent.
  using HeaderFn = std::function<const std::string*(std::string_view)>;

  // Enabled mode with these keys. skew_s: allowed |now - ts| in seconds.
  // replay_capacity: most remembered signed requests (see ReplayCache).
  explicit Authenticator(ApiKeys keys, int skew_s = 60, size_t replay_capacity = 100000);
  // Auth off (no keys file, loopback only): every request is allowed as an
  // anonymous admin (key_id "").
  static Authenticator Disabled();

  Authenticator(Authenticator&&) noexcept;
  Authenticator& operator=(Authenticator&&) noexcept;
  ~Authenticator();

  bool enabled() const { return enabled_; }
  const ApiKeys& keys() const { return keys_; }

  // Identifies the caller (Bearer or signed mode). `target` is the raw
  // request-target (path?query); `body` the raw body bytes; now_unix_s the
  // wall clock (injected for tests). Thread-safe.
  std::variant<Principal, AuthError> Authenticate(std::string_view method, std::string_view target,
                                                  const HeaderFn& header, std::string_view body,
                                                  int64_t now_unix_s);

  // The role a route needs (deny by default). `path` may carry a query.
  //   /health /healthz /ready /readyz (exactly)      -> kNone (public)
  //   /admin, /admin/...  (after decoding %XX, collapsing "//", resolving
  //                        dot segments; case-insensitive) -> kAdmin
  //   anything else (/v1/..., /generate, /metrics, unknown)  -> kUser
  static Role RequiredRole(std::string_view path);
  // nullopt when `principal` may use a route needing `required`: admin ⊇ user.
  static std::optional<AuthError> Authorize(const Principal& principal, Role required);

  // The whole check for one request: route policy, then Authenticate (skipped
  // for public routes, which get an anonymous kNone principal), then
  // Authorize. In Disabled mode always an anonymous admin.
  std::variant<Principal, AuthError> Check(std::string_view method, std::string_view target,
                                           const HeaderFn& header, std::string_view body,
                                           int64_t now_unix_s);

 private:
  Authenticator() = default;
  std::variant<Principal, AuthError> AuthenticateBearer(std::string_view secret) const;
  std::variant<Principal, AuthError> AuthenticateSigned(std::string_view key_id,
                                                        std::string_view method,
                                                        std::string_view target,
                                                        const HeaderFn& header,
                                                        std::string_view body, int64_t now_unix_s);

  bool enabled_ = false;
  ApiKeys keys_;
  int skew_s_ = 60;
  std::unique_ptr<ReplayCache> replay_;  // owns a mutex; heap so we stay movable
};

}  // namespace hearth::server
