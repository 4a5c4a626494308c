#include "base/json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "base/json_writer.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "testing/test_paths.h"

namespace hearth::json {

// Readable failures: gtest prints Values as their JSON text.
void PrintTo(const Value& v, std::ostream* os) {
  *os << Serialize(v);
}

namespace {

Value MustParse(std::string_view text) {
  Result<Value> v = Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << " for " << text;
  return v.ok() ? std::move(v).value() : Value();
}

// The error of parsing `text`, as "reason|message".
std::string ParseError(std::string_view text, const ParseOptions& options = {}) {
  Result<Value> v = Parse(text, options);
  if (v.ok()) return "OK: " + Serialize(*v);
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  return v.status().reason() + "|" + v.status().message();
}

TEST(JsonParseTest, Scalars) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_TRUE(MustParse(" true ").as_bool());
  EXPECT_FALSE(MustParse("\t\r\nfalse\n").as_bool());
  EXPECT_EQ(MustParse("\"hi\"").as_string(), "hi");
  EXPECT_EQ(MustParse("-12").as_int(), -12);
  EXPECT_DOUBLE_EQ(MustParse("2.5e-3").as_double(), 0.0025);
  EXPECT_DOUBLE_EQ(MustParse("1E+2").as_double(), 100.0);
  EXPECT_EQ(MustParse("[]").type(), Value::Type::kArray);
  EXPECT_EQ(MustParse("{ }").type(), Value::Type::kObject);
}

TEST(JsonParseTest, NestedDocument) {
  const Value v = MustParse(R"({"a": [1, {"b": null}, "x"], "c": {"d": true}})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].first, "a");
  const Value::Array& a = v.Find("a")->as_array();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_TRUE(a[1].Find("b")->is_null());
  EXPECT_EQ(a[2].as_string(), "x");
  EXPECT_TRUE(v.Find("c")->Find("d")->as_bool());
  EXPECT_EQ(v.Find("zzz"), nullptr);
  EXPECT_EQ(a[0].Find("b"), nullptr);  // not an object: no members
}

TEST(JsonParseTest, IntegersStayExact) {
  const Value big = MustParse("9007199254740993");  // 2^53 + 1: not a double
  ASSERT_TRUE(big.is_integer());
  EXPECT_EQ(big.as_int(), int64_t{9007199254740993});
  EXPECT_EQ(Serialize(big), "9007199254740993");
  EXPECT_NE(big, Value(9007199254740992.0));
  EXPECT_EQ(MustParse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(MustParse("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Serialize(MustParse("-9223372036854775808")), "-9223372036854775808");

  // Beyond int64: a double, no longer an integer.
  const Value over = MustParse("9223372036854775808");
  EXPECT_FALSE(over.is_integer());
  EXPECT_DOUBLE_EQ(over.as_double(), 9223372036854775808.0);
  EXPECT_FALSE(MustParse("123456789012345678901234").is_integer());

  // Integral doubles count as integers; others do not.
  EXPECT_TRUE(MustParse("1.0").is_integer());
  EXPECT_EQ(MustParse("1e3").as_int(), 1000);
  EXPECT_FALSE(MustParse("1.5").is_integer());
  // "-0" keeps its sign (as a double) and is still the integer 0.
  const Value neg_zero = MustParse("-0");
  EXPECT_TRUE(std::signbit(neg_zero.as_double()));
  EXPECT_EQ(neg_zero.as_int(), 0);
  EXPECT_EQ(Serialize(neg_zero), "-0");
}

TEST(JsonParseTest, DoubleRange) {
  EXPECT_EQ(MustParse("1.7976931348623157e308").as_double(), std::numeric_limits<double>::max());
  EXPECT_EQ(MustParse("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
  // Too small to represent: zero with the sign kept. Too large: an error.
  EXPECT_EQ(MustParse("1e-400").as_double(), 0.0);
  EXPECT_TRUE(std::signbit(MustParse("-1e-400").as_double()));
  EXPECT_EQ(MustParse("0." + std::string(400, '0') + "1").as_double(), 0.0);
  EXPECT_EQ(MustParse("1" + std::string(400, '0') + "e-800").as_double(), 0.0);
  EXPECT_EQ(MustParse("1" + std::string(400, '0') + "e-500").as_double(), 1e-100);
  const char* kOutOfRange = "json.syntax|line 1, column 1: number out of the range of a double";
  EXPECT_EQ(ParseError("1e999"), kOutOfRange);
  EXPECT_EQ(ParseError("-1.8e308"), kOutOfRange);
  EXPECT_EQ(ParseError("1" + std::string(400, '0')), kOutOfRange);
  EXPECT_EQ(ParseError("0.001e99999999999999999999"), kOutOfRange);
  EXPECT_EQ(ParseError("1" + std::string(400, '0') + "e-50"), kOutOfRange);
}

TEST(JsonParseTest, SyntaxErrorsNameLineAndColumn) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case kCases[] = {
      {"", "line 1, column 1: expected a value"},
      {"   ", "line 1, column 4: expected a value"},
      {"{\n  \"a\": 1,\n  \"bbbbb\": 2 3\n}",
       "line 3, column 14: expected ',' or '}' after object member"},
      {"{\n  \"b\" 2\n}", "line 2, column 7: expected ':' after object key"},
      {"[1 2]", "line 1, column 4: expected ',' or ']' after array element"},
      {"[1,\r\n 2 x]", "line 2, column 4: expected ',' or ']' after array element"},
      {"[1,]", "line 1, column 4: expected a value after ','"},
      {"[", "line 1, column 2: expected a value or ']'"},
      {"{\"a\":1,}", "line 1, column 8: expected a string key after ','"},
      {"{1:2}", "line 1, column 2: expected a string key or '}'"},
      {"{'a':2}", "line 1, column 2: expected a string key or '}'"},
      {"{\"a\":}", "line 1, column 6: expected a value after ':'"},
      {"{\"a\":1", "line 1, column 7: expected ',' or '}' after object member"},
      {"1 2", "line 1, column 3: expected end of input after the top-level value"},
      {"[1]\n\n  x", "line 3, column 3: expected end of input after the top-level value"},
      {"01", "line 1, column 1: leading zeros are not allowed in numbers"},
      {"[-00]", "line 1, column 2: leading zeros are not allowed in numbers"},
      {"-", "line 1, column 2: expected a digit after '-'"},
      {"-x", "line 1, column 2: expected a digit after '-'"},
      {"1.", "line 1, column 3: expected a digit after '.'"},
      {"1.e5", "line 1, column 3: expected a digit after '.'"},
      {"1e", "line 1, column 3: expected a digit in the exponent"},
      {"1e+", "line 1, column 4: expected a digit in the exponent"},
      {".5", "line 1, column 1: expected a value"},
      {"+1", "line 1, column 1: expected a value"},
      {"0x10", "line 1, column 2: expected end of input after the top-level value"},
      {"NaN", "line 1, column 1: expected a value"},
      {"Infinity", "line 1, column 1: expected a value"},
      {"-Infinity", "line 1, column 2: expected a digit after '-'"},
      {"[nan]", "line 1, column 2: invalid literal (expected 'null')"},
      {"tru", "line 1, column 1: invalid literal (expected 'true')"},
      {"falsy", "line 1, column 1: invalid literal (expected 'false')"},
      {"// comment\n1", "line 1, column 1: expected a value"},
      {"[1 /* c */]", "line 1, column 4: expected ',' or ']' after array element"},
      {"\f1", "line 1, column 1: expected a value"},
      {"\v1", "line 1, column 1: expected a value"},
      {"\xEF\xBB\xBF{}", "line 1, column 1: a byte order mark is not allowed"},
      {"\"abc", "line 1, column 5: unterminated string (opened at line 1, column 1)"},
      {"[\"a\\", "line 1, column 5: unterminated string"},
      {"\"a\nb\"", "line 1, column 3: control character U+000A must be escaped in a string"},
      {"\"\t\"", "line 1, column 2: control character U+0009 must be escaped in a string"},
      {"\"\\x\"", "line 1, column 2: invalid escape sequence '\\x'"},
      {"\"\\U0041\"", "line 1, column 2: invalid escape sequence '\\U'"},
      {"\"\\u12\"", "line 1, column 2: expected 4 hex digits after \\u"},
      {"\"\\u12g4\"", "line 1, column 2: expected 4 hex digits after \\u"},
      {"\"\\ud83d\"", "line 1, column 2: unpaired surrogate \\uD83D in string"},
      {"\"\\ude00\"", "line 1, column 2: unpaired surrogate \\uDE00 in string"},
      {"\"\\ud83d\\u0041\"", "line 1, column 2: unpaired surrogate \\uD83D in string"},
      {"\"\\ud83d\\ud83d\"", "line 1, column 2: unpaired surrogate \\uD83D in string"},
      {"\"\\ud83d\\x\"", "line 1, column 2: unpaired surrogate \\uD83D in string"},
      {"\"\\ud83d\\u12\"", "line 1, column 8: expected 4 hex digits after \\u"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(ParseError(c.text), "json.syntax|" + c.error) << "input: " << c.text;
  }
}

TEST(JsonParseTest, Utf8Validation) {
  // Valid: 2-, 3- and 4-byte forms up to U+10FFFF, kept byte for byte.
  for (const char* s : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
                        "\xEF\xBF\xBF", "\xED\x9F\xBF", "\xEE\x80\x80", "\x7F"}) {
    std::string text = "\"";  // (not operator+: it trips a GCC 12 -Wrestrict false positive)
    text.append(s).append("\"");
    EXPECT_EQ(MustParse(text).as_string(), s);
  }
  struct Case {
    const char* bytes;
    const char* error;
  };
  const Case kCases[] = {
      {"\xC0\xAF", "overlong encoding (byte 0xC0)"},
      {"\xC1\xBF", "overlong encoding (byte 0xC1)"},
      {"\xE0\x80\xAF", "overlong encoding (byte 0xE0)"},
      {"\xE0\x9F\xBF", "overlong encoding (byte 0xE0)"},
      {"\xF0\x80\x80\xAF", "overlong encoding (byte 0xF0)"},
      {"\xF0\x8F\xBF\xBF", "overlong encoding (byte 0xF0)"},
      {"\xED\xA0\x80", "encoded surrogate (byte 0xED)"},
      {"\xED\xBF\xBF", "encoded surrogate (byte 0xED)"},
      {"\xF4\x90\x80\x80", "code point above U+10FFFF (byte 0xF4)"},
      {"\xF5\x80\x80\x80", "code point above U+10FFFF (byte 0xF5)"},
      {"\x80", "invalid byte (byte 0x80)"},
      {"\xBF", "invalid byte (byte 0xBF)"},
      {"\xFF", "invalid byte (byte 0xFF)"},
      {"\xC3", "incomplete sequence (byte 0xC3)"},
      {"\xE2\x82", "incomplete sequence (byte 0xE2)"},
      {"\xF0\x9F\x98", "incomplete sequence (byte 0xF0)"},
      {"\xC3(", "incomplete sequence (byte 0xC3)"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(ParseError(std::string("[\"ab") + c.bytes + "\"]"),
              std::string("json.syntax|line 1, column 5: invalid UTF-8 in string: ") + c.error)
        << EscapeForDisplay(c.bytes);
  }
  // Truncated right at the end of the input.
  EXPECT_EQ(ParseError("\"\xE2\x82"),
            "json.syntax|line 1, column 2: invalid UTF-8 in string: incomplete sequence (byte "
            "0xE2)");
}

TEST(JsonParseTest, Escapes) {
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(MustParse(R"("\uD83D\uDE00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(MustParse(R"("\udbff\udfff")").as_string(), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(MustParse(R"("\u00e9\u20AC\u0041")").as_string(),
            "\xC3\xA9\xE2\x82\xAC"
            "A");
  EXPECT_EQ(MustParse(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  const std::string nul = MustParse(R"("a\u0000b")").as_string();
  EXPECT_EQ(nul, std::string("a\0b", 3));
  EXPECT_EQ(MustParse(R"("mixed \"quotes\" and é")").as_string(), "mixed \"quotes\" and é");
}

TEST(JsonParseTest, DepthLimit) {
  const std::string deep(100000, '[');
  EXPECT_EQ(ParseError(deep), "json.depth|line 1, column 129: nesting deeper than 128 levels");
  std::string objects;
  for (int i = 0; i < 200; ++i) objects += "{\"a\":";
  EXPECT_EQ(ParseError(objects), "json.depth|line 1, column 641: nesting deeper than 128 levels");

  // Exactly max_depth levels are fine.
  const std::string ok = std::string(128, '[') + std::string(128, ']');
  EXPECT_EQ(Serialize(MustParse(ok)), ok);
  ParseOptions options;
  options.max_depth = 3;
  EXPECT_TRUE(Parse("[[[1]]]", options).ok());
  EXPECT_EQ(ParseError("[[[[1]]]]", options),
            "json.depth|line 1, column 4: nesting deeper than 3 levels");
  options.max_depth = 0;
  EXPECT_TRUE(Parse("1", options).ok());
  EXPECT_EQ(ParseError("[]", options), "json.depth|line 1, column 1: nesting deeper than 0 levels");
}

TEST(JsonParseTest, SizeLimit) {
  ParseOptions options;
  options.max_bytes = 5;
  EXPECT_TRUE(Parse("[1,2]", options).ok());
  EXPECT_EQ(ParseError("[1, 2]", options),
            "json.too_large|JSON text is 6 bytes, more than the limit of 5");
}

TEST(JsonValueTest, DuplicateKeysAndSet) {
  Value v = MustParse(R"({"k": 1, "x": 0, "k": 2})");
  EXPECT_EQ(v.as_object().size(), 3u);  // all members kept, in order
  EXPECT_EQ(v.Find("k")->as_int(), 2);  // the last one wins
  v.Set("k", "three");
  EXPECT_EQ(v.as_object()[0].second.as_int(), 1);
  EXPECT_EQ(v.as_object()[2].second.as_string(), "three");
  Value& inner = v.Set("new", Value::Object{});
  inner.Set("deep", true);
  EXPECT_EQ(Serialize(v), R"({"k":1,"x":0,"k":"three","new":{"deep":true}})");
  *v.Find("x") = Value::Array{};
  v.Find("x")->Push(1);
  v.Find("x")->Push("two");
  EXPECT_EQ(Serialize(*v.Find("x")), R"([1,"two"])");
}

TEST(JsonValueTest, ConstructorsAndEquality) {
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_EQ(Value(int64_t{-5}).as_int(), -5);
  EXPECT_EQ(Value(size_t{7}).as_int(), 7);
  EXPECT_EQ(Value(3u).as_int(), 3);
  EXPECT_EQ(Value(static_cast<long long>(-9)).as_int(), -9);
  // uint64 above INT64_MAX becomes a (rounded) double.
  const Value huge(std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(huge.is_integer());
  EXPECT_EQ(huge.as_double(), 18446744073709551616.0);
  EXPECT_EQ(Value(std::string_view("sv")).as_string(), "sv");
  EXPECT_EQ(Value(std::string("s")), Value("s"));
  const Value literal(Value::Object{{"a", 1}, {"b", Value::Array{true, "x", 2.5, nullptr}}});
  EXPECT_EQ(Serialize(literal), R"({"a":1,"b":[true,"x",2.5,null]})");

  EXPECT_EQ(Value(3), Value(3.0));
  EXPECT_NE(Value(3), Value(3.5));
  EXPECT_NE(Value(int64_t{9007199254740993}), Value(9007199254740992.0));
  EXPECT_NE(Value(std::nan("")), Value(std::nan("")));
  EXPECT_NE(Value(1), Value(true));
  EXPECT_NE(Value(), Value(false));
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_EQ(Value(Value::Array{1, "a", nullptr}), MustParse(R"([1.0, "a", null])"));
  EXPECT_NE(Value(Value::Array{1}), Value(Value::Array{1, 2}));
  EXPECT_NE(MustParse(R"({"a":1,"b":2})"), MustParse(R"({"b":2,"a":1})"));  // order counts
}

TEST(JsonValueDeathTest, WrongTypeIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Value number(1.5);
  EXPECT_DEATH(number.as_string(), "json::Value is a number, not a string");
  EXPECT_DEATH(number.as_int(), "not an integer");
  EXPECT_DEATH(Value("x").as_double(), "json::Value is a string, not a number");
  Value array = Value::Array{};
  EXPECT_DEATH(array.Set("k", 1), "json::Value is an array, not an object");
  EXPECT_DEATH(Value().Push(1), "json::Value is null, not an array");
}

TEST(JsonGetTest, TypedGetters) {
  const Value v = MustParse(R"({"s": "str", "i": 42, "f": 2.0, "d": 0.5, "b": true,
                                "a": [1], "o": {}, "n": null})");
  EXPECT_EQ(*GetString(v, "s"), "str");
  EXPECT_EQ(*GetInt(v, "i"), 42);
  EXPECT_EQ(*GetInt(v, "f"), 2);
  EXPECT_EQ(*GetDouble(v, "i"), 42.0);
  EXPECT_EQ(*GetDouble(v, "d"), 0.5);
  EXPECT_TRUE(*GetBool(v, "b"));
  EXPECT_EQ((*GetArray(v, "a"))->size(), 1u);
  EXPECT_TRUE((*GetObject(v, "o"))->empty());

  auto error = [](const Status& s) { return s.reason() + "|" + s.message(); };
  EXPECT_EQ(error(GetString(v, "x").status()), "json.missing|missing field 'x'");
  EXPECT_EQ(error(GetString(v, "i").status()), "json.type|field 'i' must be a string");
  EXPECT_EQ(error(GetString(v, "n").status()), "json.type|field 'n' must be a string");
  EXPECT_EQ(error(GetInt(v, "d").status()), "json.type|field 'd' must be an integer");
  EXPECT_EQ(error(GetDouble(v, "s").status()), "json.type|field 's' must be a number");
  EXPECT_EQ(error(GetBool(v, "i").status()), "json.type|field 'i' must be a bool");
  EXPECT_EQ(error(GetArray(v, "o").status()), "json.type|field 'o' must be an array");
  EXPECT_EQ(error(GetObject(v, "a").status()), "json.type|field 'a' must be an object");
  EXPECT_EQ(error(GetInt(Value(Value::Array{}), "n").status()),
            "json.type|expected an object with field 'n'");
  EXPECT_EQ(GetInt(v, "x").status().code(), StatusCode::kInvalidArgument);
}

TEST(JsonSerializeTest, CompactAndEscapes) {
  EXPECT_EQ(Serialize(Value()), "null");
  EXPECT_EQ(Serialize(MustParse(" { \"a\" : [ 1 , true , null , { } , [ ] ] } ")),
            R"({"a":[1,true,null,{},[]]})");
  EXPECT_EQ(Quote("a\"b\\c/"), R"("a\"b\\c/")");
  EXPECT_EQ(Quote("\n\t\r\b\f\x01\x1f\x7f"), R"("\n\t\r\b\f\u0001\u001f)"
                                             "\x7f\"");
  EXPECT_EQ(Quote(std::string("\0", 1)), R"("\u0000")");
  EXPECT_EQ(Quote("h\xC3\xA9 \xF0\x9F\x98\x80"), "\"h\xC3\xA9 \xF0\x9F\x98\x80\"");
  // Each byte of invalid UTF-8 becomes U+FFFD.
  EXPECT_EQ(Quote("a\xFF"
                  "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(Quote("\xE2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Quote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Quote("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonSerializeTest, Numbers) {
  EXPECT_EQ(Serialize(Value(0.1)), "0.1");
  EXPECT_EQ(Serialize(Value(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(Serialize(Value(1e300)), "1e+300");
  EXPECT_EQ(Serialize(Value(-2.5e-8)), "-2.5e-08");
  EXPECT_EQ(Serialize(Value(5e-324)), "5e-324");
  EXPECT_EQ(Serialize(Value(1.7976931348623157e308)), "1.7976931348623157e+308");
  EXPECT_EQ(Serialize(Value(100.0)), "100");
  EXPECT_EQ(Serialize(Value(-0.0)), "-0");
  EXPECT_EQ(Serialize(Value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(Serialize(Value(-std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(Serialize(Value(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(MustParse(Serialize(Value(0.1))).as_double(), 0.1);
  EXPECT_EQ(MustParse("-2.5e-08").as_double(), -2.5e-8);
}

TEST(JsonSerializeTest, Pretty) {
  const Value v = MustParse(R"({"name":"x","list":[1,[],{},[2,{"k":null}]],"empty":{}})");
  EXPECT_EQ(Serialize(v, 2),
            "{\n"
            "  \"name\": \"x\",\n"
            "  \"list\": [\n"
            "    1,\n"
            "    [],\n"
            "    {},\n"
            "    [\n"
            "      2,\n"
            "      {\n"
            "        \"k\": null\n"
            "      }\n"
            "    ]\n"
            "  ],\n"
            "  \"empty\": {}\n"
            "}");
  EXPECT_EQ(Serialize(MustParse("[1,{\"a\":2}]"), 0), "[\n1,\n{\n\"a\": 2\n}\n]");
  EXPECT_EQ(Serialize(Value(7), 4), "7");
  EXPECT_EQ(MustParse(Serialize(v, 3)), v);
}

TEST(JsonWriterTest, CompactAndPretty) {
  for (int indent : {-1, 2}) {
    Writer w(indent);
    w.BeginObject();
    w.Key("model");
    w.String("qwen3");
    w.Key("ids");
    w.BeginArray();
    w.Int(-1);
    w.Uint(18446744073709551615u);
    w.Double(0.25);
    w.Double(std::numeric_limits<double>::infinity());
    w.EndArray();
    w.Key("ok");
    w.Bool(false);
    w.Key("none");
    w.Null();
    w.Key("raw");
    w.Raw(MustParse(R"({"a":[true]})"));
    w.Key("e");
    w.BeginArray();
    w.EndArray();
    w.EndObject();
    if (indent < 0) {
      EXPECT_EQ(w.str(), R"({"model":"qwen3","ids":[-1,18446744073709551615,0.25,null],"ok":false,)"
                         R"("none":null,"raw":{"a":[true]},"e":[]})");
    } else {
      EXPECT_EQ(w.str(),
                "{\n  \"model\": \"qwen3\",\n  \"ids\": [\n    -1,\n    18446744073709551615,\n"
                "    0.25,\n    null\n  ],\n  \"ok\": false,\n  \"none\": null,\n"
                "  \"raw\": {\n    \"a\": [\n      true\n    ]\n  },\n  \"e\": []\n}");
    }
  }
  Writer scalar;
  scalar.String("a\"b");
  EXPECT_EQ(scalar.str(), R"("a\"b")");
  EXPECT_EQ(scalar.TakeStr(), R"("a\"b")");
}

TEST(JsonWriterDeathTest, MisuseIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Writer w;
        w.BeginObject();
        w.Int(1);
      },
      "needs a Key\\(\\) first");
  EXPECT_DEATH(
      {
        Writer w;
        w.BeginArray();
        w.Key("k");
      },
      "Key\\(\\) outside an object");
  EXPECT_DEATH(
      {
        Writer w;
        w.BeginArray();
        w.EndObject();
      },
      "does not match");
  EXPECT_DEATH(
      {
        Writer w;
        w.Int(1);
        w.Int(2);
      },
      "a second top-level value");
  EXPECT_DEATH(
      {
        Writer w;
        w.BeginArray();
        (void)w.str();
      },
      "before the top-level value is complete");
}

// Random trees: every kind of value, strings with any code point (escaped or
// not), integers across the int64 range, doubles from random bit patterns.
class RandomTree {
 public:
  explicit RandomTree(uint32_t seed) : rng_(seed) {}

  Value Make(int depth) {
    switch (Uniform(depth > 0 ? 14 : 6)) {
      case 0:
        return Value();
      case 1:
        return Value(Uniform(2) == 1);
      case 2:
        return Value(static_cast<int64_t>(rng_()));
      case 3:
        return Value(static_cast<int64_t>(Uniform(2000)) - 1000);
      case 4: {
        double d;
        do {
          const uint64_t bits = rng_();
          std::memcpy(&d, &bits, sizeof(d));
        } while (!std::isfinite(d));
        return Value(d);
      }
      case 5:
        return Value(String());
      case 6:
      case 7:
      case 8:
      case 9: {
        Value::Array a;
        for (int i = 0, n = Uniform(6); i < n; ++i) a.push_back(Make(depth - 1));
        return Value(std::move(a));
      }
      default: {
        Value::Object o;
        for (int i = 0, n = Uniform(6); i < n; ++i) o.emplace_back(String(), Make(depth - 1));
        return Value(std::move(o));
      }
    }
  }

 private:
  int Uniform(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  std::string String() {
    static const uint32_t kInteresting[] = {'"',    '\\',   '/',    '\n',    0,
                                            0x1F,   0x7F,   0xE9,   0x2028,  0xFFFD,
                                            0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF};
    std::string s;
    for (int i = 0, n = Uniform(12); i < n; ++i) {
      uint32_t cp = 0;
      switch (Uniform(4)) {
        case 0:
          cp = 0x20 + static_cast<uint32_t>(Uniform(0x5F));
          break;
        case 1:
          cp = kInteresting[Uniform(std::size(kInteresting))];
          break;
        default:
          do {
            cp = static_cast<uint32_t>(Uniform(0x110000));
          } while (cp >= 0xD800 && cp <= 0xDFFF);
      }
      AppendUtf8(cp, &s);
    }
    return s;
  }
  // An encoder of our own, independent of the parser's.
  static void AppendUtf8(uint32_t cp, std::string* out) {
    const int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    char bytes[4];
    for (int i = n - 1; i > 0; --i, cp >>= 6) bytes[i] = static_cast<char>(0x80 | (cp & 0x3F));
    bytes[0] = static_cast<char>(kLead[n] | cp);
    out->append(bytes, static_cast<size_t>(n));
  }

  std::mt19937_64 rng_;
};

TEST(JsonPropertyTest, RandomTreesRoundTrip) {
  RandomTree gen(/*seed=*/20240611);
  size_t total_bytes = 0;
  for (int i = 0; i < 2000; ++i) {
    const Value v = gen.Make(/*depth=*/5);
    const std::string compact = Serialize(v);
    total_bytes += compact.size();
    const std::string pretty = Serialize(v, 2);
    const Value from_compact = MustParse(compact);
    ASSERT_EQ(from_compact, v) << compact;
    ASSERT_EQ(MustParse(pretty), v) << pretty;
    ASSERT_EQ(Serialize(from_compact), compact);  // the text is stable too
  }
  EXPECT_GT(total_bytes, 300000u);  // the trees are not trivially small
}

TEST(JsonPropertyTest, MutatedInputNeverCrashes) {
  // Flip bytes of valid documents: each parse must either fail with a syntax
  // error or yield a value that round-trips. (Mostly for the sanitizer build.)
  RandomTree gen(/*seed=*/7);
  std::mt19937 rng(11);
  const char kBytes[] = "[]{}\",:\\u0-9eE.+ \n\xC3\xA9\xED\xF4\x80";
  for (int i = 0; i < 3000; ++i) {
    std::string text = Serialize(gen.Make(3), i % 2 == 0 ? -1 : 1);
    if (text.empty()) continue;
    for (int m = 0; m < 3; ++m) text[rng() % text.size()] = kBytes[rng() % (sizeof(kBytes) - 1)];
    if (rng() % 4 == 0) text.resize(rng() % text.size());
    Result<Value> v = Parse(text);
    if (v.ok()) {
      ASSERT_EQ(MustParse(Serialize(*v)), *v) << text;
    } else {
      ASSERT_EQ(v.status().reason(), "json.syntax") << v.status().message();
      ASSERT_TRUE(StartsWith(v.status().message(), "line ")) << v.status().message();
    }
  }
}

TEST(JsonTokenizerFileTest, ParsesQwen3TokenizerJson) {
  HEARTH_REQUIRE_SHARED();
  const std::string path = testing::SharedDir() + "/testdata/hf-tokenizers/qwen3/tokenizer.json";
  Result<std::string> text = ReadFileToString(path);
  if (!text.ok()) GTEST_SKIP() << "no " << path;

  const auto start = std::chrono::steady_clock::now();
  Result<Value> v = Parse(*text);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  RecordProperty("parse_ms", std::to_string(ms));
  std::printf("parsed %zu bytes in %.1f ms\n", text->size(), ms);

  const Value* model = v->Find("model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(*GetString(*model, "type"), "BPE");
  const Value* vocab = model->Find("vocab");
  ASSERT_NE(vocab, nullptr);
  ASSERT_TRUE(vocab->is_object());
  EXPECT_GT(vocab->as_object().size(), 150000u);
  EXPECT_EQ(*GetInt(*vocab, "!"), 0);
  EXPECT_EQ(vocab->as_object()[1].first, "\"");
  const Value::Array& merges = **GetArray(*model, "merges");
  EXPECT_GT(merges.size(), 150000u);
  const Value::Array& added = **GetArray(*v, "added_tokens");
  ASSERT_FALSE(added.empty());
  EXPECT_EQ(*GetString(added[0], "content"), "<|endoftext|>");
  EXPECT_EQ(*GetInt(added[0], "id"), 151643);
  // The file is 2-space pretty JSON with UTF-8 kept as-is: we reproduce it exactly.
  EXPECT_TRUE(Serialize(*v, 2) == *text);
}

}  // namespace
}  // namespace hearth::json
