// API keys file, Bearer and signed authentication, route policy (book 13.5).
#include "server/support/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "base/sha256.h"
#include "base/strings.h"
#include "testing/test_paths.h"

namespace hearth::server {
namespace {

constexpr std::string_view kUserSecret = "hk_user-secret-for-tests";
constexpr std::string_view kAdminSecret = "hk_admin-secret-for-tests";
constexpr int64_t kNow = 1710000000;

std::string KeysJson() {
  return "{\"keys\":[{\"id\":\"k_user_1\",\"role\":\"user\",\"sha256\":\"" +
         HashApiKey(kUserSecret) + "\"},{\"id\":\"k_admin_1\",\"role\":\"admin\",\"sha256\":\"" +
         HashApiKey(kAdminSecret) + "\"}]}";
}

Authenticator MakeAuth(size_t replay_capacity = 100000) {
  Result<ApiKeys> keys = ApiKeys::Parse(KeysJson());
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  return Authenticator(std::move(keys).value(), 60, replay_capacity);
}

// A request as the server sees it: lower-case header names.
struct Req {
  std::string method = "POST";
  std::string target = "/v1/chat/completions";
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  std::map<std::string, std::string> headers;

  Authenticator::HeaderFn Headers() const {
    return [this](std::string_view name) -> const std::string* {
      auto it = headers.find(std::string(name));
      return it == headers.end() ? nullptr : &it->second;
    };
  }
  // Signs as a client would, with the current method/target/body.
  void Sign(std::string_view key_id, std::string_view secret, int64_t ts) {
    headers["authorization"] = "ApiKey " + std::string(key_id);
    headers["x-timestamp"] = std::to_string(ts);
    headers["x-signature"] = SignRequest(secret, method, target, ts, body);
  }
};

std::variant<Principal, AuthError> Authn(Authenticator& auth, const Req& r, int64_t now = kNow) {
  return auth.Authenticate(r.method, r.target, r.Headers(), r.body, now);
}
std::variant<Principal, AuthError> RunCheck(Authenticator& auth, const Req& r, int64_t now = kNow) {
  return auth.Check(r.method, r.target, r.Headers(), r.body, now);
}

// Expects a refusal with this status and message.
void ExpectError(const std::variant<Principal, AuthError>& got, int status,
                 std::string_view message) {
  ASSERT_TRUE(std::holds_alternative<AuthError>(got)) << "expected " << message;
  const AuthError& e = std::get<AuthError>(got);
  EXPECT_EQ(e.http_status, status);
  EXPECT_EQ(e.code, status == 401 ? "unauthorized" : "forbidden");
  EXPECT_EQ(e.message, message);
}
void ExpectPrincipal(const std::variant<Principal, AuthError>& got, std::string_view id,
                     Role role) {
  ASSERT_TRUE(std::holds_alternative<Principal>(got))
      << "refused: " << std::get<AuthError>(got).message;
  EXPECT_EQ(std::get<Principal>(got).key_id, id);
  EXPECT_EQ(std::get<Principal>(got).role, role);
}

// ------------------------------------------------------------ primitives

TEST(AuthHmacTest, Rfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AuthHmacTest, SignatureMatchesOpensslCommandLine) {
  if (testing::RunCommand("command -v openssl").exit_code != 0) {
    GTEST_SKIP() << "openssl command not found";
  }
  const std::string target = "/v1/chat/completions?stream=true";
  const std::string body = R"({"prompt":"hi","max_new_tokens":10})";
  const std::string message = StringToSign("POST", target, std::to_string(kNow), body);
  EXPECT_EQ(message, "POST\n" + target + "\n" + std::to_string(kNow) + "\n" + Sha256Hex(body));
  const std::string dir = testing::TempDir();
  { std::ofstream(dir + "/msg", std::ios::binary) << message; }
  // The HMAC key is the raw SHA-256 of the secret, i.e. the stored hash as hex.
  testing::CommandResult r = testing::RunCommand("openssl dgst -sha256 -mac HMAC -macopt hexkey:" +
                                                 HashApiKey(kUserSecret) + " " + dir + "/msg");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string_view out = StripWhitespace(r.output);
  std::string want(out.substr(out.rfind(' ') + 1));
  ASSERT_EQ(want.size(), 64u) << r.output;
  EXPECT_EQ(SignRequest(kUserSecret, "POST", target, kNow, body), want);
}

TEST(AuthKeysTest, HashAndGeneratedSecrets) {
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Result<std::string> a = GenerateApiKeySecret(), b = GenerateApiKeySecret();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  ASSERT_EQ(a->size(), 3u + 43u);  // "hk_" + base64url(32 bytes), no padding
  EXPECT_TRUE(StartsWith(*a, "hk_"));
  for (char c : a->substr(3)) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  }
}

// ------------------------------------------------------------ keys file

TEST(AuthKeysTest, ParsesAndRoundTrips) {
  Result<ApiKeys> keys = ApiKeys::Parse(KeysJson());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 2u);
  ASSERT_NE(keys->Find("k_admin_1"), nullptr);
  EXPECT_EQ(keys->Find("k_admin_1")->role, Role::kAdmin);
  EXPECT_EQ(keys->Find("nope"), nullptr);
  Result<ApiKeys> again = ApiKeys::Parse(keys->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), keys->ToJson());
  EXPECT_TRUE(ApiKeys::Parse(R"({"keys":[]})").ok());
  // Upper-case hex is accepted in the file and stored as bytes.
  std::string upper = HashApiKey(kUserSecret);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(
      ApiKeys::Parse(R"({"keys":[{"id":"a","role":"user","sha256":")" + upper + "\"}]}").ok());
}

