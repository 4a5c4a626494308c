// Black-box tests of the engine commands: run, logits, bench, tokenize.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/prefetch_tuner.h"
#include "base/strings.h"
#include "testing/golden.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

using testing::RunCommand;

std::string Hearth() {
  return testing::HearthBinary();
}
std::string Aidreams() {
  return testing::SharedDir() + "/models/aidreams260K/aidreams260K-f32.gguf";
}

TEST(EngineCliTest, RunReproducesTheReferenceGreedyContinuation) {
  HEARTH_REQUIRE_SHARED();
  // shared/testdata/refs: llama-server's greedy continuation of "I dreamed" (64 tokens).
  auto ref_text = ReadFileToString(testing::SharedDir() +
                                   "/testdata/refs/aidreams260K-f32-greedy-I_dreamed.json");
  ASSERT_TRUE(ref_text.ok());
  auto ref = json::Parse(*ref_text);
  ASSERT_TRUE(ref.ok());
  const std::string expected = ref->Find("content")->as_string();
  auto r = RunCommand(Hearth() + " run -m " + Aidreams() + " -p 'I dreamed' -n 64 --temp 0 " +
                      "--stats json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, expected + "\n");
  // The JSON summary on stderr.
  auto s = RunCommand(Hearth() + " run -m " + Aidreams() + " -p 'I dreamed' -n 8 --stats json " +
                      "2>&1 >/dev/null");
  auto stats = json::Parse(s.output);
  ASSERT_TRUE(stats.ok()) << s.output;
  for (const char* k : {"load_ms", "prompt_tokens", "prefill_tokens_per_second", "ttft_ms",
                        "decode_tokens_per_second", "peak_rss_bytes", "isa", "kv_bytes"}) {
    EXPECT_NE(stats->Find(k), nullptr) << k;
  }
  EXPECT_EQ(stats->Find("prompt_tokens")->as_int(), 7);  // BOS + 6, as in the reference
  EXPECT_EQ(stats->Find("generated_tokens")->as_int(), 8);
}

TEST(EngineCliTest, RunRejectsBadRequests) {
  HEARTH_REQUIRE_SHARED();
  auto no_model = RunCommand(Hearth() + " run -p hi", true);
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_NE(no_model.output.find("-m MODEL.gguf"), std::string::npos);
  auto too_long = RunCommand(Hearth() + " run -m " + Aidreams() + " -p hi -n 5000 --ctx 64", true);
  EXPECT_EQ(too_long.exit_code, 1);
  EXPECT_NE(too_long.output.find("exceeds the context"), std::string::npos) << too_long.output;
  auto bad_temp = RunCommand(Hearth() + " run -m " + Aidreams() + " -p hi --temp -1", true);
  EXPECT_EQ(bad_temp.exit_code, 2);
  auto vocab_only = RunCommand(
      Hearth() + " run -m " + testing::SharedDir() + "/testdata/vocab/ggml-vocab-gpt-2.gguf -p hi",
      true);
  EXPECT_EQ(vocab_only.exit_code, 1);
  EXPECT_NE(vocab_only.output.find("not supported"), std::string::npos) << vocab_only.output;
}

TEST(EngineCliTest, LogitsMatchTheGoldenPromptRows) {
  HEARTH_REQUIRE_SHARED();
  auto c = testing::LoadGoldenCase("aidreams260K-f32.once");
  ASSERT_TRUE(c.ok());
  const std::string dir = testing::TempDir();
  auto r = RunCommand(Hearth() + " logits -m " + Aidreams() + " -p 'Once upon a time' -o " + dir +
                          "/out.f32 --json " + dir + "/meta.json --kv-type f32",
                      true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto meta = json::Parse(*ReadFileToString(dir + "/meta.json"));
  ASSERT_TRUE(meta.ok());
  std::vector<int32_t> ids;
  for (const auto& v : meta->Find("prompt_ids")->as_array()) ids.push_back(v.as_int());
  EXPECT_EQ(ids, c->prompt_ids);
  auto bytes = ReadFileToString(dir + "/out.f32");
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), c->prompt_ids.size() * c->n_vocab * 4);
  std::vector<float> got(bytes->size() / 4);
  std::memcpy(got.data(), bytes->data(), bytes->size());
  double max_abs = 0;
  for (size_t i = 0; i < got.size(); ++i)
    max_abs = std::max(max_abs, double(std::fabs(got[i] - c->logits[i])));
  EXPECT_LT(max_abs, testing::ToleranceFor("F32").max_abs);
}

