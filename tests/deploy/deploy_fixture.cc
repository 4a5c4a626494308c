#include "deploy_fixture.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <unistd.h>
#include <cmath>
#include <cstring>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "base/mapped_file.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "model/synth.h"

namespace hearth::deploy::testing {
namespace {

std::string ProcessDir() {
  // Never destroyed: the exit handler below runs after static destructors.
  static const std::string* const dir = [] {
    auto* d = new std::string(::hearth::testing::BinaryDir() + "/test_tmp/deploy." +
                              std::to_string(::getpid()));
    (void)RemoveTree(*d);
    std::filesystem::create_directories(*d);
    std::atexit([] { (void)RemoveTree(ProcessDir()); });
    return d;
  }();
  return *dir;
}

std::string FixtureDir() {
  static const std::string dir = FreshDir();
  return dir;
}

}  // namespace

std::string FreshDir() {
  static std::atomic<int> counter{0};
  const std::string d = ProcessDir() + "/" + std::to_string(counter++);
  std::filesystem::create_directories(d);
  return d;
}

const std::string& TinyModel() {
  static const std::string path = [] {
    const std::string p = FixtureDir() + "/tiny.gguf";
    SynthOptions o;
    o.dims = *SynthPreset("tiny");
    o.type = GgmlType::kQ8_0;
    o.threads = 1;
    Status s = WriteSynthModel(o, p);
    HEARTH_CHECK(s.ok(), "%s", s.ToString().c_str());
    return p;
  }();
  return path;
}

const std::string& NanModel() {
  static const std::string path = [] {
    const std::string p = FixtureDir() + "/tiny-nan.gguf";
    std::filesystem::copy_file(TinyModel(), p, std::filesystem::copy_options::overwrite_existing);
    Result<GgufFile> g = GgufFile::Open(TinyModel());
    HEARTH_CHECK(g.ok(), "open tiny");
    const GgufTensorInfo* t = g->FindTensor("output_norm.weight");
    HEARTH_CHECK(t != nullptr && t->type == GgmlType::kF32, "output_norm");
    std::string bytes = *ReadFileToString(p);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (uint64_t i = 0; i < t->n_elements; ++i)
      std::memcpy(&bytes[g->data_offset() + t->offset + i * 4], &nan, 4);
    HEARTH_CHECK(WriteFileAtomic(p, bytes).ok(), "write nan model");
    return p;
  }();
  return path;
}

const SecretKey& ReleaseKey() {
  static const SecretKey key = [] {
    Result<SecretKey> k = GenerateKey();
    HEARTH_CHECK(k.ok(), "keygen");
    HEARTH_CHECK(WriteKeyPair(*k, FixtureDir() + "/rel", true).ok(), "write key");
    return *k;
  }();
  return key;
}

const std::string& ReleaseKeyDir() {
  (void)ReleaseKey();
  static const std::string dir = FixtureDir();
  return dir;
}

std::string ReleasePub() {
  return ReleaseKeyDir() + "/rel.pub";
}

TrustedKeys ReleaseTrust() {
  TrustedKeys t;
  t.Add(ReleaseKey().pub);
  return t;
}

std::string MakeBundle(const BundleSpec& spec) {
  const std::string dir = FreshDir();
  PackOptions o;
  o.gguf_path = spec.model.empty() ? TinyModel() : spec.model;
  o.name = spec.name;
  o.version = spec.version;
  o.min_runtime_version = spec.min_runtime;
  if (spec.with_extras) {
    const std::string x = dir + "/inputs";
    std::filesystem::create_directories(x);
    EXPECT_TRUE(WriteFileAtomic(x + "/t.jinja",
                                "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n"
                                "{% endfor %}{% if add_generation_prompt %}<|assistant|>"
                                "{% endif %}")
                    .ok());
    EXPECT_TRUE(
        WriteFileAtomic(x + "/defaults.json",
                        R"({"temperature":0.7,"top_p":0.9,"max_tokens":64,"stop":["\n\n"]})")
            .ok());
    EXPECT_TRUE(WriteFileAtomic(x + "/suite.jsonl",
                                "{\"id\":\"q1\",\"prompt\":\"Hi\",\"expected\":\"Hello\"}\n")
                    .ok());
    EXPECT_TRUE(WriteFileAtomic(x + "/baseline.json", R"({"score":1.0})").ok());
    o.template_path = x + "/t.jinja";
    o.defaults_path = x + "/defaults.json";
    o.eval_suite_path = x + "/suite.jsonl";
    o.eval_baseline_path = x + "/baseline.json";
  }
  o.output = dir + "/" + spec.name + "-" + spec.version + (spec.tar ? ".tar" : "");
  if (spec.sign) o.sign_key = &ReleaseKey();
  Result<PackResult> r = Pack(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return o.output;
}

::hearth::testing::CommandResult Hearth(const std::string& args, const std::string& env) {
  return ::hearth::testing::RunCommand(
      (env.empty() ? "" : "env " + env + " ") + ::hearth::testing::HearthBinary() + " " + args,
      true);
}

void CopyTree(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

}  // namespace hearth::deploy::testing
