// Black-box tests of the `hearth` executable: exit codes, --help, --version,
// and `inspect --json` on every shared GGUF.
#include <gtest/gtest.h>

#include "base/json.h"
#include "base/mapped_file.h"
#include "format/gguf.h"
#include "model/hparams.h"
#include "testing/shared_files.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

using testing::RunCommand;

std::string Hearth() {
  return testing::HearthBinary();
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(CliTest, TopLevelHelpAndUsageErrors) {
  auto help = RunCommand(Hearth() + " --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* cmd : {"inspect", "doctor", "synth"}) EXPECT_TRUE(Contains(help.output, cmd));
  EXPECT_EQ(RunCommand(Hearth(), true).exit_code, 2);
  auto unknown = RunCommand(Hearth() + " frobnicate", true);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.output, "unknown command 'frobnicate'"));
}

TEST(CliTest, EverySubcommandHasHelp) {
  for (const char* cmd : {"inspect", "doctor", "synth"}) {
    auto r = RunCommand(Hearth() + " " + cmd + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_TRUE(Contains(r.output, std::string("Usage: hearth ") + cmd)) << r.output;
    EXPECT_TRUE(Contains(r.output, "--help")) << cmd;
    auto bad = RunCommand(Hearth() + " " + cmd + " --no-such-option", true);
    EXPECT_EQ(bad.exit_code, 2) << cmd;
    EXPECT_TRUE(Contains(bad.output, "unknown option '--no-such-option'")) << bad.output;
  }
}

TEST(CliTest, VersionNamesBuildAndCpu) {
  auto r = RunCommand(Hearth() + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "hearth 0.")) << r.output;
  EXPECT_TRUE(Contains(r.output, "commit:"));
  EXPECT_TRUE(Contains(r.output, "compiler:"));
  EXPECT_TRUE(Contains(r.output, "build type:"));
  EXPECT_TRUE(Contains(r.output, "cpu features usable at run time:"));
}

TEST(CliTest, InspectJsonOnEverySharedGguf) {
  HEARTH_REQUIRE_SHARED();
  auto files = testing::SharedGgufFiles();
  ASSERT_FALSE(files.empty());
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    auto r = RunCommand(Hearth() + " inspect --json --ctx 256 --parallel 2 '" + path + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto doc = json::Parse(r.output);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    EXPECT_EQ(doc->Find("schema")->as_string(), "hearth.inspect/v1");
    // The JSON must agree with the library's view of the same file.
    auto f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok());
    HParams hp = ReadHParams(*f);
    const json::Value* h = doc->Find("hparams");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->Find("n_embd")->as_int(), static_cast<int64_t>(hp.n_embd));
    EXPECT_EQ(h->Find("n_layer")->as_int(), static_cast<int64_t>(hp.n_layer));
    EXPECT_EQ(h->Find("n_head_kv")->as_int(), static_cast<int64_t>(hp.n_head_kv));
    EXPECT_EQ(h->Find("n_vocab")->as_int(), static_cast<int64_t>(hp.n_vocab));
    EXPECT_EQ(doc->Find("tensors")->as_array().size(), f->tensors().size());
    EXPECT_EQ(doc->Find("metadata")->as_array().size(), f->metadata().size());
    const json::Value* plan = doc->Find("memory_plan");
    EXPECT_EQ(plan->Find("n_ctx")->as_int(), 256);
    EXPECT_EQ(plan->Find("n_parallel")->as_int(), 2);
    EXPECT_EQ(plan->Find("kv_bytes")->as_int(), plan->Find("kv_bytes_per_token")->as_int() * 512);
    int64_t sum = 0;
    for (const auto& t : doc->Find("tensors")->as_array()) sum += t.Find("bytes")->as_int();
    EXPECT_EQ(plan->Find("weights_bytes")->as_int(), sum);
    // Text output works too.
    auto text = RunCommand(Hearth() + " inspect '" + path + "'");
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_TRUE(Contains(text.output, "memory plan"));
  }
}

TEST(CliTest, InspectRejectsBadFilesAndValues) {
  auto missing = RunCommand(Hearth() + " inspect /nonexistent.gguf", true);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.output, "/nonexistent.gguf")) << missing.output;
  std::string junk = testing::TempDir() + "/junk.gguf";
  ASSERT_TRUE(WriteFileAtomic(junk, "not a gguf at all").ok());
  auto bad = RunCommand(Hearth() + " inspect " + junk, true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.output, "not a GGUF file")) << bad.output;
  auto kv = RunCommand(Hearth() + " inspect " + junk + " --kv-type q4", true);
  EXPECT_EQ(kv.exit_code, 2);
  EXPECT_TRUE(Contains(kv.output, "--kv-type must be one of")) << kv.output;
  auto ctx = RunCommand(Hearth() + " inspect " + junk + " --ctx -5", true);
  EXPECT_EQ(ctx.exit_code, 2);
}

TEST(CliTest, SynthThenInspect) {
  std::string dir = testing::TempDir();
  auto a = RunCommand(
      Hearth() + " synth --preset tiny --type q8_0 --seed 9 -q -o " + dir + "/a.gguf", true);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto b = RunCommand(
      Hearth() + " synth --preset tiny --type q8_0 --seed 9 -q -j 1 -o " + dir + "/b.gguf", true);
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(*ReadFileToString(dir + "/a.gguf"), *ReadFileToString(dir + "/b.gguf"));
  auto r = RunCommand(Hearth() + " inspect --json " + dir + "/a.gguf");
  ASSERT_EQ(r.exit_code, 0);
  auto doc = json::Parse(r.output);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Find("hparams")->Find("n_embd")->as_int(), 256);
  EXPECT_TRUE(doc->Find("engine_support")->Find("ok")->as_bool());
  auto no_out = RunCommand(Hearth() + " synth --preset tiny", true);
  EXPECT_EQ(no_out.exit_code, 2);
  EXPECT_TRUE(Contains(no_out.output, "--output"));
  auto bad_type = RunCommand(Hearth() + " synth --type q3 -o x.gguf", true);
  EXPECT_EQ(bad_type.exit_code, 2);
  auto bad_preset = RunCommand(Hearth() + " synth --preset nope -o x.gguf", true);
  EXPECT_EQ(bad_preset.exit_code, 2);
  EXPECT_TRUE(Contains(bad_preset.output, "tinyllama-1.1b"));
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

TEST(CliTest, DoctorJsonIsMeasured) {
  auto r = testing::RunCommand(testing::HearthBinary() + " doctor --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = json::Parse(r.output);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << r.output;
  EXPECT_EQ(doc->Find("schema")->as_string(), "hearth.doctor/v1");
  std::string text = json::Serialize(*doc);
  // The device facts the book's checklist asks for are all present.
  for (const char* field : {"cpu", "memory", "bandwidth", "disk", "environment"}) {
    ASSERT_NE(doc->Find(field), nullptr) << field << " in " << text;
  }
  EXPECT_GE(doc->Find("cpu")->Find("logical_cores")->as_int(), 1);
  EXPECT_GT(doc->Find("memory")->Find("total_bytes")->as_int(), 0);
  EXPECT_GT(doc->Find("bandwidth")->Find("read_gb_per_s")->as_double(), 0.0);
  auto human = testing::RunCommand(testing::HearthBinary() + " doctor");
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.output.find("read bandwidth"), std::string::npos) << human.output;
}

}  // namespace
}  // namespace hearth