TEST(EngineCliTest, BenchJsonLines) {
  HEARTH_REQUIRE_SHARED();
  auto r = RunCommand(Hearth() + " bench -m " + Aidreams() + " -p 16 -n 8 -r 2 -t 1,2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int lines = 0;
  for (std::string_view line : StrSplit(r.output, '\n')) {
    if (line.empty()) continue;
    auto j = json::Parse(line);
    ASSERT_TRUE(j.ok()) << line;
    ++lines;
    const std::string test = j->Find("test")->as_string();
    EXPECT_TRUE(test == "pp16" || test == "tg8") << test;
    EXPECT_GT(j->Find("tokens_per_second")->as_double(), 0.0);
    EXPECT_EQ(j->Find("samples")->as_array().size(), 2u);
    EXPECT_EQ(j->Find("model")->as_string(), "aidreams260K-f32.gguf");
    const int64_t threads = j->Find("threads")->as_int();
    EXPECT_TRUE(threads == 1 || threads == 2);
    if (test == "tg8") {
      EXPECT_NE(j->Find("roofline_percent"), nullptr);
      // The probe reads at least 256 MiB (the model is far smaller), unless
      // memory is short.
      ASSERT_NE(j->Find("machine_bandwidth_buffer_bytes"), nullptr);
      EXPECT_GE(j->Find("machine_bandwidth_buffer_bytes")->as_int(), int64_t{16} << 20);
      EXPECT_GT(j->Find("machine_bandwidth_gb_per_s")->as_double(), 0.0);
      // One probe per repetition, each naming the read pattern of its best pass.
      ASSERT_NE(j->Find("machine_bandwidth_patterns"), nullptr);
      const auto& patterns = j->Find("machine_bandwidth_patterns")->as_array();
      ASSERT_EQ(patterns.size(), 2u);
      for (const auto& p : patterns) EXPECT_NE(p.as_string().find("per thread"), std::string::npos);
    }
  }
  EXPECT_EQ(lines, 4);
}

// -d D,... runs every test after D untimed tokens: names ppN@dD / tgN@dD
// (plain names at depth 0) and a "depth" key; bad depths are usage errors.
TEST(EngineCliTest, BenchDepths) {
  HEARTH_REQUIRE_SHARED();
  const std::string base = Hearth() + " bench -m " + Aidreams() + " -p 8 -n 4 -r 1 -t 1 ";
  auto r = RunCommand(base + "-d 0,16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> tests;
  for (std::string_view line : StrSplit(r.output, '\n')) {
    if (line.empty()) continue;
    auto j = json::Parse(line);
    ASSERT_TRUE(j.ok()) << line;
    const std::string test = j->Find("test")->as_string();
    tests.push_back(test);
    const int64_t depth = j->Find("depth")->as_int();
    EXPECT_EQ(depth, test.find("@d16") != std::string::npos ? 16 : 0) << test;
    EXPECT_GT(j->Find("tokens_per_second")->as_double(), 0.0);
  }
  EXPECT_EQ(tests, std::vector<std::string>({"pp8", "pp8@d16", "tg4", "tg4@d16"}));
  auto text = RunCommand(base + "-d 16");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("tg4@d16"), std::string::npos) << text.output;
  for (const char* bad : {"-d -1", "-d 70000", "-d x", "-d 1,,2"}) {
    auto e = RunCommand(base + bad, true);
    EXPECT_NE(e.exit_code, 0) << bad;
    EXPECT_NE(e.output.find("hearth bench: error:"), std::string::npos) << bad << ": " << e.output;
  }
}

// -t takes one count or a list to sweep; --thread-list is the same option.
// (The base command asks for --json, so "--md" is a conflicting second format.)
TEST(EngineCliTest, BenchThreadCounts) {
  HEARTH_REQUIRE_SHARED();
  const std::string base = Hearth() + " bench -m " + Aidreams() + " -p 8 -n 0 -r 1 --json ";
  auto threads_of = [](const std::string& out) {
    std::vector<int64_t> t;
    for (std::string_view line : StrSplit(out, '\n')) {
      if (line.empty()) continue;
      auto j = json::Parse(line);
      if (j.ok()) t.push_back(j->Find("threads")->as_int());
    }
    return t;
  };
  auto one = RunCommand(base + "-t 1");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(threads_of(one.output), std::vector<int64_t>({1}));
  auto alias = RunCommand(base + "--thread-list 2,1");
  ASSERT_EQ(alias.exit_code, 0) << alias.output;
  EXPECT_EQ(threads_of(alias.output), std::vector<int64_t>({2, 1}));
  for (const char* bad : {"-t 1,x", "-t 0,1", "-t 1 --thread-list 2", "-t ''", "-t 1 --md"}) {
    auto r = RunCommand(base + bad, true);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.output.find("hearth bench: error:"), std::string::npos) << bad << ": " << r.output;
  }
}

