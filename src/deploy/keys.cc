#include "deploy/keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace hearth::deploy {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

Pkey PrivateKey(const SecretKey& key) {
  return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed.data(), 32));
}
Pkey PublicPkey(const PublicKey& key) {
  return Pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.raw.data(), 32));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<SecretKey> FromPrivatePkey(EVP_PKEY* pkey) {
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
    return InvalidArgumentError("the key is not an Ed25519 key", "key.type");
  SecretKey key;
  size_t n = 32;
  if (EVP_PKEY_get_raw_private_key(pkey, key.seed.data(), &n) != 1 || n != 32)
    return InvalidArgumentError("cannot read the Ed25519 secret key", "key.malformed");
  n = 32;
  if (EVP_PKEY_get_raw_public_key(pkey, key.pub.raw.data(), &n) != 1 || n != 32)
    return InvalidArgumentError("cannot derive the Ed25519 public key", "key.malformed");
  key.pub.key_id = KeyIdOf(key.pub.raw);
  return key;
}

bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // lower-case only: one spelling per signature
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

std::string KeyIdOf(const std::array<uint8_t, 32>& raw_public) {
  Sha256 h;
  h.Update(raw_public.data(), raw_public.size());
  return ToHex(h.Final()).substr(0, 16);
}

Result<SecretKey> GenerateKey() {
  SecretKey key;
  if (RAND_bytes(key.seed.data(), 32) != 1)
    return InternalError("the system random generator failed", "key.random");
  Pkey pkey = PrivateKey(key);
  if (!pkey) return InternalError("cannot create an Ed25519 key", "key.openssl");
  return FromPrivatePkey(pkey.get());
}

Result<std::string> SecretKeyToPem(const SecretKey& key) {
  Pkey pkey = PrivateKey(key);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!pkey || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return InternalError("cannot encode the secret key", "key.openssl");
  return BioToString(bio.get());
}

Result<std::string> PublicKeyToPem(const PublicKey& key) {
  Pkey pkey = PublicPkey(key);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!pkey || !bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1)
    return InternalError("cannot encode the public key", "key.openssl");
  return BioToString(bio.get());
}

Result<PublicKey> PublicKeyFromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey) return InvalidArgumentError("not a PEM public key", "key.malformed");
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519)
    return InvalidArgumentError("the public key is not an Ed25519 key", "key.type");
  PublicKey key;
  size_t n = 32;
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.raw.data(), &n) != 1 || n != 32)
    return InvalidArgumentError("cannot read the Ed25519 public key", "key.malformed");
  key.key_id = KeyIdOf(key.raw);
  return key;
}

Result<SecretKey> SecretKeyFromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey) return InvalidArgumentError("not a PEM private key", "key.malformed");
  return FromPrivatePkey(pkey.get());
}

Result<SecretKey> LoadSecretKey(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("reading key '" + path + "'", errno);
  if ((st.st_mode & 077) != 0)
    return PermissionDeniedError(
        StrFormat("permissions %04o for secret key '%s' are too open; it must be readable by "
                  "its owner only (chmod 600)",
                  static_cast<unsigned>(st.st_mode & 07777), path.c_str()),
        "key.permissions");
  HEARTH_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path, 1 << 16));
  Result<SecretKey> key = SecretKeyFromPem(pem);
  if (!key.ok()) return key.status().WithContext("secret key '" + path + "'");
  return key;
}

Result<PublicKey> LoadPublicKey(const std::string& path) {
  HEARTH_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path, 1 << 16));
  Result<PublicKey> key = PublicKeyFromPem(pem);
  if (!key.ok()) return key.status().WithContext("public key '" + path + "'");
  return key;
}

Status WriteKeyPair(const SecretKey& key, const std::string& base_path, bool force) {
  HEARTH_ASSIGN_OR_RETURN(std::string secret_pem, SecretKeyToPem(key));
  HEARTH_ASSIGN_OR_RETURN(std::string public_pem, PublicKeyToPem(key.pub));
  const std::string key_path = base_path + ".key";
  const std::string pub_path = base_path + ".pub";
  if (force) ::unlink(key_path.c_str());
  // O_EXCL + mode 0600 from the start: the secret is never readable by others.
  const int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return AlreadyExistsError("'" + key_path + "' exists; pass --force to replace it",
                                "key.exists");
    return ErrnoError("creating '" + key_path + "'", errno);
  }
  const bool ok = ::write(fd, secret_pem.data(), secret_pem.size()) ==
                      static_cast<ssize_t>(secret_pem.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(key_path.c_str());
    return ErrnoError("writing '" + key_path + "'", err);
  }
  return WriteFileAtomic(pub_path, public_pem);
}

