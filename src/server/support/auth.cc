#include "server/support/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <initializer_list>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "base/json.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace hearth::server {

// Remembers accepted signed requests so an identical one is refused within
// the skew window. Entries sit in insertion order; an entry can be dropped
// once its timestamp is outside the window (a replay of it would be refused
// as stale anyway). When more than `capacity` entries are live, the oldest is
// evicted, which re-opens a replay of that one request: at the default 100k
// entries per 2 x 60 s window that takes > 800 signed requests/s, far beyond
// what one on-device server handles. Thread-safe.
class ReplayCache {
 public:
  ReplayCache(size_t capacity, int window_s)
      : capacity_(capacity == 0 ? 1 : capacity), window_s_(window_s) {}

  // True if `key` is new (and is now remembered), false if it was seen.
  bool CheckAndInsert(std::string key, int64_t ts, int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    while (!order_.empty() && order_.front().expires_at < now) Pop();
    if (index_.count(key) != 0) return false;
    while (order_.size() >= capacity_) Pop();
    order_.push_back(Entry{std::move(key), ts + window_s_});
    index_.emplace(order_.back().key, std::prev(order_.end()));
    return true;
  }

 private:
  struct Entry {
    std::string key;
    int64_t expires_at;  // unix seconds after which the request is stale
  };
  void Pop() {
    index_.erase(order_.front().key);
    order_.pop_front();
  }

