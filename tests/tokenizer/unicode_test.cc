// UTF-8, character properties, case mapping and the GPT-2 byte alphabet.
// Expected values are independent facts (the Unicode standard's tables and
// examples, the GPT-2 bytes_to_unicode definition), not outputs of this code.
#include "tokenizer/unicode/unicode.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace hearth::unicode {
namespace {

uint32_t DecodeOne(std::string_view s, size_t* consumed) {
  size_t pos = 0;
  uint32_t cp = DecodeUtf8(s, &pos);
  *consumed = pos;
  return cp;
}

TEST(Utf8Test, DecodesEachLength) {
  size_t n = 0;
  EXPECT_EQ(DecodeOne("A", &n), 0x41u);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(DecodeOne("\xC3\xA9", &n), 0xE9u);  // é
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(DecodeOne("\xE2\x82\xAC", &n), 0x20ACu);  // €
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(DecodeOne("\xF0\x9F\x98\x80", &n), 0x1F600u);  // 😀
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(DecodeOne("\xEF\xBF\xBD", &n), kReplacementChar);  // a real U+FFFD
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(DecodeOne("\xF4\x8F\xBF\xBF", &n), 0x10FFFFu);
  EXPECT_EQ(n, 4u);
}

TEST(Utf8Test, RejectsInvalidSequencesOneByteAtATime) {
  const char* bad[] = {
      "\x80",              // lone continuation
      "\xBF",              //
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong
      "\xE0\x80\xAF",      // overlong '/'
      "\xE0\x9F\xBF",      // overlong (below U+0800)
      "\xED\xA0\x80",      // surrogate U+D800
      "\xED\xBF\xBF",      // surrogate U+DFFF
      "\xF0\x8F\xBF\xBF",  // overlong (below U+10000)
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // lead byte beyond range
      "\xFF",              //
      "\xC3",              // truncated
      "\xE2\x82",          // truncated
      "\xF0\x9F\x98",      // truncated
      "\xC3\x41",          // bad continuation
  };
  for (const char* s : bad) {
    size_t n = 0;
    EXPECT_EQ(DecodeOne(s, &n), kReplacementChar) << s;
    EXPECT_EQ(n, 1u);
    EXPECT_FALSE(IsValidUtf8(s));
  }
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
}

TEST(Utf8Test, SequenceLength) {
  EXPECT_EQ(Utf8SequenceLength('a'), 1u);
  EXPECT_EQ(Utf8SequenceLength(0x00), 1u);
  EXPECT_EQ(Utf8SequenceLength(0x80), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xBF), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xC0), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xC1), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xC2), 2u);
  EXPECT_EQ(Utf8SequenceLength(0xDF), 2u);
  EXPECT_EQ(Utf8SequenceLength(0xE0), 3u);
  EXPECT_EQ(Utf8SequenceLength(0xEF), 3u);
  EXPECT_EQ(Utf8SequenceLength(0xF0), 4u);
  EXPECT_EQ(Utf8SequenceLength(0xF4), 4u);
  EXPECT_EQ(Utf8SequenceLength(0xF5), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xFF), 0u);
}

TEST(Utf8Test, AppendRoundTripsEveryScalarValue) {
  for (uint32_t cp = 0; cp <= kMaxCodepoint; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s;
    AppendUtf8(&s, cp);
    size_t pos = 0;
    ASSERT_EQ(DecodeUtf8(s, &pos), cp);
    ASSERT_EQ(pos, s.size());
  }
  std::string s;
  AppendUtf8(&s, 0xD800);
  AppendUtf8(&s, 0x110000);
  EXPECT_EQ(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8Test, ValidPrefixHoldsBackOnlyPossiblyValidTails) {
  EXPECT_EQ(ValidUtf8Prefix(""), 0u);
  EXPECT_EQ(ValidUtf8Prefix("abc"), 3u);
  EXPECT_EQ(ValidUtf8Prefix("ab\xE2\x82"), 2u);      // € waiting for its last byte
  EXPECT_EQ(ValidUtf8Prefix("ab\xE2"), 2u);          //
  EXPECT_EQ(ValidUtf8Prefix("ab\xF0\x9F\x98"), 2u);  // 😀 waiting
  EXPECT_EQ(ValidUtf8Prefix("ab\xE2\x82\xAC"), 5u);  // complete
  EXPECT_EQ(ValidUtf8Prefix("ab\x80"), 3u);          // can never become valid
  EXPECT_EQ(ValidUtf8Prefix("ab\xC0"), 3u);          // overlong lead: never valid
  EXPECT_EQ(ValidUtf8Prefix("ab\xE0\x80"), 4u);      // E0 80 is always overlong
  EXPECT_EQ(ValidUtf8Prefix("ab\xED\xA0"), 4u);      // a surrogate in the making
  EXPECT_EQ(ValidUtf8Prefix("ab\xF4\x90"), 4u);      // > U+10FFFF in the making
  EXPECT_EQ(ValidUtf8Prefix("ab\xF5"), 3u);
  EXPECT_EQ(ValidUtf8Prefix("\xF0\x9F\xE2\x82"), 2u);  // broken 4-byte, then a pending 3-byte
}

// Property: the held-back tail is exactly the part a longer valid text could complete.
TEST(Utf8Test, ValidPrefixMatchesBruteForceOnRandomTails) {
  std::mt19937 rng(7);
  const uint8_t interesting[] = {0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2,
                                 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 6);
    for (int i = 0; i < len; ++i) s.push_back(static_cast<char>(interesting[rng() % 18]));
    const size_t p = ValidUtf8Prefix(s);
    ASSERT_LE(s.size() - p, 3u);
    // The tail is held iff some continuation makes it a valid sequence.
    const std::string tail = s.substr(p);
    if (!tail.empty()) {
      bool completable = false;
      const char* fills[] = {"\x80",         "\x80\x80", "\x80\x80\x80", "\x90",        "\x90\x80",
                             "\x90\x80\x80", "\xA0",     "\xA0\x80",     "\xA0\x80\x80"};
      for (const char* f : fills) completable |= IsValidUtf8(tail + f);
      EXPECT_TRUE(completable) << iter;
    }
  }
}

