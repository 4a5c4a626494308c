// Pre-tokenizer splits per family, checked against expectations derived by
// hand from each family's regexes (leftmost-first alternation, greedy
// quantifiers), and the covering property on arbitrary bytes.
#include "tokenizer/unicode/pretokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace hearth::unicode {
namespace {

using Pieces = std::vector<std::string>;

Pieces SplitWith(const PreTokenizer& pre, std::string_view text) {
  std::vector<std::string_view> views;
  pre.Split(text, &views);
  return Pieces(views.begin(), views.end());
}

// Splits with both engines (where a hand-written splitter exists, they must agree).
Pieces Split(std::string_view family, std::string_view text) {
  auto fast = PreTokenizer::ForFamily(family);
  auto regex = PreTokenizer::ForFamily(family, PreTokenizer::Engine::kRegex);
  EXPECT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_TRUE(regex.ok()) << regex.status().ToString();
  if (!fast.ok() || !regex.ok()) return {};
  Pieces a = SplitWith(*fast, text);
  EXPECT_EQ(a, SplitWith(*regex, text)) << family << ": fast path and PCRE2 differ";
  return a;
}

TEST(PreTokenizerTest, Gpt2) {
  EXPECT_EQ(Split("gpt-2", "Hello world's  123"), (Pieces{"Hello", " world", "'s", " ", " 123"}));
  EXPECT_EQ(Split("gpt-2", "I'M fine"), (Pieces{"I", "'", "M", " fine"}));
  EXPECT_EQ(Split("gpt-2", "  leading\ttab"), (Pieces{" ", " leading", "\t", "tab"}));
  EXPECT_EQ(Split("gpt-2", "x += 42;\n"), (Pieces{"x", " +=", " 42", ";", "\n"}));
  EXPECT_EQ(Split("gpt-2", "trailing   "), (Pieces{"trailing", "   "}));
  EXPECT_EQ(Split("gpt-2",
                  "ab\xFF"
                  "cd"),
            (Pieces{"ab", "\xFF", "cd"}));
  EXPECT_EQ(Split("gpt-2", "\xE4\xBD\xA0\xE5\xA5\xBD \xE4\xB8\x96"),  // 你好 世
            (Pieces{"\xE4\xBD\xA0\xE5\xA5\xBD", " \xE4\xB8\x96"}));
  EXPECT_EQ(Split("mpt", "it's"), (Pieces{"it", "'s"}));  // an alias
}

TEST(PreTokenizerTest, Llama3) {
  EXPECT_EQ(Split("llama-bpe", "Hello world's  123"),
            (Pieces{"Hello", " world", "'s", " ", " ", "123"}));
  EXPECT_EQ(Split("llama3", "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(Split("llama3", "I'M HERE\n\nok"), (Pieces{"I", "'M", " HERE", "\n\n", "ok"}));
  EXPECT_EQ(Split("llama3", "hello!!\n  world"), (Pieces{"hello", "!!\n", " ", " world"}));
  EXPECT_EQ(Split("llama3", "\tword (x)"), (Pieces{"\tword", " (", "x", ")"}));
  EXPECT_EQ(Split("llama3", "a \n b"), (Pieces{"a", " \n", " b"}));
  EXPECT_EQ(Split("llama3", "end  "), (Pieces{"end", "  "}));
}

TEST(PreTokenizerTest, Qwen2SplitsDigitsSingly) {
  EXPECT_EQ(Split("qwen2", "abc 2024!"), (Pieces{"abc", " ", "2", "0", "2", "4", "!"}));
  EXPECT_EQ(Split("qwen2", "We're"), (Pieces{"We", "'re"}));
  EXPECT_EQ(Split("stablelm2", "x1"), (Pieces{"x", "1"}));
}

TEST(PreTokenizerTest, StarcoderAndFalcon) {
  EXPECT_EQ(Split("starcoder", "abc123 x"), (Pieces{"abc", "1", "2", "3", " x"}));
  EXPECT_EQ(Split("refact", "v2"), (Pieces{"v", "2"}));
  // falcon: punctuation runs first, then GPT-2 words, then digit triples.
  EXPECT_EQ(Split("falcon", "f(x)=1234"), (Pieces{"f", "(", "x", ")=", "123", "4"}));
}

TEST(PreTokenizerTest, LlamaCppDefault) {
  EXPECT_EQ(Split("default", "a+b=c 123456"), (Pieces{"a", "+", "b", "=", "c", " ", "123", "456"}));
  EXPECT_EQ(Split("", "a+b"), (Pieces{"a", "+", "b"}));
}

TEST(PreTokenizerTest, DeepSeek) {
  EXPECT_EQ(Split("deepseek-v3", "Hello 12345 \xE4\xB8\x96\xE7\x95\x8C"),  // 世界
            (Pieces{"Hello", " ", "123", "45", " ", "\xE4\xB8\x96\xE7\x95\x8C"}));
  EXPECT_EQ(Split("deepseek-coder", "if x:\n  y1"),
            (Pieces{"if", " x", ":", "\n", " ", " y", "1"}));
  EXPECT_EQ(Split("deepseek-llm", "Hi, there!\n"), (Pieces{"Hi", ",", " there", "!", "\n"}));
}

TEST(PreTokenizerTest, Gpt4oCaseSplits) {
  EXPECT_EQ(Split("gpt-4o", "HelloWorld's CAPSWord"), (Pieces{"Hello", "World's", " CAPSWord"}));
  EXPECT_EQ(Split("llama4", "path/to/file\n"), (Pieces{"path", "/to", "/file", "\n"}));
}

TEST(PreTokenizerTest, Bert) {
  EXPECT_EQ(Split("bert", "Hello, \xE4\xB8\x96\xE7\x95\x8C!"),
            (Pieces{"Hello", ",", " ", "\xE4\xB8\x96", "\xE7\x95\x8C", "!"}));
  EXPECT_EQ(Split("bert", "don't  go"), (Pieces{"don", "'", "t", "  ", "go"}));
  EXPECT_EQ(Split("bert", "a$b"), (Pieces{"a", "$", "b"}));  // ASCII symbols count as punctuation
}

TEST(PreTokenizerTest, EmptyMatchesOnlySplit) {
  // superbpe's second stage is a pure lookahead: digits grouped by 3 from the right.
  EXPECT_EQ(Split("superbpe", "x1234567"), (Pieces{"x", "1", "234", "567"}));
}

TEST(PreTokenizerTest, NoneAndEmpty) {
  EXPECT_EQ(Split("none", "any text"), (Pieces{"any text"}));
  EXPECT_EQ(Split("gpt-2", ""), Pieces{});
  EXPECT_EQ(SplitWith(PreTokenizer(), "a b"), Pieces{"a b"});
}

TEST(PreTokenizerTest, FromRegexes) {
  auto pre = PreTokenizer::FromRegexes({R"(\p{N}{1,3})", R"(\s+|\w+)"});
  ASSERT_TRUE(pre.ok()) << pre.status().ToString();
  EXPECT_EQ(SplitWith(*pre, "ab 12345"), (Pieces{"ab", " ", "123", "45"}));
  // The tokenizer.json spelling of the llama3 pattern selects the caseless fast path.
  auto llama3 = PreTokenizer::FromRegexes(
      {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"});
  ASSERT_TRUE(llama3.ok());
  EXPECT_TRUE(llama3->uses_fast_path());
  EXPECT_EQ(SplitWith(*llama3, "IT'S"), (Pieces{"IT", "'S"}));
  auto bad = PreTokenizer::FromRegexes({"(unclosed"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("(unclosed"), std::string::npos);
}

TEST(PreTokenizerTest, UnknownFamilyIsAnErrorListingKnownOnes) {
  auto r = PreTokenizer::ForFamily("no-such-family");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no-such-family"), std::string::npos);
  EXPECT_NE(r.status().message().find("llama-bpe"), std::string::npos);
  auto custom = PreTokenizer::ForFamily("kimi-k2");
  ASSERT_FALSE(custom.ok());
  EXPECT_EQ(custom.status().code(), StatusCode::kUnimplemented);
}

TEST(PreTokenizerTest, EveryFamilyCompilesAndCoversRandomBytes) {
  std::mt19937 rng(3);
  const char* atoms[] = {"a",
                         "Z",
                         " ",
                         "  ",
                         "\n",
                         "\r\n",
                         "\t",
                         "7",
                         "123",
                         "'s",
                         "'",
                         "!",
                         "\xC3\xA9",
                         "\xE4\xB8\x96",
                         "\xF0\x9F\x98\x80",
                         "\xE3\x80\x80",
                         "\xCC\x81",
                         "\x80",
                         "\xFF",
                         "\xE2\x82",
                         "\xC3",
                         "\xED\xA0\x80"};
  constexpr size_t kAtoms = sizeof(atoms) / sizeof(atoms[0]);
  for (const std::string& family : PreTokenizer::KnownFamilies()) {
    auto pre = PreTokenizer::ForFamily(family);
    if (!pre.ok() && pre.status().code() == StatusCode::kUnimplemented) continue;
    ASSERT_TRUE(pre.ok()) << family << ": " << pre.status().ToString();
    std::vector<std::string_view> pieces;
    for (int iter = 0; iter < 300; ++iter) {
      std::string s;
      for (int i = static_cast<int>(rng() % 40); i > 0; --i) {
        if (rng() % 4 == 0) {
          s.push_back(static_cast<char>(rng() & 0xFF));  // any byte at all
        } else {
          s += atoms[rng() % kAtoms];
        }
      }
      pre->Split(s, &pieces);
      std::string joined;
      for (std::string_view p : pieces) {
        ASSERT_FALSE(p.empty()) << family;
        joined += p;
      }
      ASSERT_EQ(joined, s) << family;
    }
  }
}

TEST(PreTokenizerTest, SafeFromManyThreads) {
  auto pre = PreTokenizer::ForFamily("deepseek-v3");
  ASSERT_TRUE(pre.ok());
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "Line " + std::to_string(i) + ": caf\xC3\xA9 \xE4\xB8\x96!\n";
  std::vector<std::string_view> expected;
  pre->Split(text, &expected);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string_view> got;
      for (int i = 0; i < 5; ++i) pre->Split(text, &got);
      ok[t] = got == expected;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(ok[t]) << t;
}

// Sanity check against quadratic behaviour, not a performance claim: the
// bound is ~100x what a release build needs.
TEST(PreTokenizerTest, OneMegabyteFinishesQuickly) {
  std::string text;
  while (text.size() < (1 << 20)) {
    text += "The quick brown fox's 12345 jumps;\n\t  over \xE4\xB8\x96\xE7\x95\x8C ";
    text += std::string(50, ' ');
    text += std::string(30, 'x');
  }
  text += std::string(100000, ' ');  // one long whitespace run
  text += std::string(100000, 'a');  // one long word
  for (const char* family : {"gpt-2", "llama3", "qwen2", "deepseek-llm", "deepseek-v3", "gpt-4o",
                             "tekken", "bert", "default"}) {
    for (auto engine : {PreTokenizer::Engine::kAuto, PreTokenizer::Engine::kRegex}) {
      auto pre = PreTokenizer::ForFamily(family, engine);
      ASSERT_TRUE(pre.ok());
      const auto start = std::chrono::steady_clock::now();
      std::vector<std::string_view> pieces;
      pre->Split(text, &pieces);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      size_t total = 0;
      for (std::string_view p : pieces) total += p.size();
      EXPECT_EQ(total, text.size()) << family;
      EXPECT_LT(secs, 30.0) << family;
    }
  }
}

}  // namespace
}  // namespace hearth::unicode
