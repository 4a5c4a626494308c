// Packing and fail-closed verification: determinism, the tamper matrix, facts,
// runtime version; nothing is installed from a bundle that fails.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "deploy/bundle.h"
#include "deploy/store.h"
#include "deploy/tar.h"
#include "deploy/verify.h"
#include "deploy_fixture.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;
using testing::BundleSpec;
using testing::MakeBundle;
using testing::ReleaseTrust;

VerifyReport Verify(const std::string& path, const TrustedKeys& trust) {
  Result<std::unique_ptr<BundleReader>> b = BundleReader::Open(path);
  if (!b.ok()) {
    VerifyReport r;
    r.exit_code = kVerifyMalformed;
    r.problems.push_back({"malformed", "", b.status().message()});
    return r;
  }
  VerifyOptions o;
  o.trusted = &trust;
  return VerifyBundle(**b, o);
}

// Installing `path` into a fresh store must fail and leave the store empty.
void ExpectNothingInstalled(const std::string& path) {
  const std::string root = testing::FreshDir() + "/store";
  Result<Store> store = Store::OpenForWrite(root, true);
  ASSERT_TRUE(store.ok());
  TrustedKeys trust = ReleaseTrust();
  InstallOptions io;
  io.trusted = &trust;
  Result<std::string> id = store->Install(path, io);
  EXPECT_FALSE(id.ok()) << path;
  EXPECT_TRUE(ListInstalled(root).empty());
  EXPECT_TRUE(fs::is_empty(root + "/staging"));
  EXPECT_TRUE(store->state().active.empty());
}

TEST(BundleTest, PackIsDeterministicAndVerifies) {
  BundleSpec spec;
  spec.tar = true;
  spec.with_extras = true;
  const std::string a = MakeBundle(spec);
  const std::string b = MakeBundle(spec);
  Result<std::string> ha = Sha256FileHex(a), hb = Sha256FileHex(b);
  ASSERT_TRUE(ha.ok() && hb.ok());
  EXPECT_EQ(*ha, *hb) << "packing twice must give identical bytes";
  VerifyReport r = Verify(a, ReleaseTrust());
  EXPECT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(r.signer, testing::ReleaseKey().pub.key_id);
  EXPECT_EQ(r.manifest.bundle_id, "tiny-chat-1.0.0");
  EXPECT_EQ(r.manifest.version_counter, 1000000u);
  EXPECT_EQ(r.manifest.files.size(), 4u);  // model, template, suite, baseline
  EXPECT_EQ(r.manifest.model.arch, "llama");
  EXPECT_EQ(r.manifest.generation_defaults.Find("max_tokens")->as_int(), 64);
  // Every file's size and hash in the manifest are those of the packed bytes.
  Result<std::unique_ptr<BundleReader>> reader = BundleReader::Open(a);
  for (const ManifestFile& f : r.manifest.files) {
    EXPECT_EQ(*(*reader)->HashFile(f.path), f.sha256) << f.path;
  }
  bool found = false;
  for (const ManifestFile& f : r.manifest.files)
    if (f.path == "model/tiny.gguf") {
      found = true;
      EXPECT_EQ(*Sha256FileHex(testing::TinyModel()), f.sha256);
    }
  EXPECT_TRUE(found);
  // The directory form of the same inputs has the same manifest bytes.
  spec.tar = false;
  VerifyReport d = Verify(MakeBundle(spec), ReleaseTrust());
  EXPECT_TRUE(d.ok()) << d.Summary();
  EXPECT_EQ(d.manifest_text, r.manifest_text);
}

struct Tamper {
  std::string name;
  std::string file;  // "" = not about one file
  int exit_code;
  std::string kind;
};

// Applies one tampering to a copy of `dir` (a directory bundle).
void ApplyTamper(const std::string& dir, const std::string& op, const std::string& file) {
  const std::string path = dir + "/" + file;
  if (op == "flip") {
    std::string bytes = *ReadFileToString(path);
    bytes[bytes.size() / 2] ^= 0x01;
    ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  } else if (op == "truncate") {
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(fs::file_size(path) / 2)), 0);
  } else if (op == "delete") {
    fs::remove(path);
  } else if (op == "add") {
    ASSERT_TRUE(WriteFileAtomic(dir + "/model/extra.bin", "surprise").ok());
  }
}

class TamperTest : public ::testing::TestWithParam<bool> {};  // param: tar form