TEST(PropertiesTest, GeneralCategories) {
  EXPECT_TRUE(Flags('A') & kLetter);
  EXPECT_TRUE(Flags('A') & kUppercase);
  EXPECT_TRUE(Flags('z') & kLowercase);
  EXPECT_TRUE(Flags(0x0663) & kNumber);       // ٣ ARABIC-INDIC DIGIT THREE
  EXPECT_TRUE(Flags(0x2167) & kNumber);       // Ⅷ ROMAN NUMERAL EIGHT (Nl)
  EXPECT_TRUE(Flags(0x3002) & kPunctuation);  // 。 IDEOGRAPHIC FULL STOP
  EXPECT_TRUE(Flags('!') & kPunctuation);
  EXPECT_TRUE(Flags(0x20AC) & kSymbol);  // € (Sc)
  EXPECT_TRUE(Flags('+') & kSymbol);     // Sm
  EXPECT_TRUE(Flags('$') & kSymbol);
  EXPECT_TRUE(Flags(0x0301) & kMark);  // COMBINING ACUTE ACCENT (Mn)
  EXPECT_TRUE(Flags(0x0301) & kNonspacingMark);
  EXPECT_TRUE(Flags(0x0903) & kMark);  // DEVANAGARI SIGN VISARGA (Mc)
  EXPECT_FALSE(Flags(0x0903) & kNonspacingMark);
  EXPECT_TRUE(Flags(0x3000) & kWhitespace);  // IDEOGRAPHIC SPACE
  EXPECT_TRUE(Flags(0x3000) & kSeparator);
  EXPECT_TRUE(Flags(0x4E00) & kLetter);  // 一 (Lo)
  EXPECT_TRUE(Flags(0x0007) & kControl);
  EXPECT_TRUE(Flags(0x200B) & kFormat);  // ZERO WIDTH SPACE is Cf, not White_Space
  EXPECT_FALSE(Flags(0x200B) & kWhitespace);
  EXPECT_TRUE(Flags(0x0085) & kWhitespace);  // NEL: Cc and White_Space
  EXPECT_TRUE(Flags(0x0085) & kControl);
  EXPECT_FALSE(Flags(0x001C) & kWhitespace);  // str.isspace() is true; White_Space is not
  EXPECT_TRUE(Flags('\n') & kWhitespace);
  EXPECT_TRUE(Flags(0x1F600) & kSymbol);  // 😀 (So)
  EXPECT_TRUE(Flags(0x1E900) & kLetter);  // ADLAM CAPITAL LETTER ALIF
  EXPECT_TRUE(Flags(0x31350) & kLetter);  // CJK Ext H, new in Unicode 15.0
  EXPECT_EQ(Flags(0x0378), 0u);           // unassigned
  EXPECT_EQ(Flags(0xE000), 0u);           // private use
  EXPECT_EQ(Flags(0x110000), 0u);
}

TEST(PropertiesTest, WhitespaceIsExactlyTheWhiteSpaceProperty) {
  // PropList.txt (Unicode 15.0) White_Space: 25 code points.
  const std::set<uint32_t> expected = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,
                                       0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                       0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
                                       0x2029, 0x202F, 0x205F, 0x3000};
  std::set<uint32_t> got;
  for (uint32_t cp = 0; cp <= kMaxCodepoint; ++cp) {
    if (Flags(cp) & kWhitespace) got.insert(cp);
  }
  EXPECT_EQ(got, expected);
}

