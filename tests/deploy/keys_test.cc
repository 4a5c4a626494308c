// Ed25519 keys and signature files; OpenSSL's command line is the independent oracle.
#include "deploy/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "base/mapped_file.h"
#include "deploy_fixture.h"
#include "testing/test_paths.h"

namespace hearth::deploy {
namespace {

bool HaveOpenssl() {
  return std::system("command -v openssl >/dev/null 2>&1") == 0;
}

TEST(KeysTest, SignAndVerify) {
  Result<SecretKey> key = GenerateKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->pub.key_id.size(), 16u);
  const std::string msg = "the exact manifest bytes\n";
  const auto sig = SignBytes(*key, msg);
  EXPECT_TRUE(VerifyBytes(key->pub, msg, sig));
  std::string changed = msg;
  changed[3] ^= 1;
  EXPECT_FALSE(VerifyBytes(key->pub, changed, sig));
  Result<SecretKey> other = GenerateKey();
  EXPECT_FALSE(VerifyBytes(other->pub, msg, sig));
  auto bad = sig;
  bad[10] ^= 0x40;
  EXPECT_FALSE(VerifyBytes(key->pub, msg, bad));
}

TEST(KeysTest, KeyFilesRoundTripAndPermissions) {
  const std::string dir = testing::FreshDir();
  Result<SecretKey> key = GenerateKey();
  ASSERT_TRUE(WriteKeyPair(*key, dir + "/rel", false).ok());
  struct stat st;
  ASSERT_EQ(::stat((dir + "/rel.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<SecretKey> loaded = LoadSecretKey(dir + "/rel.key");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->seed, key->seed);
  Result<PublicKey> pub = LoadPublicKey(dir + "/rel.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->key_id, key->pub.key_id);
  // Never overwritten silently.
  Status again = WriteKeyPair(*key, dir + "/rel", false);
  EXPECT_EQ(again.reason(), "key.exists");
  // A secret key readable by others is refused.
  ::chmod((dir + "/rel.key").c_str(), 0644);
  Result<SecretKey> open = LoadSecretKey(dir + "/rel.key");
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().reason(), "key.permissions");
  // A public key is not a secret key, and garbage is neither.
  EXPECT_FALSE(SecretKeyFromPem(*ReadFileToString(dir + "/rel.pub")).ok());
  EXPECT_FALSE(
      PublicKeyFromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  // Trusted-key directories: empty is an error, files load by id.
  const std::string trust = testing::FreshDir() + "/trust";
  ::mkdir(trust.c_str(), 0755);
  EXPECT_EQ(TrustedKeys::Load(trust).status().reason(), "sig.no_keys");
  ASSERT_TRUE(WriteFileAtomic(trust + "/a.pub", *ReadFileToString(dir + "/rel.pub")).ok());
  Result<TrustedKeys> keys = TrustedKeys::Load(trust);
  ASSERT_TRUE(keys.ok());
  EXPECT_NE(keys->Find(key->pub.key_id), nullptr);
}

// Our signatures verify with `openssl pkeyutl`, and OpenSSL's keys and
// signatures work with ours.
TEST(KeysTest, InteroperatesWithOpensslCli) {
  if (!HaveOpenssl()) GTEST_SKIP() << "openssl command not installed";
  const std::string dir = testing::FreshDir();
  Result<SecretKey> key = GenerateKey();
  ASSERT_TRUE(WriteKeyPair(*key, dir + "/ours", false).ok());
  const std::string msg = "{\"schema\":\"hearth.bundle/v1\"}\n";
  ASSERT_TRUE(WriteFileAtomic(dir + "/msg", msg).ok());
  const auto sig = SignBytes(*key, msg);
  ASSERT_TRUE(WriteFileAtomic(dir + "/sig", std::string(sig.begin(), sig.end())).ok());
  ::hearth::testing::CommandResult v = ::hearth::testing::RunCommand(
      "openssl pkeyutl -verify -pubin -inkey " + dir + "/ours.pub -rawin -in " + dir +
          "/msg -sigfile " + dir + "/sig",
      true);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("Verified Successfully"), std::string::npos) << v.output;

  ASSERT_EQ(
      ::hearth::testing::RunCommand(
          "openssl genpkey -algorithm ed25519 -out " + dir + "/theirs.key && chmod 600 " + dir +
              "/theirs.key && " + "openssl pkey -in " + dir + "/theirs.key -pubout -out " + dir +
              "/theirs.pub && openssl pkeyutl -sign -inkey " + dir + "/theirs.key -rawin -in " +
              dir + "/msg -out " + dir + "/theirs.sig",
          true)
          .exit_code,
      0);
  Result<SecretKey> theirs = LoadSecretKey(dir + "/theirs.key");
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  Result<PublicKey> theirs_pub = LoadPublicKey(dir + "/theirs.pub");
  ASSERT_TRUE(theirs_pub.ok());
  EXPECT_EQ(theirs->pub.key_id, theirs_pub->key_id);
  Result<std::string> their_sig = ReadFileToString(dir + "/theirs.sig");
  ASSERT_EQ(their_sig->size(), 64u);
  std::array<uint8_t, 64> s;
  std::memcpy(s.data(), their_sig->data(), 64);
  EXPECT_TRUE(VerifyBytes(*theirs_pub, msg, s));
  EXPECT_EQ(SignBytes(*theirs, msg), s);  // Ed25519 is deterministic
}

TEST(KeysTest, SignatureFiles) {
  Result<SecretKey> a = GenerateKey(), b = GenerateKey(), c = GenerateKey();
  const std::string msg = "manifest";
  Result<std::string> one = AddSignature(*a, msg, "");
  ASSERT_TRUE(one.ok());
  Result<std::string> two = AddSignature(*b, msg, *one);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(ParseSignatureFile(*two)->size(), 2u);
  // Re-signing with the same key replaces its entry.
  EXPECT_EQ(ParseSignatureFile(*AddSignature(*a, msg, *two))->size(), 2u);

  TrustedKeys only_b;
  only_b.Add(b->pub);
  std::string signer;
  EXPECT_TRUE(CheckSignatures(msg, *two, only_b, &signer).ok());
  EXPECT_EQ(signer, b->pub.key_id);
  TrustedKeys only_c;
  only_c.Add(c->pub);
  EXPECT_EQ(CheckSignatures(msg, *two, only_c, nullptr).reason(), "sig.untrusted");
  EXPECT_EQ(CheckSignatures(msg + " ", *two, only_b, nullptr).reason(), "sig.bad");
  EXPECT_EQ(CheckSignatures(msg, "{}", only_b, nullptr).reason(), "sig.malformed");
  EXPECT_EQ(CheckSignatures(msg, "not json", only_b, nullptr).reason(), "sig.malformed");
  // A flipped hex digit in the trusted key's signature is a bad signature.
  std::string flipped = *two;
  const size_t pos = flipped.rfind("\"signature\": \"") + 14;
  flipped[pos] = flipped[pos] == '0' ? '1' : '0';
  EXPECT_EQ(CheckSignatures(msg, flipped, only_b, nullptr).reason(), "sig.bad");
}

}  // namespace
}  // namespace hearth::deploy