TEST(AuthKeysTest, RefusesMalformedFiles) {
  const std::string h = HashApiKey("x");
  auto reason = [](std::string_view text) {
    Result<ApiKeys> r = ApiKeys::Parse(text);
    return r.ok() ? std::string("ok") : r.status().reason();
  };
  auto one = [&](std::string_view key_json) {
    return "{\"keys\":[" + std::string(key_json) + "]}";
  };
  EXPECT_EQ(reason("{"), "api_keys.syntax");
  EXPECT_EQ(reason("[]"), "api_keys.syntax");
  EXPECT_EQ(reason(R"({"keys":{}})"), "api_keys.syntax");
  EXPECT_EQ(reason(R"({"keys":[],"version":1})"), "api_keys.unknown_field");
  EXPECT_EQ(reason(R"({"keys":[],"keys":[]})"), "api_keys.syntax");
  EXPECT_EQ(reason(R"({})"), "api_keys.missing_field");
  EXPECT_EQ(reason(one(R"({"id":"a","role":"user","sha256":")" + h + R"(","note":"x"})")),
            "api_keys.unknown_field");
  EXPECT_EQ(reason(one(R"({"id":"a","role":"user"})")), "api_keys.missing_field");
  EXPECT_EQ(reason(one(R"({"id":"a","role":"root","sha256":")" + h + "\"}")), "api_keys.bad_role");
  EXPECT_EQ(reason(one(R"({"id":"a","role":"Admin","sha256":")" + h + "\"}")), "api_keys.bad_role");
  EXPECT_EQ(reason(one(R"({"id":"a","role":"user","sha256":")" + h.substr(1) + "\"}")),
            "api_keys.bad_hash");
  EXPECT_EQ(reason(one(R"({"id":"a","role":"user","sha256":"g)" + h.substr(1) + "\"}")),
            "api_keys.bad_hash");
  EXPECT_EQ(reason(one(R"({"id":"a b","role":"user","sha256":")" + h + "\"}")), "api_keys.bad_id");
  EXPECT_EQ(reason(one(R"({"id":"","role":"user","sha256":")" + h + "\"}")), "api_keys.bad_id");
  EXPECT_EQ(reason(one(R"({"id":7,"role":"user","sha256":")" + h + "\"}")), "api_keys.syntax");
  const std::string k = R"({"id":"a","role":"user","sha256":")" + h + "\"}";
  EXPECT_EQ(reason(one(k + "," + k)), "api_keys.duplicate_id");
  EXPECT_EQ(reason(one(k + R"(,{"id":"b","role":"admin","sha256":")" + h + "\"}")),
            "api_keys.duplicate_hash");
}