Result<TrustedKeys> TrustedKeys::Load(const std::string& path) {
  TrustedKeys keys;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return ErrnoError("trusted keys '" + path + "'", errno).WithContext("loading trusted keys");
  if (!S_ISDIR(st.st_mode)) {
    HEARTH_ASSIGN_OR_RETURN(PublicKey key, LoadPublicKey(path));
    keys.Add(key);
    return keys;
  }
  HEARTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(path));
  for (const std::string& name : names) {
    if (!EndsWith(name, ".pub")) continue;
    HEARTH_ASSIGN_OR_RETURN(PublicKey key, LoadPublicKey(path + "/" + name));
    keys.Add(key);
  }
  if (keys.size() == 0)
    return NotFoundError("no trusted public keys (*.pub) in '" + path + "'", "sig.no_keys");
  return keys;
}

const PublicKey* TrustedKeys::Find(std::string_view key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::array<uint8_t, 64> SignBytes(const SecretKey& key, std::string_view message) {
  std::array<uint8_t, 64> sig{};
  Pkey pkey = PrivateKey(key);
  MdCtx ctx(EVP_MD_CTX_new());
  size_t len = sig.size();
  HEARTH_CHECK(pkey && ctx, "OpenSSL allocation failed");
  HEARTH_CHECK(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
                   EVP_DigestSign(ctx.get(), sig.data(), &len,
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size()) == 1 &&
                   len == 64,
               "Ed25519 signing failed");
  return sig;
}

bool VerifyBytes(const PublicKey& key, std::string_view message,
                 const std::array<uint8_t, 64>& signature) {
  Pkey pkey = PublicPkey(key);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<std::vector<SignatureEntry>> ParseSignatureFile(std::string_view text) {
  auto bad = [](const std::string& why) {
    return DataLossError("signature file: " + why, "sig.malformed");
  };
  Result<json::Value> doc = json::Parse(text, {.max_depth = 8, .max_bytes = 1 << 20});
  if (!doc.ok()) return bad(doc.status().message());
  Result<std::string> schema = json::GetString(*doc, "schema");
  if (!schema.ok() || *schema != "hearth.sig/v1") return bad("schema is not hearth.sig/v1");
  Result<const json::Value::Array*> list = json::GetArray(*doc, "signatures");
  if (!list.ok()) return bad(list.status().message());
  std::vector<SignatureEntry> out;
  for (const json::Value& v : **list) {
    SignatureEntry e;
    Result<std::string> id = json::GetString(v, "key_id");
    Result<std::string> alg = json::GetString(v, "algorithm");
    Result<std::string> sig = json::GetString(v, "signature");
    if (!id.ok() || !alg.ok() || !sig.ok())
      return bad("each signature needs key_id, algorithm and signature");
    e.key_id = *id;
    e.algorithm = *alg;
    e.signature = *sig;
    out.push_back(std::move(e));
  }
  if (out.empty()) return bad("no signatures");
  return out;
}

Result<std::string> AddSignature(const SecretKey& key, std::string_view message,
                                 std::string_view existing) {
  std::vector<SignatureEntry> entries;
  if (!existing.empty()) {
    HEARTH_ASSIGN_OR_RETURN(entries, ParseSignatureFile(existing));
  }
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const SignatureEntry& e) { return e.key_id == key.pub.key_id; }),
                entries.end());
  const std::array<uint8_t, 64> sig = SignBytes(key, message);
  entries.push_back({key.pub.key_id, "ed25519", HexEncode(sig.data(), sig.size())});
  json::Value::Array list;
  for (const SignatureEntry& e : entries)
    list.push_back(json::Value::Object{
        {"key_id", e.key_id}, {"algorithm", e.algorithm}, {"signature", e.signature}});
  json::Value doc = json::Value::Object{{"schema", "hearth.sig/v1"}, {"signatures", list}};
  return json::Serialize(doc, 2) + "\n";
}

Status CheckSignatures(std::string_view message, std::string_view sig_file,
                       const TrustedKeys& trusted, std::string* signer) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<SignatureEntry> entries, ParseSignatureFile(sig_file));
  std::string good;
  std::vector<std::string> unknown;
  for (const SignatureEntry& e : entries) {
    const PublicKey* key = trusted.Find(e.key_id);
    if (key == nullptr) {
      unknown.push_back(e.key_id);
      continue;
    }
    std::array<uint8_t, 64> sig;
    if (e.algorithm != "ed25519" || !FromHex(e.signature, sig.data(), sig.size()) ||
        !VerifyBytes(*key, message, sig))
      return DataLossError("signature by trusted key " + e.key_id +
                               " does not match the signed bytes (modified after signing?)",
                           "sig.bad");
    if (good.empty()) good = e.key_id;
  }
  if (good.empty())
    return PermissionDeniedError(
        "no signature by a trusted key (signed by: " + StrJoin(unknown, ", ") + ")",
        "sig.untrusted");
  if (signer != nullptr) *signer = good;
  return Status::Ok();
}

}  // namespace hearth::deploy