TEST(PropertiesTest, Han) {
  EXPECT_TRUE(IsHan(0x4E00));
  EXPECT_TRUE(IsHan(0x9FFF));
  EXPECT_TRUE(IsHan(0x3400));
  EXPECT_TRUE(IsHan(0x20000));
  EXPECT_TRUE(IsHan(0xF900));   // CJK compatibility ideograph
  EXPECT_TRUE(IsHan(0x2F800));  // CJK compatibility supplement
  EXPECT_FALSE(IsHan(0x3002));  // 。 punctuation
  EXPECT_FALSE(IsHan(0x3042));  // あ hiragana
  EXPECT_FALSE(IsHan(0xAC00));  // 가 hangul
  EXPECT_FALSE(IsHan('A'));
}

TEST(CaseTest, SimpleLowercase) {
  EXPECT_EQ(ToLower('A'), static_cast<uint32_t>('a'));
  EXPECT_EQ(ToLower('a'), static_cast<uint32_t>('a'));
  EXPECT_EQ(ToLower('1'), static_cast<uint32_t>('1'));
  EXPECT_EQ(ToLower(0xC9), 0xE9u);        // É -> é
  EXPECT_EQ(ToLower(0x0391), 0x03B1u);    // Α -> α
  EXPECT_EQ(ToLower(0x0410), 0x0430u);    // А -> а
  EXPECT_EQ(ToLower(0x0130), 0x0069u);    // İ -> i (simple mapping, field 13)
  EXPECT_EQ(ToLower(0x212A), 0x006Bu);    // KELVIN SIGN -> k
  EXPECT_EQ(ToLower(0x1E9E), 0x00DFu);    // ẞ -> ß
  EXPECT_EQ(ToLower(0x00DF), 0x00DFu);    // ß has no simple lowercase change
  EXPECT_EQ(ToLower(0x10400), 0x10428u);  // DESERET
  EXPECT_EQ(ToLowerUtf8("HeLLo \xC3\x89T\xC3\x89 \xCE\x91\xCE\x92"),
            "hello \xC3\xA9t\xC3\xA9 \xCE\xB1\xCE\xB2");
  EXPECT_EQ(ToLowerUtf8("A\xFF\xC3"), "a\xFF\xC3");  // invalid bytes copied
}

TEST(ByteMappingTest, IsTheGpt2Alphabet) {
  // Printable bytes map to themselves.
  EXPECT_EQ(ByteToCodepoint('!'), 0x21u);
  EXPECT_EQ(ByteToCodepoint('~'), 0x7Eu);
  EXPECT_EQ(ByteToCodepoint(0xA1), 0xA1u);
  EXPECT_EQ(ByteToCodepoint(0xAC), 0xACu);
  EXPECT_EQ(ByteToCodepoint(0xAE), 0xAEu);
  EXPECT_EQ(ByteToCodepoint(0xFF), 0xFFu);
  // The rest: 0x00..0x20 -> U+0100..U+0120 ('Ġ' = U+0120 is the space),
  // 0x7F..0xA0 -> U+0121..U+0142, 0xAD -> U+0143.
  EXPECT_EQ(ByteToCodepoint(0x00), 0x100u);
  EXPECT_EQ(ByteToCodepoint(' '), 0x120u);
  EXPECT_EQ(ByteToCodepoint('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(ByteToCodepoint(0x7F), 0x121u);
  EXPECT_EQ(ByteToCodepoint(0xA0), 0x142u);
  EXPECT_EQ(ByteToCodepoint(0xAD), 0x143u);
  EXPECT_EQ(CodepointToByte(0x120), ' ');
  EXPECT_EQ(CodepointToByte(0x20), -1);  // the raw space is not in the alphabet
  EXPECT_EQ(CodepointToByte(0x144), -1);
  EXPECT_EQ(CodepointToByte(0x4E00), -1);
}

TEST(ByteMappingTest, IsABijection) {
  std::set<uint32_t> images;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = ByteToCodepoint(static_cast<uint8_t>(b));
    EXPECT_EQ(CodepointToByte(cp), b);
    images.insert(cp);
  }
  EXPECT_EQ(images.size(), 256u);
  int mapped = 0;
  for (uint32_t cp = 0; cp < 0x200; ++cp) mapped += CodepointToByte(cp) >= 0;
  EXPECT_EQ(mapped, 256);
}

}  // namespace
}  // namespace hearth::unicode
