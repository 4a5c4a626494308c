// Differential test: the hand-written gpt-2 / llama3 / qwen2 splitters must
// produce exactly PCRE2's pieces. PCRE2 10.42 carries Unicode 14 properties
// while our tables are Unicode 15, so code points first assigned in 15.0
// (DerivedAge.txt) are left out of the comparison.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tokenizer/unicode/pretokenizer.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth::unicode {
namespace {

// Code points whose Age is 15.0.
std::set<uint32_t> NewInUnicode15() {
  std::set<uint32_t> out;
  std::ifstream in(std::string(HEARTH_UNICODE_DATA_DIR) + "/DerivedAge.txt");
  std::string line;
  while (std::getline(in, line)) {
    const size_t semi = line.find(';');
    if (line.empty() || line[0] == '#' || semi == std::string::npos) continue;
    if (line.find("15.0", semi) != semi + 2) continue;
    const std::string range = line.substr(0, line.find_first_of(" ;"));
    const size_t dots = range.find("..");
    const uint32_t a = std::stoul(range.substr(0, dots), nullptr, 16);
    const uint32_t b =
        dots == std::string::npos ? a : std::stoul(range.substr(dots + 2), nullptr, 16);
    for (uint32_t x = a; x <= b; ++x) out.insert(x);
  }
  return out;
}

struct Pair {
  std::string name;
  PreTokenizer fast;
  PreTokenizer regex;
};

std::vector<Pair> Pairs() {
  std::vector<Pair> out;
  for (const char* f : {"gpt-2", "llama3", "qwen2"}) {
    auto fast = PreTokenizer::ForFamily(f);
    auto regex = PreTokenizer::ForFamily(f, PreTokenizer::Engine::kRegex);
    EXPECT_TRUE(fast.ok() && regex.ok() && fast->uses_fast_path());
    out.push_back({f, *fast, *regex});
  }
  // tokenizer.json spellings (Unicode caseless contractions).
  const std::string tail =
      R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string ci = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  for (
      const std::string& p :
      {ci + tail,
       ci +
           R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}) {
    auto fast = PreTokenizer::FromRegexes({p});
    auto regex = PreTokenizer::FromRegexes({p}, PreTokenizer::Engine::kRegex);
    EXPECT_TRUE(fast.ok() && regex.ok() && fast->uses_fast_path());
    out.push_back({"hf:" + p.substr(ci.size(), 40), *fast, *regex});
  }
  return out;
}

std::vector<std::string> Pieces(const PreTokenizer& pre, std::string_view s) {
  std::vector<std::string_view> v;
  pre.Split(s, &v);
  return std::vector<std::string>(v.begin(), v.end());
}

std::string Printable(const std::string& s) {
  std::string out;
  char buf[8];
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

// Every code point, in contexts that exercise each alternative of the patterns.
TEST(FastSplitDiffTest, EveryCodePointInContext) {
  const std::set<uint32_t> skip = NewInUnicode15();
  ASSERT_GT(skip.size(), 4000u) << "DerivedAge.txt not read";
  const std::vector<Pair> pairs = Pairs();
  const char* contexts[][2] = {{"a", "b"},  {" ", "1"},     {"'", "x"},           {"1", "\n "},
                               {"  ", "!"}, {"\r\n", "  "}, {"\xC3\xA9", " \xFF"}};
  size_t compared = 0;
  for (uint32_t cp = 0; cp <= kMaxCodepoint; ++cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || skip.count(cp)) continue;
    std::string x;
    AppendUtf8(&x, cp);
    for (const auto& ctx : contexts) {
      const std::string s = ctx[0] + x + x + ctx[1];
      for (const Pair& p : pairs) {
        ASSERT_EQ(Pieces(p.fast, s), Pieces(p.regex, s)) << p.name << " on " << Printable(s);
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000000u);
}

// Random mixtures of the characters the patterns care about, invalid bytes included.
TEST(FastSplitDiffTest, RandomStrings) {
  const std::set<uint32_t> skip = NewInUnicode15();
  const std::vector<Pair> pairs = Pairs();
  const char* atoms[] = {"a",
                         "Z",
                         "s",
                         "S",
                         "t",
                         "re",
                         "RE",
                         "ll",
                         "Ll",
                         "ve",
                         "m",
                         "d",
                         "D",
                         "'",
                         "'",
                         "\xC5\xBF",
                         " ",
                         " ",
                         " ",
                         "  ",
                         "\t",
                         "\n",
                         "\r",
                         "\r\n",
                         "\x0B",
                         "\x0C",
                         "\xC2\x85",
                         "\xC2\xA0",
                         "\xE3\x80\x80",
                         "\xE1\xA0\x8E",
                         "\xE2\x80\xA8",
                         "0",
                         "7",
                         "123",
                         "\xD9\xA3",
                         "\xE2\x85\xA7",
                         "!",
                         "?",
                         ".",
                         ",",
                         "/",
                         "(",
                         "_",
                         "-",
                         "\xE2\x82\xAC",
                         "\xF0\x9F\x98\x80",
                         "\xC3\xA9",
                         "\xE4\xB8\x96",
                         "\xCC\x81",
                         "\xE2\x80\x8B",
                         "\x80",
                         "\xFF",
                         "\xC3",
                         "\xE2\x82",
                         "\xED\xA0\x80",
                         "\xF0\x9F\x98",
                         "\xC0\xAF"};
  constexpr size_t kAtoms = sizeof(atoms) / sizeof(atoms[0]);
  std::mt19937 rng(12345);
  size_t compared = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) {
      const uint32_t r = rng() % 16;
      if (r == 0) {
        s.push_back(static_cast<char>(rng() & 0xFF));
      } else if (r == 1) {
        uint32_t cp = rng() % 0x30000;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || skip.count(cp)) cp = 'q';
        AppendUtf8(&s, cp);
      } else {
        s += atoms[rng() % kAtoms];
      }
    }
    for (const Pair& p : pairs) {
      ASSERT_EQ(Pieces(p.fast, s), Pieces(p.regex, s)) << p.name << " on " << Printable(s);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 200000u * pairs.size());
}

}  // namespace
}  // namespace hearth::unicode