// --prefetch: auto (the default) tunes the decode steps' weight prefetch
// distance, a number fixes it; bench reports which (same tokens either way).
TEST(EngineCliTest, BenchPrefetchOption) {
  HEARTH_REQUIRE_SHARED();
  const std::string base = Hearth() + " bench -m " + Aidreams() + " -p 0 -n 24 -r 1 -t 2 --json ";
  auto fixed = RunCommand(base + "--prefetch 4096");
  ASSERT_EQ(fixed.exit_code, 0) << fixed.output;
  auto jf = json::Parse(fixed.output);
  ASSERT_TRUE(jf.ok()) << fixed.output;
  EXPECT_EQ(jf->Find("prefetch_bytes")->as_int(), 4096);
  EXPECT_FALSE(jf->Find("prefetch_tuned")->as_bool());
  auto tuned = RunCommand(base);  // 48 decode steps: one whole trial, then the choice
  ASSERT_EQ(tuned.exit_code, 0) << tuned.output;
  auto jt = json::Parse(tuned.output);
  ASSERT_TRUE(jt.ok()) << tuned.output;
  EXPECT_TRUE(jt->Find("prefetch_tuned")->as_bool());
  const int64_t chosen = jt->Find("prefetch_bytes")->as_int();
  const std::vector<int64_t> candidates = PrefetchTuner::Options().candidates;
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), chosen), candidates.end()) << chosen;
  for (const char* bad : {"--prefetch 10", "--prefetch abc", "--prefetch ''"}) {
    auto r = RunCommand(base + bad, true);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.output.find("--prefetch expects auto or a number of bytes"), std::string::npos)
        << bad << ": " << r.output;
  }
}