TEST_P(TamperTest, EveryChangeFailsNamingTheCause) {
  const bool tar = GetParam();
  BundleSpec spec;
  spec.with_extras = true;
  const std::string good = MakeBundle(spec);
  ASSERT_TRUE(Verify(good, ReleaseTrust()).ok());
  const std::vector<std::string> files = {"manifest.json",    "manifest.sig",
                                          "model/tiny.gguf",  "config/template.jinja",
                                          "eval/suite.jsonl", "eval/baseline.json"};
  int cases = 0;
  for (const char* op_name : {"flip", "truncate", "delete", "add"}) {
    const std::string op = op_name;
    for (const std::string& file : files) {
      if (op == std::string("add") && file != files[0]) continue;
      const std::string work = testing::FreshDir() + "/t";
      testing::CopyTree(good, work);
      ApplyTamper(work, op, file);
      std::string target = work;
      if (tar) {  // the same damage inside a deterministic tar
        std::vector<TarInput> in;
        for (const auto& e : fs::recursive_directory_iterator(work))
          if (e.is_regular_file())
            in.push_back({fs::relative(e.path(), work).string(), e.path().string()});
        target = work + ".tar";
        ASSERT_TRUE(WriteTar(target, in).ok());
      }
      VerifyReport r = Verify(target, ReleaseTrust());
      SCOPED_TRACE(op + " " + file + (tar ? " (tar)" : ""));
      ASSERT_FALSE(r.ok());
      ASSERT_FALSE(r.problems.empty());
      if (op == "add") {
        EXPECT_EQ(r.exit_code, kVerifyIntegrity);
        EXPECT_EQ(r.problems[0].kind, "extra");
        EXPECT_EQ(r.problems[0].path, "model/extra.bin");
      } else if (file == "manifest.json") {
        // The manifest's own bytes are covered by the signature; without the
        // file there is nothing to check at all.
        EXPECT_EQ(r.exit_code, op == "delete" ? kVerifyMalformed : kVerifySignature);
        EXPECT_EQ(r.problems[0].path, "manifest.json") << r.Summary();
      } else if (file == "manifest.sig") {
        EXPECT_EQ(r.exit_code, kVerifySignature);
        EXPECT_NE(r.Summary().find("manifest.sig"), std::string::npos) << r.Summary();
      } else {
        EXPECT_EQ(r.exit_code, kVerifyIntegrity) << r.Summary();
        const std::string kind = op == "flip"       ? "hash_mismatch"
                                 : op == "truncate" ? "size_mismatch"
                                                    : "missing";
        EXPECT_EQ(r.problems[0].kind, kind) << r.Summary();
        EXPECT_EQ(r.problems[0].path, file);
        EXPECT_NE(r.Summary().find(file), std::string::npos);
      }
      ExpectNothingInstalled(target);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 19);
}

INSTANTIATE_TEST_SUITE_P(DirAndTar, TamperTest, ::testing::Bool());

TEST(BundleTest, SwappedSignatureAndUntrustedKeysFail) {
  BundleSpec spec;
  const std::string a = MakeBundle(spec);
  spec.version = "1.0.1";
  const std::string b = MakeBundle(spec);
  // b's valid signature on a's manifest.
  const std::string work = testing::FreshDir() + "/swap";
  testing::CopyTree(a, work);
  fs::copy_file(b + "/manifest.sig", work + "/manifest.sig", fs::copy_options::overwrite_existing);
  VerifyReport r = Verify(work, ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifySignature);
  EXPECT_NE(r.Summary().find("does not match"), std::string::npos) << r.Summary();
  ExpectNothingInstalled(work);

  // Signed by a key the device does not trust.
  TrustedKeys other;
  other.Add(GenerateKey()->pub);
  r = Verify(a, other);
  EXPECT_EQ(r.exit_code, kVerifySignature);
  EXPECT_NE(r.Summary().find("no signature by a trusted key"), std::string::npos);
  // Re-signed by an attacker's key after editing the manifest.
  const std::string edited = testing::FreshDir() + "/edited";
  testing::CopyTree(a, edited);
  std::string text = *ReadFileToString(edited + "/manifest.json");
  text.replace(text.find("\"version_counter\": 1000000"), 26, "\"version_counter\": 9000000");
  ASSERT_TRUE(WriteFileAtomic(edited + "/manifest.json", text).ok());
  fs::remove(edited + "/manifest.sig");
  SecretKey attacker = *GenerateKey();
  ASSERT_TRUE(SignBundle(edited, attacker).ok());
  r = Verify(edited, ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifySignature);
  ExpectNothingInstalled(edited);
  // Unsigned.
  spec.sign = false;
  spec.version = "1.0.2";
  r = Verify(MakeBundle(spec), ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifySignature);
  EXPECT_NE(r.Summary().find("missing: manifest.sig"), std::string::npos);
}

TEST(BundleTest, FactsThatDisagreeWithTheGgufFail) {
  const std::string a = MakeBundle({});
  const std::string work = testing::FreshDir() + "/facts";
  testing::CopyTree(a, work);
  std::string text = *ReadFileToString(work + "/manifest.json");
  const size_t at = text.find("\"vocab_size\": ");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 14, "1");  // 1xxx: a different vocabulary size
  ASSERT_TRUE(WriteFileAtomic(work + "/manifest.json", text).ok());
  fs::remove(work + "/manifest.sig");
  ASSERT_TRUE(SignBundle(work, testing::ReleaseKey()).ok());  // validly signed lie
  VerifyReport r = Verify(work, ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifyIncompatible);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems[0].kind, "facts");
  EXPECT_NE(r.Summary().find("vocab_size"), std::string::npos) << r.Summary();
  ExpectNothingInstalled(work);
}

