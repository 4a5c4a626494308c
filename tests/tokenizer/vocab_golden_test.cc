// GGUF tokenizers against llama.cpp's conformance files (shared/testdata/vocab:
// .inp strings, .out expected ids, no BOS) and the golden prompts of
// shared/testdata/golden (prompt -> prompt_ids with the model's default BOS;
// greedy ids -> greedy_text bytes).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "format/gguf.h"
#include "model/vocab_gguf.h"
#include "testing/test_paths.h"
#include "testing/vocab_cases.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

using testing::IdsText;
using Case = testing::VocabCase;

std::string VocabDir() {
  return testing::SharedDir() + "/testdata/vocab";
}

std::vector<Case> ReadCases(const std::string& base) {
  return testing::ReadVocabCases(base + ".inp", base + ".out");
}

std::unique_ptr<tok::Tokenizer> LoadGgufTokenizer(const std::string& path) {
  auto f = GgufFile::Open(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return nullptr;
  auto t = LoadTokenizer(*f);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

class VocabGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabGoldenTest, EncodeMatchesLlamaCpp) {
  HEARTH_REQUIRE_SHARED();
  const std::string base = VocabDir() + "/ggml-vocab-" + GetParam() + ".gguf";
  auto t = LoadGgufTokenizer(base);
  ASSERT_NE(t, nullptr);
  auto cases = ReadCases(base);
  ASSERT_EQ(cases.size(), 46u);
  tok::EncodeOptions opts;
  opts.add_special = false;
  int failures = 0;
  for (const Case& c : cases) {
    std::vector<int32_t> got = t->Encode(c.text, opts);
    if (got != c.ids) {
      ++failures;
      ADD_FAILURE() << GetParam() << ": text '" << EscapeForDisplay(c.text, 200) << "'\n  expected"
                    << IdsText(c.ids) << "\n  actual  " << IdsText(got);
    }
  }
  EXPECT_EQ(failures, 0) << failures << " of " << cases.size() << " strings differ";
}

// Lossless families: decode(encode(s)) == s. WordPiece (bert-bge) lowercases,
// strips accents and drops whitespace, so it is excluded.
TEST_P(VocabGoldenTest, DecodeRoundTrips) {
  HEARTH_REQUIRE_SHARED();
  if (std::string(GetParam()) == "bert-bge") GTEST_SKIP() << "WordPiece is lossy";
  const std::string base = VocabDir() + "/ggml-vocab-" + GetParam() + ".gguf";
  auto t = LoadGgufTokenizer(base);
  ASSERT_NE(t, nullptr);
  for (const Case& c : ReadCases(base)) {
    // With BOS (where the vocabulary adds one) and without.
    for (bool add_special : {false, true}) {
      tok::EncodeOptions eo;
      eo.add_special = add_special;
      tok::DecodeOptions dopts;
      dopts.skip_special = true;
      EXPECT_EQ(t->Decode(t->Encode(c.text, eo), dopts), c.text)
          << GetParam() << " add_special=" << add_special;
    }
  }
}

// A long input (all strings repeated, ~0.5 MB) encodes in one go and round
// trips; guards against super-linear behaviour (e.g. one huge SentencePiece
// fragment) through the test timeout.
TEST_P(VocabGoldenTest, LargeInputRoundTrips) {
  HEARTH_REQUIRE_SHARED();
  const std::string base = VocabDir() + "/ggml-vocab-" + GetParam() + ".gguf";
  auto t = LoadGgufTokenizer(base);
  ASSERT_NE(t, nullptr);
  std::string text;
  const std::vector<Case> cases = ReadCases(base);
  while (text.size() < (512u << 10)) {
    for (const Case& c : cases) text += c.text + " ";
  }
  tok::EncodeOptions eo;
  eo.add_special = false;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = t->Encode(text, eo);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %zu bytes -> %zu ids in %.1f ms\n", GetParam(), text.size(), ids.size(), ms);
  if (std::string(GetParam()) != "bert-bge") {
    EXPECT_EQ(t->Decode(ids), text);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, VocabGoldenTest,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-coder",
                                           "deepseek-llm", "falcon", "mpt", "refact", "starcoder",
                                           "bert-bge"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           std::string name = param.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// The golden prompts: llama.cpp's tokenization with the model's default BOS,
// and the greedy ids' pieces concatenated (byte-exact).
TEST(GoldenPromptTest, PromptIdsAndPieces) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::SharedDir() + "/testdata/golden";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    if (!EndsWith(path, ".json") || EndsWith(path, "index.json")) continue;
    auto text = ReadFileToString(path);
    ASSERT_TRUE(text.ok());
    auto doc = json::Parse(*text);
    ASSERT_TRUE(doc.ok()) << path;
    const json::Value* model = doc->Find("model_file");
    if (model == nullptr) continue;
    std::string model_path = dir + "/" + model->as_string();
    if (!std::filesystem::exists(model_path)) {
      const std::string name = model->as_string();
      model_path = testing::SharedDir() + "/models/" + name.substr(0, name.find('-')) + "/" + name;
    }
    if (!std::filesystem::exists(model_path)) continue;
    SCOPED_TRACE(path);
    auto t = LoadGgufTokenizer(model_path);
    ASSERT_NE(t, nullptr);
    std::vector<int32_t> want;
    for (const json::Value& id : doc->Find("prompt_ids")->as_array()) {
      want.push_back(static_cast<int32_t>(id.as_int()));
    }
    const std::vector<int32_t> got = t->Encode(doc->Find("prompt")->as_string());
    EXPECT_EQ(IdsText(got), IdsText(want));
    EXPECT_EQ(!got.empty() && got[0] == t->vocab().bos_id, doc->Find("add_bos")->as_bool());
    std::string pieces;
    for (const json::Value& id : doc->Find("greedy_ids")->as_array()) {
      pieces += t->TokenToPiece(static_cast<int32_t>(id.as_int()));
    }
    std::string hex;
    for (unsigned char c : pieces) hex += StrFormat("%02x", c);
    EXPECT_EQ(hex, doc->Find("greedy_text_utf8_hex")->as_string());
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// refs/<model>-tokenize.json: {"tokens": [...]}, llama.cpp's `llama-tokenize` of
// the sentence below with BOS, for the two tiny real models.
TEST(GoldenPromptTest, RefsTokenize) {
  HEARTH_REQUIRE_SHARED();
  const std::string kText = "Once upon a time, there was a little girl named Lily.";
  for (const char* name : {"aidreams260K", "stories260K"}) {
    SCOPED_TRACE(name);
    const std::string ref =
        testing::SharedDir() + "/testdata/refs/" + std::string(name) + "-f32-tokenize.json";
    auto text = ReadFileToString(ref);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto doc = json::Parse(*text);
    ASSERT_TRUE(doc.ok());
    std::vector<int32_t> want;
    for (const json::Value& id : doc->Find("tokens")->as_array()) {
      want.push_back(static_cast<int32_t>(id.as_int()));
    }
    auto t = LoadGgufTokenizer(testing::SharedDir() + "/models/" + name + "/" + name + "-f32.gguf");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(IdsText(t->Encode(kText)), IdsText(want));
    tok::DecodeOptions skip;
    skip.skip_special = true;
    EXPECT_EQ(t->Decode(want, skip), kText);
  }
}

}  // namespace
}  // namespace hearth