TEST(AuthKeysTest, LoadRefusesGroupOrOtherAccess) {
  const std::string path = testing::TempDir() + "/keys.json";
  { std::ofstream(path) << KeysJson(); }
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    Result<ApiKeys> r = ApiKeys::Load(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(r.status().reason(), "api_keys.permissions");
    EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos) << r.status().message();
  }
  for (mode_t mode : {0600, 0400}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    Result<ApiKeys> r = ApiKeys::Load(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->size(), 2u);
  }
  EXPECT_EQ(ApiKeys::Load(path + ".missing").status().code(), StatusCode::kNotFound);
  // A parse error names the file.
  { std::ofstream(path, std::ios::trunc) << "{\"keys\":[1]}"; }
  Result<ApiKeys> bad = ApiKeys::Load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
}

// ------------------------------------------------------------ Bearer mode

TEST(AuthBearerTest, AcceptsStoredKeysOnly) {
  Authenticator auth = MakeAuth();
  Req r;
  r.headers["authorization"] = "Bearer " + std::string(kUserSecret);
  ExpectPrincipal(Authn(auth, r), "k_user_1", Role::kUser);
  r.headers["authorization"] = "bearer   " + std::string(kAdminSecret) + " ";
  ExpectPrincipal(Authn(auth, r), "k_admin_1", Role::kAdmin);
  // Bearer needs no signature and no timestamp; the clock does not matter.
  ExpectPrincipal(Authn(auth, r, 0), "k_admin_1", Role::kAdmin);
  r.headers["authorization"] = "Bearer " + std::string(kUserSecret) + "x";
  ExpectError(Authn(auth, r), 401, kMsgInvalidKey);
  r.headers["authorization"] = "Bearer " + HashApiKey(kUserSecret);  // the hash is not the key
  ExpectError(Authn(auth, r), 401, kMsgInvalidKey);
}

TEST(AuthBearerTest, MissingOrForeignSchemes) {
  Authenticator auth = MakeAuth();
  Req r;
  ExpectError(Authn(auth, r), 401, kMsgMissingKey);
  for (const std::string& v :
       std::vector<std::string>{"", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc",
                                std::string(kUserSecret)}) {
    r.headers["authorization"] = v;
    ExpectError(Authn(auth, r), 401, kMsgMissingKey);
  }
}

// ------------------------------------------------------------ signed mode

TEST(AuthSignedTest, ValidSignatureAuthenticates) {
  Authenticator auth = MakeAuth();
  Req r;
  r.Sign("k_user_1", kUserSecret, kNow);
  ExpectPrincipal(Authn(auth, r), "k_user_1", Role::kUser);
  Req get;
  get.method = "GET";
  get.target = "/v1/models";
  get.body = "";
  get.Sign("k_admin_1", kAdminSecret, kNow + 5);
  ExpectPrincipal(Authn(auth, get), "k_admin_1", Role::kAdmin);
}

TEST(AuthSignedTest, OneTestPerErrorRow) {
  Authenticator auth = MakeAuth();
  // Unknown key id.
  Req r;
  r.Sign("k_nobody", kUserSecret, kNow);
  ExpectError(Authn(auth, r), 401, kMsgInvalidKey);
  // Missing X-Timestamp / X-Signature.
  r.Sign("k_user_1", kUserSecret, kNow);
  r.headers.erase("x-signature");
  ExpectError(Authn(auth, r), 401, kMsgMissingSignature);
  r.Sign("k_user_1", kUserSecret, kNow);
  r.headers.erase("x-timestamp");
  ExpectError(Authn(auth, r), 401, kMsgMissingSignature);
  // Non-integer timestamps.
  for (const char* ts :
       {"", "abc", "1710000000.5", "-1710000000", "+1710000000", "1e9", "99999999999999999999"}) {
    r.Sign("k_user_1", kUserSecret, kNow);
    r.headers["x-timestamp"] = ts;
    ExpectError(Authn(auth, r), 401, kMsgBadTimestamp);
  }
  // Outside the ±60 s window (the signature itself is valid for that ts).
  for (int64_t ts : {kNow - 61, kNow + 61, int64_t{0}}) {
    r.Sign("k_user_1", kUserSecret, ts);
    ExpectError(Authn(auth, r), 401, kMsgStale);
  }
  for (int64_t ts : {kNow - 60, kNow + 60}) {
    r.Sign("k_user_1", kUserSecret, ts);
    ExpectPrincipal(Authn(auth, r), "k_user_1", Role::kUser);
  }
}