TEST(BundleTest, RuntimeTooOldIsRejectedBeforeHashing) {
  BundleSpec spec;
  spec.min_runtime = "99.0.0";
  const std::string a = MakeBundle(spec);
  // Also corrupt the weights: the version check must come first.
  std::string bytes = *ReadFileToString(a + "/model/tiny.gguf");
  bytes[bytes.size() - 5] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(a + "/model/tiny.gguf", bytes).ok());
  VerifyReport r = Verify(a, ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifyIncompatible);
  EXPECT_EQ(r.problems[0].kind, "runtime_too_old");
  EXPECT_NE(r.Summary().find("99.0.0"), std::string::npos);
}

TEST(BundleTest, CorruptTarFailsClosed) {
  BundleSpec spec;
  spec.tar = true;
  const std::string a = MakeBundle(spec);
  // Flip a byte inside the model's data in the tar: a hash mismatch naming it.
  Result<std::vector<TarMember>> members = ListTar(a);
  ASSERT_TRUE(members.ok());
  uint64_t model_at = 0;
  for (const TarMember& m : *members)
    if (m.path == "model/tiny.gguf") model_at = m.data_offset + m.size / 2;
  std::string bytes = *ReadFileToString(a);
  const std::string flipped = testing::FreshDir() + "/flipped.tar";
  bytes[model_at] ^= 0x10;
  ASSERT_TRUE(WriteFileAtomic(flipped, bytes).ok());
  VerifyReport r = Verify(flipped, ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifyIntegrity);
  EXPECT_EQ(r.problems[0].path, "model/tiny.gguf");
  ExpectNothingInstalled(flipped);
  // A truncated download is not a bundle.
  bytes[model_at] ^= 0x10;
  const std::string cut = testing::FreshDir() + "/cut.tar";
  ASSERT_TRUE(WriteFileAtomic(cut, bytes.substr(0, bytes.size() / 2)).ok());
  r = Verify(cut, ReleaseTrust());
  EXPECT_EQ(r.exit_code, kVerifyMalformed);
  ExpectNothingInstalled(cut);
}

TEST(BundleTest, PackRefusesBadInputs) {
  PackOptions o;
  o.gguf_path = testing::TinyModel();
  o.name = "bad name";
  o.version = "1.0.0";
  o.output = testing::FreshDir() + "/x.tar";
  EXPECT_EQ(Pack(o).status().reason(), "manifest.name");
  o.name = "ok";
  o.version = "1.0";
  EXPECT_EQ(Pack(o).status().reason(), "semver.syntax");
  o.version = "1.0.0";
  const std::string d = testing::FreshDir() + "/defaults.json";
  ASSERT_TRUE(WriteFileAtomic(d, R"({"temperature": 3.5})").ok());
  o.defaults_path = d;
  EXPECT_EQ(Pack(o).status().reason(), "manifest.defaults");
  ASSERT_TRUE(WriteFileAtomic(d, R"({"temprature": 0.5})").ok());
  EXPECT_EQ(Pack(o).status().reason(), "manifest.defaults");
  o.defaults_path.clear();
  const std::string t = testing::FreshDir() + "/t.jinja";
  ASSERT_TRUE(WriteFileAtomic(t, "{% for m in messages %}").ok());
  o.template_path = t;
  EXPECT_FALSE(Pack(o).ok());
  o.template_path.clear();
  o.gguf_path = testing::FreshDir() + "/missing.gguf";
  EXPECT_FALSE(Pack(o).ok());
  EXPECT_FALSE(fs::exists(o.output));
}

TEST(BundleTest, ManifestParserIsStrict) {
  const std::string a = MakeBundle({});
  const std::string text = *ReadFileToString(a + "/manifest.json");
  ASSERT_TRUE(ParseManifest(text).ok());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return t.replace(at, from.size(), to);
  };
  for (const std::string& bad :
       {with("\"schema\": \"hearth.bundle/v1\"", "\"schema\": \"hearth.bundle/v2\""),
        with("\"name\": \"tiny-chat\"", "\"name\": \"tiny-chat\", \"extra\": 1"),
        with("\"path\": \"model/tiny.gguf\"", "\"path\": \"../tiny.gguf\""),
        with("\"path\": \"model/tiny.gguf\"", "\"path\": \"/etc/passwd\""),
        with("\"version_counter\": 1000000", "\"version_counter\": -1"),
        with("\"min_version\": \"", "\"min_version\": \"x"), std::string("{"), std::string("[]")}) {
    Result<Manifest> m = ParseManifest(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.status().reason(), "manifest.invalid");
    }
  }
}

}  // namespace
}  // namespace hearth::deploy
