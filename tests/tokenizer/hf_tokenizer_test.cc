// Hugging Face tokenizer.json families against the goldens in
// shared/testdata/hf-tokenizers (produced by an independent implementation of
// the HF tokenizers semantics) and llama.cpp's HF-generated files in
// shared/testdata/vocab/inp-out-only.
#include <gtest/gtest.h>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "testing/test_paths.h"
#include "testing/vocab_cases.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

using testing::IdsText;
using Case = testing::VocabCase;

std::unique_ptr<tok::Tokenizer> LoadFamily(const std::string& family) {
  const std::string path =
      testing::SharedDir() + "/testdata/hf-tokenizers/" + family + "/tokenizer.json";
  auto v = tok::VocabFromHfFile(path);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  if (!v.ok()) return nullptr;
  auto t = tok::Tokenizer::Create(std::move(v).value());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

void CheckEncode(const tok::Tokenizer& t, const std::string& inp, const std::string& out) {
  auto cases = testing::ReadVocabCases(inp, out);
  ASSERT_FALSE(cases.empty());
  int failures = 0;
  tok::EncodeOptions opts;
  opts.add_special = false;
  for (const Case& c : cases) {
    std::vector<int32_t> got = t.Encode(c.text, opts);
    if (got != c.ids) {
      ++failures;
      ADD_FAILURE() << "text '" << EscapeForDisplay(c.text, 200) << "'\n  expected"
                    << IdsText(c.ids) << "\n  actual  " << IdsText(got);
    }
  }
  EXPECT_EQ(failures, 0) << failures << " of " << cases.size() << " strings differ";
}

void CheckDecodeGoldens(const tok::Tokenizer& t, const std::string& path) {
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  auto doc = json::Parse(*text);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const bool config_cleanup = doc->Find("clean_up_tokenization_spaces_config")->as_bool();
  for (const json::Value& c : doc->Find("cases")->as_array()) {
    const std::string& input = c.Find("text")->as_string();
    SCOPED_TRACE("text '" + EscapeForDisplay(input, 200) + "'");
    std::vector<int32_t> ids;
    for (const json::Value& id : c.Find("ids")->as_array())
      ids.push_back(static_cast<int32_t>(id.as_int()));
    tok::EncodeOptions eo;
    eo.add_special = false;
    eo.parse_special = c.Find("parse_special")->as_bool();
    EXPECT_EQ(IdsText(t.Encode(input, eo)), IdsText(ids)) << "encode";
    tok::DecodeOptions raw;
    EXPECT_EQ(t.Decode(ids, raw), c.Find("decoded")->as_string());
    tok::DecodeOptions skip;
    skip.skip_special = true;
    EXPECT_EQ(t.Decode(ids, skip), c.Find("decoded_skip_special_tokens")->as_string());
    tok::DecodeOptions cfg;
    cfg.clean_up_spaces = config_cleanup;
    EXPECT_EQ(t.Decode(ids, cfg), c.Find("decoded_config_default")->as_string());
  }
}

class HfFamilyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HfFamilyTest, EncodeMatchesGolden) {
  HEARTH_REQUIRE_SHARED();
  const std::string family = GetParam();
  auto t = LoadFamily(family);
  ASSERT_NE(t, nullptr);
  const std::string dir = testing::SharedDir() + "/testdata/hf-tokenizers/" + family + "/";
  CheckEncode(*t, dir + family + ".inp", dir + family + ".out");
}

TEST_P(HfFamilyTest, DecodeMatchesGolden) {
  HEARTH_REQUIRE_SHARED();
  const std::string family = GetParam();
  auto t = LoadFamily(family);
  ASSERT_NE(t, nullptr);
  CheckDecodeGoldens(*t, testing::SharedDir() + "/testdata/hf-tokenizers/" + family + "/" + family +
                             ".decode.json");
}

INSTANTIATE_TEST_SUITE_P(Families, HfFamilyTest,
                         ::testing::Values("llama3", "qwen3", "gemma3", "mistral", "deepseek_v3"));

// llama.cpp's own HF-generated expectations for the same families (see the
// hf-tokenizers README, "Cross-checks").
TEST(HfCrossCheckTest, LlamaCppGeneratedFiles) {
  HEARTH_REQUIRE_SHARED();
  const std::string io = testing::SharedDir() + "/testdata/vocab/inp-out-only/";
  const std::pair<const char*, const char*> pairs[] = {
      {"llama3", "ggml-vocab-llama-bpe.gguf"},
      {"qwen3", "ggml-vocab-qwen2.gguf"},
      {"gemma3", "ggml-vocab-gemma-4.gguf"},
  };
  for (const auto& [family, file] : pairs) {
    SCOPED_TRACE(family);
    auto t = LoadFamily(family);
    ASSERT_NE(t, nullptr);
    CheckEncode(*t, io + file + ".inp", io + file + ".out");
  }
}

TEST(HfJsonTest, RejectsWhatItDoesNotSupport) {
  auto v = tok::VocabFromHfJson(R"({"model": {"type": "Unigram", "vocab": []}})", "");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("Unigram"), std::string::npos);
  auto bad = tok::VocabFromHfJson("{not json", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  auto norm = tok::VocabFromHfJson(
      R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
          "normalizer": {"type": "Precompiled"}})",
      "");
  ASSERT_FALSE(norm.ok());
  EXPECT_NE(norm.status().message().find("Precompiled"), std::string::npos);
}

}  // namespace
}  // namespace hearth