TEST(AuthSignedTest, TamperingBreaksTheSignature) {
  Authenticator auth = MakeAuth();
  int64_t ts = kNow;
  auto fresh = [&]() {
    Req r;
    r.target = "/v1/chat/completions?stream=false";
    r.Sign("k_user_1", kUserSecret, ++ts);  // a new ts each time: never a replay
    return r;
  };
  Req r = fresh();
  r.body += " ";  // body changed after signing
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  r = fresh();
  r.target = "/v1/chat/completions?stream=true";  // the query is signed too
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  r = fresh();
  r.method = "PUT";
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  r = fresh();
  r.headers["x-timestamp"] = std::to_string(ts + 1);
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  r = fresh();
  r.headers["authorization"] = "ApiKey k_admin_1";  // another key's id
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  r = fresh();
  r.headers["x-signature"] = SignRequest(kAdminSecret, r.method, r.target, ts, r.body);
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);  // signed with the wrong secret
  r = fresh();
  for (char& c : r.headers["x-signature"]) c = static_cast<char>(std::toupper(c));
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);  // lower-case hex only
  r = fresh();
  r.headers["x-signature"].pop_back();
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  r = fresh();
  r.headers["x-signature"] = "zz" + r.headers["x-signature"].substr(2);
  ExpectError(Authn(auth, r), 401, kMsgBadSignature);
  // The untouched request still passes.
  ExpectPrincipal(Authn(auth, fresh()), "k_user_1", Role::kUser);
}

TEST(AuthSignedTest, ReplayIsRefusedWithinTheWindow) {
  Authenticator auth = MakeAuth();
  Req r;
  r.Sign("k_user_1", kUserSecret, kNow);
  ExpectPrincipal(Authn(auth, r), "k_user_1", Role::kUser);
  ExpectError(Authn(auth, r), 401, kMsgReplayed);
  ExpectError(Authn(auth, r, kNow + 59), 401, kMsgReplayed);
  ExpectError(Authn(auth, r, kNow + 61), 401, kMsgStale);  // and later it is stale
  // A different request (new ts) from the same key is fine.
  r.Sign("k_user_1", kUserSecret, kNow + 1);
  ExpectPrincipal(Authn(auth, r), "k_user_1", Role::kUser);
  // Failed attempts are not remembered: a bad signature then the good one.
  Req s;
  s.Sign("k_user_1", kUserSecret, kNow + 2);
  std::string good = s.headers["x-signature"];
  s.headers["x-signature"] = std::string(64, '0');
  ExpectError(Authn(auth, s), 401, kMsgBadSignature);
  s.headers["x-signature"] = good;
  ExpectPrincipal(Authn(auth, s), "k_user_1", Role::kUser);
}

TEST(AuthSignedTest, ReplayCacheIsBoundedAndExpires) {
  Authenticator auth = MakeAuth(/*replay_capacity=*/2);
  std::vector<Req> reqs(3);
  for (int i = 0; i < 3; ++i) {
    reqs[i].Sign("k_user_1", kUserSecret, kNow + i);
    ExpectPrincipal(Authn(auth, reqs[i], kNow + i), "k_user_1", Role::kUser);
  }
  // Capacity 2: the oldest was evicted (documented trade-off), the others are not.
  ExpectPrincipal(Authn(auth, reqs[0], kNow + 3), "k_user_1", Role::kUser);
  ExpectError(Authn(auth, reqs[2], kNow + 3), 401, kMsgReplayed);
}

