// Normalization against the Unicode conformance test (NormalizationTest.txt,
// every line, every form) plus invalid-UTF-8 pass-through.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/unicode/unicode.h"

namespace hearth::unicode {
namespace {

std::string FromHex(const std::string& field) {
  std::istringstream in(field);
  std::string h, out;
  while (in >> h) AppendUtf8(&out, static_cast<uint32_t>(std::stoul(h, nullptr, 16)));
  return out;
}

std::string Hex(std::string_view s) {
  std::string out;
  size_t pos = 0;
  char buf[16];
  while (pos < s.size()) {
    std::snprintf(buf, sizeof(buf), "%04X ", DecodeUtf8(s, &pos));
    out += buf;
  }
  return out;
}

TEST(NormalizationTest, ConformanceFile) {
  const std::string path = HEARTH_NORMALIZATION_TEST;
  if (path.empty()) GTEST_SKIP() << "NormalizationTest.txt not available (unicode-data, bzip2)";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::string line;
  bool in_part1 = false;
  std::set<uint32_t> part1;
  size_t lines = 0, failures = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '@') {
      in_part1 = line.rfind("@Part1", 0) == 0;
      continue;
    }
    std::vector<std::string> c;
    std::istringstream fields(line);
    std::string f;
    for (int i = 0; i < 5 && std::getline(fields, f, ';'); ++i) c.push_back(FromHex(f));
    ASSERT_EQ(c.size(), 5u) << line;
    ++lines;
    if (in_part1) {
      size_t pos = 0;
      part1.insert(DecodeUtf8(c[0], &pos));
    }
    // UAX #15 conformance invariants.
    auto check = [&](Form form, const char* name, int src, int want) {
      const std::string got = Normalize(c[src], form);
      if (got != c[want]) {
        if (++failures <= 20) {
          ADD_FAILURE() << name << "(c" << src + 1 << ") = " << Hex(got) << " want c" << want + 1
                        << " = " << Hex(c[want]) << "  line: " << line;
        }
      }
    };
    for (int i = 0; i < 3; ++i) check(Form::kNfc, "NFC", i, 1);
    for (int i = 3; i < 5; ++i) check(Form::kNfc, "NFC", i, 3);
    for (int i = 0; i < 3; ++i) check(Form::kNfd, "NFD", i, 2);
    for (int i = 3; i < 5; ++i) check(Form::kNfd, "NFD", i, 4);
    for (int i = 0; i < 5; ++i) check(Form::kNfkc, "NFKC", i, 3);
    for (int i = 0; i < 5; ++i) check(Form::kNfkd, "NFKD", i, 4);
  }
  EXPECT_GT(lines, 19000u);
  EXPECT_EQ(failures, 0u);
  // Part 1 lists every code point with a non-trivial normalization; all others
  // are invariant under every form.
  size_t invariant_failures = 0;
  for (uint32_t cp = 0; cp <= kMaxCodepoint; ++cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || part1.count(cp)) continue;
    std::string s;
    AppendUtf8(&s, cp);
    for (Form form : {Form::kNfc, Form::kNfd, Form::kNfkc, Form::kNfkd}) {
      if (Normalize(s, form) != s && ++invariant_failures <= 10) {
        ADD_FAILURE() << "U+" << Hex(s) << " changed by form " << static_cast<int>(form);
      }
    }
  }
  EXPECT_EQ(invariant_failures, 0u);
  std::printf("NormalizationTest.txt: %zu lines x 4 forms, %zu failures\n", lines, failures);
}

TEST(NormalizationTest, Examples) {
  // é precomposed vs e + U+0301.
  EXPECT_EQ(Normalize("\xC3\xA9", Form::kNfd), "e\xCC\x81");
  EXPECT_EQ(Normalize("e\xCC\x81", Form::kNfc), "\xC3\xA9");
  // Hangul: 한 = U+D55C = 1112 1161 11AB.
  EXPECT_EQ(Normalize("\xED\x95\x9C", Form::kNfd), "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB");
  EXPECT_EQ(Normalize("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", Form::kNfc), "\xED\x95\x9C");
  // ﬁ ligature is compatibility-only; ① -> 1; Å (ANGSTROM SIGN) -> Å canonically.
  EXPECT_EQ(Normalize("\xEF\xAC\x81", Form::kNfc), "\xEF\xAC\x81");
  EXPECT_EQ(Normalize("\xEF\xAC\x81", Form::kNfkc), "fi");
  EXPECT_EQ(Normalize("\xE2\x91\xA0", Form::kNfkd), "1");
  EXPECT_EQ(Normalize("\xE2\x84\xAB", Form::kNfc), "\xC3\x85");
  // Canonical ordering: dot below (220) sorts before acute (230).
  EXPECT_EQ(Normalize("a\xCC\x81\xCC\xA3", Form::kNfd), "a\xCC\xA3\xCC\x81");
  EXPECT_EQ(Normalize("", Form::kNfc), "");
  EXPECT_EQ(Normalize("plain ascii", Form::kNfkc), "plain ascii");
}

TEST(NormalizationTest, InvalidBytesPassThroughUnchanged) {
  EXPECT_EQ(Normalize("e\xCC\x81\xFF", Form::kNfc), "\xC3\xA9\xFF");
  EXPECT_EQ(Normalize("\xFF"
                      "e\xCC\x81",
                      Form::kNfc),
            "\xFF\xC3\xA9");
  // The invalid byte separates e from its accent: no composition across it.
  EXPECT_EQ(Normalize("e\x80\xCC\x81", Form::kNfc), "e\x80\xCC\x81");
  EXPECT_EQ(Normalize("\xE2\x82", Form::kNfkd), "\xE2\x82");
  EXPECT_EQ(Normalize("\xED\xA0\x80", Form::kNfd), "\xED\xA0\x80");

  // Property: the invalid bytes of the input appear, in order, in the output.
  std::mt19937 rng(11);
  const char* atoms[] = {
      "a",    "e",    "\xCC\x81", "\xCC\xA3", "\xC3\xA9", "\xED\x95\x9C", "\xEF\xAC\x81",
      "\x80", "\xFF", "\xE2\x82", "\xC3",     " "};
  for (int iter = 0; iter < 5000; ++iter) {
    std::string s;
    for (int i = static_cast<int>(rng() % 12); i > 0; --i) s += atoms[rng() % 12];
    for (Form form : {Form::kNfc, Form::kNfd, Form::kNfkc, Form::kNfkd}) {
      const std::string out = Normalize(s, form);
      auto invalid_bytes = [](const std::string& x) {
        std::string bad;
        size_t pos = 0;
        while (pos < x.size()) {
          const size_t start = pos;
          if (DecodeUtf8(x, &pos) == kReplacementChar && pos == start + 1) bad += x[start];
        }
        return bad;
      };
      ASSERT_EQ(invalid_bytes(out), invalid_bytes(s));
      ASSERT_EQ(Normalize(out, form), out);  // idempotent
    }
  }
}

TEST(NormalizationTest, StripAccents) {
  EXPECT_EQ(StripAccents("H\xC3\xA9llo"), "Hello");
  EXPECT_EQ(StripAccents("\xC3\xA0 la cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
                         "e"),
            "a la creme brulee");
  EXPECT_EQ(StripAccents("na\xC3\xAFve \xFF"), "naive \xFF");
  EXPECT_EQ(StripAccents("\xE4\xB8\x80"), "\xE4\xB8\x80");  // 一 unchanged
}

}  // namespace
}  // namespace hearth::unicode
