#include "base/strings.h"

#include <gtest/gtest.h>

namespace hearth {
namespace {

TEST(StringsTest, StrFormat) {
  EXPECT_EQ(StrFormat("%d-%s", 42, "x"), "42-x");
  std::string big(5000, 'a');
  EXPECT_EQ(StrFormat("%s!", big.c_str()).size(), 5001u);
}

TEST(StringsTest, Split) {
  auto p = StrSplit("a,,b", ',');
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "a");
  EXPECT_EQ(p[1], "");
  EXPECT_EQ(p[2], "b");
  EXPECT_EQ(StrSplit("", ',').size(), 1u);
}

TEST(StringsTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.50 KiB");
  EXPECT_EQ(HumanBytes(uint64_t{607} << 20), "607 MiB");
  EXPECT_EQ(HumanBytes(uint64_t{3} << 30), "3.00 GiB");
}

TEST(StringsTest, ParseNumbers) {
  int64_t i = 0;
  EXPECT_TRUE(ParseInt64("-17", &i));
  EXPECT_EQ(i, -17);
  EXPECT_FALSE(ParseInt64("17x", &i));
  EXPECT_FALSE(ParseInt64("", &i));
  EXPECT_FALSE(ParseInt64("99999999999999999999", &i));
  double d = 0;
  EXPECT_TRUE(ParseDouble("0.25", &d));
  EXPECT_EQ(d, 0.25);
  EXPECT_FALSE(ParseDouble("nan", &d));
  EXPECT_FALSE(ParseDouble("1e999", &d));
  EXPECT_FALSE(ParseDouble("1.0.0", &d));
}

TEST(StringsTest, EscapeForDisplay) {
  EXPECT_EQ(EscapeForDisplay("a\nb\x01"), "a\\nb\\x01");
  EXPECT_EQ(EscapeForDisplay(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace hearth
