// Ed25519 keys and detached signatures (OpenSSL), for bundle manifests and
// update channel files.
//
// Files: NAME.key holds the secret key as unencrypted PKCS#8 PEM (mode 0600;
// looser modes are refused, like ssh), NAME.pub the public key as PEM
// SubjectPublicKeyInfo, so `openssl pkey` reads both. A key's id is the first
// 16 hex digits of SHA-256 over its 32 raw public-key bytes.
//
// A signature file (manifest.sig, <channel>.json.sig) is JSON:
//   {"schema":"hearth.sig/v1","signatures":[{"key_id":"…","algorithm":"ed25519",
//    "signature":"<128 hex digits>"}]}
// over the exact bytes of the signed file. Verification passes when at least
// one signature is by a trusted key and valid; a signature by a trusted key
// that does not verify fails the whole check (it means tampering).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hearth::deploy {

struct PublicKey {
  std::array<uint8_t, 32> raw{};
  std::string key_id;
};

struct SecretKey {
  std::array<uint8_t, 32> seed{};
  PublicKey pub;
};

Result<SecretKey> GenerateKey();
Result<std::string> SecretKeyToPem(const SecretKey& key);
Result<std::string> PublicKeyToPem(const PublicKey& key);
Result<PublicKey> PublicKeyFromPem(std::string_view pem);
Result<SecretKey> SecretKeyFromPem(std::string_view pem);
// Loads NAME.key, refusing a file readable by group or others.
Result<SecretKey> LoadSecretKey(const std::string& path);
Result<PublicKey> LoadPublicKey(const std::string& path);
// Writes NAME.key (0600, never overwriting unless `force`) and NAME.pub.
Status WriteKeyPair(const SecretKey& key, const std::string& base_path, bool force);

std::string KeyIdOf(const std::array<uint8_t, 32>& raw_public);

// The set of public keys a device trusts.
class TrustedKeys {
 public:
  // `path` is a directory (every *.pub inside) or one .pub file. An empty
  // directory is an error: verification would otherwise fail for an unclear reason.
  static Result<TrustedKeys> Load(const std::string& path);
  void Add(PublicKey key) { keys_[key.key_id] = key; }
  const PublicKey* Find(std::string_view key_id) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

struct SignatureEntry {
  std::string key_id;
  std::string algorithm;  // "ed25519"
  std::string signature;  // hex
};

// Signs `message` and returns `existing` (a signature file's text, may be empty)
// with this key's signature added or replaced.
Result<std::string> AddSignature(const SecretKey& key, std::string_view message,
                                 std::string_view existing);
Result<std::vector<SignatureEntry>> ParseSignatureFile(std::string_view text);

// Checks a signature file against `message`. Reasons: "sig.malformed",
// "sig.untrusted" (no signature by a trusted key), "sig.bad" (a trusted key's
// signature does not verify). On success `signer` receives the key id.
Status CheckSignatures(std::string_view message, std::string_view sig_file,
                       const TrustedKeys& trusted, std::string* signer);

// Raw Ed25519 primitives.
std::array<uint8_t, 64> SignBytes(const SecretKey& key, std::string_view message);
bool VerifyBytes(const PublicKey& key, std::string_view message,
                 const std::array<uint8_t, 64>& signature);

}  // namespace hearth::deploy