// --load mmap, memory (repacked for the CPU where it pays) and memory-plain
// give the same greedy text; the summaries say how many matrices were
// repacked (on avx512-vnni: the 7 products of each of the 2 layers, plus the
// untied Q4_0 output).
TEST(EngineCliTest, LoadModesGiveTheSameTokens) {
  const std::string model = testing::TempDir() + "/load-modes-q4_0.gguf";
  auto synth = RunCommand(Hearth() + " synth --preset tiny --dims n_embd=512,n_ff=1056,n_layer=2" +
                              " --type q4_0 -q -o " + model,
                          true);
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  std::string text;
  for (const char* load : {"mmap", "memory", "memory-plain"}) {
    SCOPED_TRACE(load);
    const std::string cmd = Hearth() + " run -m " + model + " -p 'Once upon' -n 24 --temp 0 " +
                            "--ignore-eos --load " + load;
    auto r = RunCommand(cmd + " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (text.empty()) text = r.output;
    EXPECT_EQ(r.output, text);
    auto s = RunCommand(cmd + " --stats json 2>&1 >/dev/null");
    auto stats = json::Parse(s.output);
    ASSERT_TRUE(stats.ok()) << s.output;
    const bool vnni = stats->Find("isa")->as_string() == "avx512-vnni";
    EXPECT_EQ(stats->Find("repacked_matrices")->as_int(),
              vnni && std::strcmp(load, "memory") == 0 ? 15 : 0);
    auto b =
        RunCommand(Hearth() + " bench -m " + model + " -p 8 -n 0 -r 1 -t 1 --json --load " + load);
    ASSERT_EQ(b.exit_code, 0) << b.output;
    auto bj = json::Parse(b.output);
    ASSERT_TRUE(bj.ok()) << b.output;
    EXPECT_EQ(bj->Find("load")->as_string(), load);
  }
  EXPECT_FALSE(text.empty());
}

TEST(EngineCliTest, TokenizeMatchesGoldenPromptIds) {
  HEARTH_REQUIRE_SHARED();
  auto c = testing::LoadGoldenCase("synth-qwen2-d256-q8_0.punct");
  ASSERT_TRUE(c.ok());
  auto r = RunCommand(Hearth() + " tokenize --json " + c->model_path +
                      " 'Tom had 3 red balls, and he said: \"Let'\\''s play!\"'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = json::Parse(r.output);
  ASSERT_TRUE(j.ok()) << r.output;
  std::vector<int32_t> ids;
  for (const auto& v : j->Find("ids")->as_array()) ids.push_back(v.as_int());
  EXPECT_EQ(ids, c->prompt_ids);
  // Decoding the ids gives the text back.
  std::string id_list;
  for (int32_t id : ids) id_list += std::to_string(id) + " ";
  auto d = RunCommand(Hearth() + " tokenize " + c->model_path + " --decode '" + id_list + "'");
  EXPECT_EQ(d.output, "Tom had 3 red balls, and he said: \"Let's play!\"\n");
  auto bad = RunCommand(Hearth() + " tokenize " + c->model_path + " --decode 'x 1'", true);
  EXPECT_EQ(bad.exit_code, 2);
  auto bench = RunCommand(Hearth() + " tokenize " + c->model_path + " --bench -r 1 --json");
  ASSERT_EQ(bench.exit_code, 0);
  auto bj = json::Parse(bench.output);
  ASSERT_TRUE(bj.ok()) << bench.output;
  EXPECT_GT(bj->Find("mb_per_second")->as_double(), 0.0);
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

TEST(EngineCliTest, SeededSamplingIsReproducibleAcrossThreadCounts) {
  HEARTH_REQUIRE_SHARED();
  const std::string base = testing::HearthBinary() + " run -m " + testing::SharedDir() +
                           "/models/aidreams260K/aidreams260K-f32.gguf -p 'I dreamed' -n 48 " +
                           "--temp 0.9 --top-k 40 --top-p 0.95 2>/dev/null";
  auto a = testing::RunCommand(base + " --seed 7 -t 1");
  auto b = testing::RunCommand(base + " --seed 7 -t 2");
  auto c = testing::RunCommand(base + " --seed 8 -t 2");
  auto greedy = testing::RunCommand(base + " --seed 7 --temp 0");
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.output, b.output) << "same seed, different thread count";
  EXPECT_NE(a.output, c.output) << "a different seed should change the sample";
  EXPECT_NE(a.output, greedy.output) << "temperature should change the output";
  auto bad = testing::RunCommand(base + " --top-p 1.5", true);
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

TEST(EngineCliTest, StopStringEndsTheOutputWithoutPrintingIt) {
  HEARTH_REQUIRE_SHARED();
  // The greedy continuation of "I dreamed" is ", as I sense the nodes, a gentle hum of ...".
  const std::string base = testing::HearthBinary() + " run -m " + testing::SharedDir() +
                           "/models/aidreams260K/aidreams260K-f32.gguf -p 'I dreamed' -n 64 " +
                           "--stats json";
  auto r = testing::RunCommand(base + " --stop 'nodes' 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, ", as I sense the \n");
  auto s = testing::RunCommand(base + " --stop 'gentle,nodes' 2>&1 >/dev/null");
  auto stats = json::Parse(s.output);
  ASSERT_TRUE(stats.ok()) << s.output;
  EXPECT_EQ(stats->Find("stop_reason")->as_string(), "stop_sequence");
  auto limit = testing::RunCommand(base + " -n 3 2>&1 >/dev/null");
  auto lstats = json::Parse(limit.output);
  ASSERT_TRUE(lstats.ok()) << limit.output;
  EXPECT_EQ(lstats->Find("stop_reason")->as_string(), "max_tokens");
  EXPECT_EQ(lstats->Find("generated_tokens")->as_int(), 3);
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

void RecordAndReplay(const std::string& model, const std::string& dir) {
  const std::string rec = dir + "/run.json";
  auto r = testing::RunCommand(testing::HearthBinary() + " run -m " + model +
                               " -p 'Once upon a time' -n 24 --temp 0.7 --top-p 0.9 --seed 11 " +
                               "-t 1 --record " + rec + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto text = ReadFileToString(rec);
  ASSERT_TRUE(text.ok());
  auto doc = json::Parse(*text);
  ASSERT_TRUE(doc.ok());
  for (const char* k : {"model_sha256", "hearth_version", "seed", "parameters", "threads",
                        "prompt_sha256", "prompt_ids", "output_ids"}) {
    EXPECT_NE(doc->Find(k), nullptr) << k;
  }
  EXPECT_EQ(doc->Find("output_ids")->as_array().size(), 24u);
  // Replay with a different thread count: determinism makes the ids identical.
  auto ok = testing::RunCommand(testing::HearthBinary() + " run --replay " + rec +
                                " -t 2 2>&1 >/dev/null");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("replay: match"), std::string::npos) << ok.output;
  // A tampered record is reported as a mismatch.
  json::Value bad = *doc;
  json::Value& ids = *bad.Find("output_ids");
  ids.as_array()[5] = json::Value((ids.as_array()[5].as_int() + 1) % 500);
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.json", json::Serialize(bad)).ok());
  auto mismatch = testing::RunCommand(testing::HearthBinary() + " run --replay " + dir +
                                      "/bad.json 2>&1 >/dev/null");
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.output.find("MISMATCH at output token 5"), std::string::npos)
      << mismatch.output;
}

TEST(EngineCliTest, RecordedRunsReplayExactly) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::TempDir();
  RecordAndReplay(testing::SharedDir() + "/models/aidreams260K/aidreams260K-f32.gguf", dir);
  // A synthetic quantized model (k-quant mixture).
  const std::string synth = dir + "/synth-q4_k_m.gguf";
  auto s = testing::RunCommand(testing::HearthBinary() +
                               " synth --preset tiny --type q4_k_m -q -o " + synth);
  ASSERT_EQ(s.exit_code, 0);
  RecordAndReplay(synth, dir);
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

TEST(EngineCliTest, RunJsonHasIdsTextAndTimings) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/prompt.txt", "I dreamed").ok());
  auto r = testing::RunCommand(testing::HearthBinary() + " run -m " + testing::SharedDir() +
                               "/models/aidreams260K/aidreams260K-f32.gguf -f " + dir +
                               "/prompt.txt -n 12 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0);
  auto j = json::Parse(r.output);
  ASSERT_TRUE(j.ok()) << r.output;
  EXPECT_EQ(j->Find("prompt_ids")->as_array().size(), 7u);
  EXPECT_EQ(j->Find("output_ids")->as_array().size(), 12u);
  EXPECT_EQ(j->Find("text")->as_string().rfind(", as I sense the nodes", 0), 0u)
      << j->Find("text")->as_string();
  const json::Value* t = j->Find("timings");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Find("stop_reason")->as_string(), "max_tokens");
  EXPECT_GT(t->Find("decode_tokens_per_second")->as_double(), 0.0);
}

}  // namespace
}  // namespace hearth