TEST(AuthSignedTest, ConcurrentReplaysAcceptExactlyOne) {
  Authenticator auth = MakeAuth();
  Req r;
  r.Sign("k_admin_1", kAdminSecret, kNow);
  std::atomic<int> accepted{0}, replayed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&]() {
      for (int i = 0; i < 50; ++i) {
        auto got = Authn(auth, r);
        if (std::holds_alternative<Principal>(got)) ++accepted;
        if (std::holds_alternative<AuthError>(got) &&
            std::get<AuthError>(got).message == kMsgReplayed) {
          ++replayed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(replayed.load(), 199);
}

// ------------------------------------------------------------ route policy

TEST(AuthPolicyTest, RequiredRoleDeniesByDefault) {
  for (const char* p : {"/health", "/healthz", "/ready", "/readyz", "/health?verbose=1"}) {
    EXPECT_EQ(Authenticator::RequiredRole(p), Role::kNone) << p;
  }
  for (const char* p : {"/admin", "/admin/", "/admin/reload", "/admin/reload?x=1", "/ADMIN/reload",
                        "/%61dmin/reload", "//admin/reload", "/v1/../admin/reload",
                        "/./admin/reload", "/health/../admin/reload", "\\admin\\reload"}) {
    EXPECT_EQ(Authenticator::RequiredRole(p), Role::kAdmin) << p;
  }
  for (const char* p : {"/v1/chat/completions", "/v1/chat", "/v1/chatfoo", "/v1/completions",
                        "/v1/models", "/generate", "/metrics", "/v1/stats", "/", "", "/unknown",
                        "/healthz/x", "/health/", "/administrator", "/v1/admin"}) {
    EXPECT_EQ(Authenticator::RequiredRole(p), Role::kUser) << p;
  }
}

TEST(AuthPolicyTest, AdminIsASupersetOfUser) {
  Principal user{"k_user_1", Role::kUser}, admin{"k_admin_1", Role::kAdmin}, anon;
  EXPECT_FALSE(Authenticator::Authorize(user, Role::kUser));
  EXPECT_FALSE(Authenticator::Authorize(admin, Role::kUser));
  EXPECT_FALSE(Authenticator::Authorize(admin, Role::kAdmin));
  EXPECT_FALSE(Authenticator::Authorize(anon, Role::kNone));
  std::optional<AuthError> e = Authenticator::Authorize(user, Role::kAdmin);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status, 403);
  EXPECT_EQ(e->code, "forbidden");
  EXPECT_EQ(e->message, kMsgForbidden);
  e = Authenticator::Authorize(anon, Role::kUser);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status, 401);
}

TEST(AuthPolicyTest, CheckCombinesPolicyAuthenticationAndRoles) {
  Authenticator auth = MakeAuth();
  // A user key on /admin/reload: authenticated, then 403 (signed and Bearer).
  Req r;
  r.target = "/admin/reload";
  r.body = "";
  r.Sign("k_user_1", kUserSecret, kNow);
  ExpectError(RunCheck(auth, r), 403, kMsgForbidden);
  r.headers = {{"authorization", "Bearer " + std::string(kUserSecret)}};
  ExpectError(RunCheck(auth, r), 403, kMsgForbidden);
  r.headers = {{"authorization", "Bearer " + std::string(kAdminSecret)}};
  ExpectPrincipal(RunCheck(auth, r), "k_admin_1", Role::kAdmin);
  // An admin key on a user route is allowed.
  Req chat;
  chat.Sign("k_admin_1", kAdminSecret, kNow);
  ExpectPrincipal(RunCheck(auth, chat), "k_admin_1", Role::kAdmin);
  // Unknown paths need a key too (the router then answers 404).
  Req unknown;
  unknown.target = "/v1/chatfoo";
  ExpectError(RunCheck(auth, unknown), 401, kMsgMissingKey);
  // Probes are public.
  Req health;
  health.method = "GET";
  health.target = "/health";
  ExpectPrincipal(RunCheck(auth, health), "", Role::kNone);
}

TEST(AuthPolicyTest, DisabledModeAllowsEverything) {
  Authenticator auth = Authenticator::Disabled();
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(MakeAuth().enabled());
  Req r;
  r.target = "/admin/reload";
  ExpectPrincipal(RunCheck(auth, r), "", Role::kAdmin);
  ExpectPrincipal(Authn(auth, r), "", Role::kAdmin);
  // An enabled authenticator with no keys refuses everyone.
  Authenticator empty(ApiKeys{});
  r.headers["authorization"] = "Bearer " + std::string(kUserSecret);
  ExpectError(RunCheck(empty, r), 401, kMsgInvalidKey);
}

}  // namespace
}  // namespace hearth::server