  const size_t capacity_;
  const int window_s_;
  std::mutex mu_;
  std::list<Entry> order_;  // list nodes never move, so the views below stay valid
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

namespace {

constexpr size_t kMaxKeysFileBytes = size_t{1} << 20;

AuthError Unauthorized(std::string_view message) {
  return AuthError{401, "unauthorized", std::string(message)};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 64 hex digits -> 32 bytes. lower_only: refuse upper-case digits.
bool DecodeHex32(std::string_view hex, bool lower_only, std::array<uint8_t, 32>* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    char a = hex[2 * i], b = hex[2 * i + 1];
    int hi = HexValue(a), lo = HexValue(b);
    if (hi < 0 || lo < 0) return false;
    if (lower_only && ((a >= 'A' && a <= 'F') || (b >= 'A' && b <= 'F'))) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::array<uint8_t, 32> Sha256Bytes(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Final();
}

// Members of a keys-file object: every name once, only `allowed` ones, all present.
Status CheckMembers(const json::Value& obj, std::initializer_list<std::string_view> allowed,
                    const std::string& where) {
  const auto& members = obj.as_object();
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string& name = members[i].first;
    bool known = false;
    for (std::string_view a : allowed) known = known || name == a;
    if (!known) {
      return InvalidArgumentError(where + ": unknown field '" + EscapeForDisplay(name) + "'",
                                  "api_keys.unknown_field");
    }
    for (size_t j = 0; j < i; ++j) {
      if (members[j].first == name) {
        return InvalidArgumentError(where + ": field '" + name + "' appears twice",
                                    "api_keys.syntax");
      }
    }
  }
  for (std::string_view a : allowed) {
    if (obj.Find(a) == nullptr) {
      return InvalidArgumentError(where + ": missing field '" + std::string(a) + "'",
                                  "api_keys.missing_field");
    }
  }
  return Status::Ok();
}

// Checks the type and mode of an open keys file, then reads it.
Result<std::string> ReadKeysFile(int fd, const std::string& path) {
  // fstat on the descriptor: the mode we check is that of the file we read.
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoError("stat of API keys file '" + path + "'", errno);
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError("API keys file '" + path + "' is not a regular file",
                                "api_keys.not_regular");
  }
  if ((st.st_mode & 077) != 0) {
    return PermissionDeniedError(
        StrFormat("API keys file '%s' has mode %04o: it must not be accessible by group or "
                  "others (run: chmod 600 '%s')",
                  path.c_str(), static_cast<unsigned>(st.st_mode & 07777), path.c_str()),
        "api_keys.permissions");
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("reading API keys file '" + path + "'", errno);
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxKeysFileBytes) {
      return ResourceExhaustedError("API keys file '" + path + "' is larger than 1 MiB",
                                    "api_keys.too_large");
    }
  }
  return text;
}

// Decodes %XX escapes (invalid ones are kept literally).
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) << 4 | HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "/a//b/./c/../d" -> "/a/b/d", '\' treated as '/', lower-cased: the most
// inclusive reading of a path, used only to decide whether it is an admin path.
std::string CanonicalPathForPolicy(std::string_view raw) {
  std::string decoded = PercentDecode(raw);
  std::vector<std::string> segments;
  std::string cur;
  auto flush = [&]() {
    if (cur == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!cur.empty() && cur != ".") {
      segments.push_back(cur);
    }
    cur.clear();
  };
  for (char c : decoded) {
    if (c == '/' || c == '\\') {
      flush();
    } else {
      cur.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  flush();
  std::string out;
  for (const std::string& seg : segments) out += "/" + seg;
  return out.empty() ? "/" : out;
}

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kUser ? "user" : role == Role::kAdmin ? "admin" : "none";
}

// ---------------------------------------------------------------- ApiKeys

Result<ApiKeys> ApiKeys::Load(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("opening API keys file '" + path + "'", errno);
  Result<std::string> text = ReadKeysFile(fd, path);
  close(fd);
  if (!text.ok()) return text.status();
  Result<ApiKeys> keys = Parse(*text);
  if (!keys.ok()) return keys.status().WithContext("API keys file '" + path + "'");
  return keys;
}

Result<ApiKeys> ApiKeys::Parse(std::string_view json_text) {
  Result<json::Value> doc = json::Parse(json_text);
  if (!doc.ok()) {
    return InvalidArgumentError("not valid JSON: " + doc.status().message(), "api_keys.syntax");
  }
  if (!doc->is_object()) {
    return InvalidArgumentError("expected an object {\"keys\": [...]}", "api_keys.syntax");
  }
  HEARTH_RETURN_IF_ERROR(CheckMembers(*doc, {"keys"}, "top level"));
  const json::Value& list = *doc->Find("keys");
  if (!list.is_array()) {
    return InvalidArgumentError("field 'keys' must be an array", "api_keys.syntax");
  }
  ApiKeys out;
  for (size_t i = 0; i < list.as_array().size(); ++i) {
    const json::Value& k = list.as_array()[i];
    std::string where = StrFormat("keys[%zu]", i);
    if (!k.is_object()) {
      return InvalidArgumentError(where + ": must be an object", "api_keys.syntax");
    }
    HEARTH_RETURN_IF_ERROR(CheckMembers(k, {"id", "role", "sha256"}, where));
    const json::Value* id = k.Find("id");
    const json::Value* role = k.Find("role");
    const json::Value* hash = k.Find("sha256");
    if (!id->is_string() || !role->is_string() || !hash->is_string()) {
      return InvalidArgumentError(where + ": id, role and sha256 must be strings",
                                  "api_keys.syntax");
    }
    Role r = Role::kNone;
    if (role->as_string() == "user") r = Role::kUser;
    if (role->as_string() == "admin") r = Role::kAdmin;
    if (r == Role::kNone) {
      return InvalidArgumentError(where + ": role must be \"user\" or \"admin\", not '" +
                                      EscapeForDisplay(role->as_string()) + "'",
                                  "api_keys.bad_role");
    }
    Status s = out.Add(id->as_string(), r, hash->as_string());
    if (!s.ok()) return std::move(s).WithContext(where);
  }
  return out;
}

Status ApiKeys::Add(std::string id, Role role, std::string_view sha256_hex) {
  if (!ValidKeyId(id)) {
    return InvalidArgumentError(
        "key id '" + EscapeForDisplay(id) + "' must be 1-64 characters of [A-Za-z0-9_.-]",
        "api_keys.bad_id");
  }
  if (Find(id) != nullptr) {
    return InvalidArgumentError("duplicate key id '" + id + "'", "api_keys.duplicate_id");
  }
  if (role != Role::kUser && role != Role::kAdmin) {
    return InvalidArgumentError("role must be user or admin", "api_keys.bad_role");
  }
  ApiKey key;
  if (!DecodeHex32(sha256_hex, /*lower_only=*/false, &key.sha256)) {
    return InvalidArgumentError("sha256 of key '" + id + "' must be 64 hex digits",
                                "api_keys.bad_hash");
  }
  // Two ids sharing one secret would make a Bearer request ambiguous.
  for (const ApiKey& k : keys_) {
    if (k.sha256 == key.sha256) {
      return InvalidArgumentError("key '" + id + "' has the same secret as key '" + k.id + "'",
                                  "api_keys.duplicate_hash");
    }
  }
  key.id = std::move(id);
  key.role = role;
  keys_.push_back(std::move(key));
  return Status::Ok();
}

std::string ApiKeys::ToJson() const {
  json::Value::Array list;
  for (const ApiKey& k : keys_) {
    list.push_back(
        json::Value::Object{{"id", k.id}, {"role", RoleName(k.role)}, {"sha256", ToHex(k.sha256)}});
  }
  return json::Serialize(json::Value::Object{{"keys", std::move(list)}}, /*indent=*/2) + "\n";
}

const ApiKey* ApiKeys::Find(std::string_view id) const {
  for (const ApiKey& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

// ---------------------------------------------------------------- primitives

std::string HashApiKey(std::string_view secret) {
  return Sha256Hex(secret);
}

Result<std::string> GenerateApiKeySecret() {
  unsigned char bytes[32], b64[48];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return InternalError("the OS random generator failed (RAND_bytes)");
  }
  // base64 -> base64url without padding: 32 bytes give 43 characters.
  int n = EVP_EncodeBlock(b64, bytes, sizeof(bytes));
  std::string out = "hk_" + std::string(reinterpret_cast<const char*>(b64), n);
  while (out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  OPENSSL_cleanse(bytes, sizeof(bytes));
  OPENSSL_cleanse(b64, sizeof(b64));
  return out;
}

std::array<uint8_t, 32> HmacSha256(std::string_view key, std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return ToHex(HmacSha256(key, data));
}

std::string StringToSign(std::string_view method, std::string_view target,
                         std::string_view timestamp, std::string_view body) {
  std::string s;
  s.reserve(method.size() + target.size() + timestamp.size() + 67);
  s.append(method).append("\n").append(target).append("\n").append(timestamp).append("\n");
  s.append(Sha256Hex(body));
  return s;
}

std::string SignRequest(std::string_view secret, std::string_view method, std::string_view target,
                        int64_t ts, std::string_view body) {
  std::array<uint8_t, 32> key = Sha256Bytes(secret);
  std::string_view key_view(reinterpret_cast<const char*>(key.data()), key.size());
  return HmacSha256Hex(key_view, StringToSign(method, target, std::to_string(ts), body));
}

// ---------------------------------------------------------------- Authenticator

Authenticator::Authenticator(ApiKeys keys, int skew_s, size_t replay_capacity)
    : enabled_(true),
      keys_(std::move(keys)),
      skew_s_(skew_s < 0 ? 0 : skew_s),
      replay_(std::make_unique<ReplayCache>(replay_capacity, skew_s < 0 ? 0 : skew_s)) {}

Authenticator Authenticator::Disabled() {
  return Authenticator();
}

Authenticator::Authenticator(Authenticator&&) noexcept = default;
Authenticator& Authenticator::operator=(Authenticator&&) noexcept = default;
Authenticator::~Authenticator() = default;

std::variant<Principal, AuthError> Authenticator::Authenticate(std::string_view method,
                                                               std::string_view target,
                                                               const HeaderFn& header,
                                                               std::string_view body,
                                                               int64_t now_unix_s) {
  if (!enabled_) return Principal{"", Role::kAdmin};
  const std::string* auth = header("authorization");
  if (auth == nullptr) return Unauthorized(kMsgMissingKey);
  // "<scheme> <credentials>"; the scheme is case-insensitive (RFC 9110 §11.1).
  std::string_view value = StripWhitespace(*auth);
  size_t sp = value.find_first_of(" \t");
  std::string_view scheme = value.substr(0, sp);
  std::string_view cred = sp == std::string_view::npos ? "" : StripWhitespace(value.substr(sp));
  if (cred.empty()) return Unauthorized(kMsgMissingKey);
  if (EqualsIgnoreCase(scheme, "bearer")) return AuthenticateBearer(cred);
  if (EqualsIgnoreCase(scheme, "apikey")) {
    return AuthenticateSigned(cred, method, target, header, body, now_unix_s);
  }
  return Unauthorized(kMsgMissingKey);
}

std::variant<Principal, AuthError> Authenticator::AuthenticateBearer(
    std::string_view secret) const {
  std::array<uint8_t, 32> presented = Sha256Bytes(secret);
  // Compare with every stored hash, in constant time, without stopping at the
  // first match, so timing reveals neither which key nor how many bytes match.
  const ApiKey* found = nullptr;
  for (const ApiKey& k : keys_.keys()) {
    bool eq = CRYPTO_memcmp(presented.data(), k.sha256.data(), presented.size()) == 0;
    found = eq ? &k : found;
  }
  if (found == nullptr) return Unauthorized(kMsgInvalidKey);
  return Principal{found->id, found->role};
}

std::variant<Principal, AuthError> Authenticator::AuthenticateSigned(
    std::string_view key_id, std::string_view method, std::string_view target,
    const HeaderFn& header, std::string_view body, int64_t now_unix_s) {
  const ApiKey* key = keys_.Find(key_id);
  if (key == nullptr) return Unauthorized(kMsgInvalidKey);
  const std::string* ts_header = header("x-timestamp");
  const std::string* sig_header = header("x-signature");
  if (ts_header == nullptr || sig_header == nullptr) return Unauthorized(kMsgMissingSignature);

  // Unix seconds as 1-18 plain digits: no sign, no fraction, no overflow below.
  std::string_view ts_text = StripWhitespace(*ts_header);
  if (ts_text.empty() || ts_text.size() > 18) return Unauthorized(kMsgBadTimestamp);
  int64_t ts = 0;
  for (char c : ts_text) {
    if (c < '0' || c > '9') return Unauthorized(kMsgBadTimestamp);
    ts = ts * 10 + (c - '0');
  }
  int64_t skew = now_unix_s > ts ? now_unix_s - ts : ts - now_unix_s;
  if (skew > skew_s_) return Unauthorized(kMsgStale);

  std::array<uint8_t, 32> presented{};
  if (!DecodeHex32(StripWhitespace(*sig_header), /*lower_only=*/true, &presented)) {
    return Unauthorized(kMsgBadSignature);
  }
  std::string_view hmac_key(reinterpret_cast<const char*>(key->sha256.data()), key->sha256.size());
  std::array<uint8_t, 32> expected =
      HmacSha256(hmac_key, StringToSign(method, target, ts_text, body));
  if (CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) != 0) {
    return Unauthorized(kMsgBadSignature);
  }
  // Only verified requests enter the cache, so unauthenticated traffic cannot
  // flush it. The signature bytes already bind method, target, ts and body.
  std::string replay_key = key->id;
  replay_key.push_back('\0');
  replay_key.append(ts_text);
  replay_key.push_back('\0');
  replay_key.append(reinterpret_cast<const char*>(presented.data()), presented.size());
  if (!replay_->CheckAndInsert(std::move(replay_key), ts, now_unix_s)) {
    return Unauthorized(kMsgReplayed);
  }
  return Principal{key->id, key->role};
}

Role Authenticator::RequiredRole(std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  // Public probes match exactly, on the raw path: "/health/../admin" is not public.
  for (std::string_view p : {"/health", "/healthz", "/ready", "/readyz"}) {
    if (path == p) return Role::kNone;
  }
  std::string canon = CanonicalPathForPolicy(path);
  if (canon == "/admin" || StartsWith(canon, "/admin/")) return Role::kAdmin;
  return Role::kUser;
}

std::optional<AuthError> Authenticator::Authorize(const Principal& principal, Role required) {
  switch (required) {
    case Role::kNone:
      return std::nullopt;
    case Role::kUser:
      if (principal.role == Role::kUser || principal.role == Role::kAdmin) return std::nullopt;
      break;
    case Role::kAdmin:
      if (principal.role == Role::kAdmin) return std::nullopt;
      break;
  }
  if (principal.role == Role::kNone) return Unauthorized(kMsgMissingKey);
  return AuthError{403, "forbidden", std::string(kMsgForbidden)};
}

std::variant<Principal, AuthError> Authenticator::Check(std::string_view method,
                                                        std::string_view target,
                                                        const HeaderFn& header,
                                                        std::string_view body, int64_t now_unix_s) {
  if (!enabled_) return Principal{"", Role::kAdmin};
  Role required = RequiredRole(target);
  if (required == Role::kNone) return Principal{};
  std::variant<Principal, AuthError> who = Authenticate(method, target, header, body, now_unix_s);
  if (std::holds_alternative<AuthError>(who)) return who;
  if (std::optional<AuthError> denied = Authorize(std::get<Principal>(who), required)) {
    return *std::move(denied);
  }
  return who;
}

}  // namespace hearth::server
