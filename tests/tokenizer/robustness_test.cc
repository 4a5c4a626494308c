// Adversarial inputs of 1 MB for every tokenizer family in the shared data: no
// crash, no quadratic blow-up (a generous wall-clock bound as a sanity check,
// not a performance claim), and exact decode round trips where the family is
// lossless.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "format/gguf.h"
#include "model/vocab_gguf.h"
#include "testing/test_paths.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth {
namespace {

constexpr size_t kInputBytes = size_t{1} << 20;
// Linear-time tokenizers need well under a second here; a quadratic one needs minutes.
constexpr double kSecondsBound = 20.0;

std::vector<std::pair<std::string, std::string>> AdversarialInputs() {
  std::mt19937 rng(5);
  std::string random_bytes(kInputBytes, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  std::string emoji;
  while (emoji.size() < kInputBytes) emoji += "\xF0\x9F\x98\x80\xE4\xB8\xAD";  // 😀中
  std::string mixed;
  const char* parts[] = {"<|im_start|>", "  ", "\n\n", "x", "'s", "123456", "\xE2\x96\x81", "<s>"};
  while (mixed.size() < kInputBytes) mixed += parts[rng() % 8];
  return {{"one long word", std::string(kInputBytes, 'a')},
          {"spaces", std::string(kInputBytes, ' ')},
          {"newlines", std::string(kInputBytes, '\n')},
          {"digits", std::string(kInputBytes, '7')},
          {"alternating",
           [] {
             std::string s;
             while (s.size() < kInputBytes) s += "ab";
             return s;
           }()},
          {"random bytes", random_bytes},
          {"emoji and CJK", emoji},
          {"special-token soup", mixed}};
}

void Check(const tok::Tokenizer& t, const std::string& family, bool lossless) {
  for (const auto& [name, text] : AdversarialInputs()) {
    SCOPED_TRACE(family + " / " + name);
    tok::EncodeOptions eo;
    eo.add_special = false;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<int32_t> ids = t.Encode(text, eo);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(secs, kSecondsBound);
    // WordPiece drops whitespace, so whitespace-only text legitimately has no tokens.
    const bool blank = text.find_first_not_of(" \n") == std::string::npos;
    if (!(blank && family == "bert-bge")) {
      ASSERT_FALSE(ids.empty());
    }
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < t.n_vocab());
    std::string back = t.Decode(ids);
    if (lossless && unicode::IsValidUtf8(text)) {
      EXPECT_TRUE(back == text) << "round trip differs";
    }
  }
}

TEST(TokenizerRobustnessTest, GgufFamiliesOnMegabyteInputs) {
  HEARTH_REQUIRE_SHARED();
  for (const char* family : {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "deepseek-llm",
                             "falcon", "mpt", "refact", "starcoder", "bert-bge"}) {
    auto f =
        GgufFile::Open(testing::SharedDir() + "/testdata/vocab/ggml-vocab-" + family + ".gguf");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    auto t = LoadTokenizer(*f);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    // SentencePiece may fold whitespace runs and WordPiece normalizes: not lossless.
    const bool lossless = std::string(family) != "bert-bge" && std::string(family) != "llama-spm" &&
                          std::string(family) != "phi-3";
    Check(**t, family, lossless);
  }
}

TEST(TokenizerRobustnessTest, HfFamiliesOnMegabyteInputs) {
  HEARTH_REQUIRE_SHARED();
  for (const char* family : {"llama3", "qwen3", "deepseek_v3"}) {
    auto v = tok::VocabFromHfFile(testing::SharedDir() + "/testdata/hf-tokenizers/" + family +
                                  "/tokenizer.json");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    auto t = tok::Tokenizer::Create(std::move(v).value());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    Check(**t, family, std::string(family) != "qwen3");  // qwen3 applies NFC
  }
}

}  // namespace
}  // namespace hearth
