// The hearth.toml parser and its mapping onto command-line flags.
#include "server/support/config_toml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "base/strings.h"
#include "testing/test_paths.h"

namespace hearth::server {
namespace {

constexpr char kRealistic[] = R"(# Hearth server configuration
host = "0.0.0.0"          # listen on every interface
port = 8080
parallel = 4
ctx = 4096
api-keys = "/etc/hearth/keys.json"
model = 'C:\models\tiny.gguf'   # literal: backslashes stay
stream_default = true
log_prompts = false
temperature = 0.7
stop = ["</s>", "###", ]
backends = [
  "cpu",   # always available
  "metal",
]

[limits]
max_body_bytes = 1_048_576
rate = 2.5
burst = +10
retry_after_s = 1e1
enabled = true
)";

TEST(ConfigTomlTest, RealisticFile) {
  Result<json::Value> r = ParseConfigToml(kRealistic);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(json::Serialize(*r, 0),
            "{\n"
            "\"host\": \"0.0.0.0\",\n"
            "\"port\": 8080,\n"
            "\"parallel\": 4,\n"
            "\"ctx\": 4096,\n"
            "\"api-keys\": \"/etc/hearth/keys.json\",\n"
            "\"model\": \"C:\\\\models\\\\tiny.gguf\",\n"
            "\"stream_default\": true,\n"
            "\"log_prompts\": false,\n"
            "\"temperature\": 0.7,\n"
            "\"stop\": [\n\"</s>\",\n\"###\"\n],\n"
            "\"backends\": [\n\"cpu\",\n\"metal\"\n],\n"
            "\"limits.max_body_bytes\": 1048576,\n"
            "\"limits.rate\": 2.5,\n"
            "\"limits.burst\": 10,\n"
            "\"limits.retry_after_s\": 10,\n"
            "\"limits.enabled\": true\n"
            "}");
  EXPECT_TRUE(r->Find("limits.max_body_bytes")->is_integer());
  EXPECT_EQ(r->Find("limits.rate")->as_double(), 2.5);
}

TEST(ConfigTomlTest, StringsAndEscapes) {
  Result<json::Value> r = ParseConfigToml(
      "a = \"q\\\"b\\\\n\\n t\\t\\u00e9\\U0001F600\\b\\f\\r\"\n"
      "b = 'raw \\n \"quoted\"'\n"
      "c = \"\"\n"
      "d = \"tab\there ünï\"\n"
      "\"quoted key\" = 1\n"
      "'lit-key' = 2\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Find("a")->as_string(), "q\"b\\n\n t\t\xC3\xA9\xF0\x9F\x98\x80\b\f\r");
  EXPECT_EQ(r->Find("b")->as_string(), "raw \\n \"quoted\"");
  EXPECT_EQ(r->Find("c")->as_string(), "");
  EXPECT_EQ(r->Find("d")->as_string(), "tab\there ünï");
  EXPECT_EQ(r->Find("quoted key")->as_int(), 1);
  EXPECT_EQ(r->Find("lit-key")->as_int(), 2);
}

TEST(ConfigTomlTest, NumbersAndLayout) {
  Result<json::Value> r = ParseConfigToml(
      "\xEF\xBB\xBF# BOM, CRLF and blank lines\r\n\r\n"
      "a = -0\r\nb = 9_223_372_036_854_775_807\r\nc = -9223372036854775808\r\n"
      "d = 6.02_2e2_3\r\ne = -2E-3\r\nf = 1e05\r\ng = 0.0\r\n"
      "h = [ ]\r\ni = [1, 'x', true, 2.5]\r\n"
      "[ server . limits ]   # spaces in headers are allowed\r\n"
      "k = 1\r\n"
      "[server]\r\n"  // a super-table may be defined after its sub-table
      "j = 2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(json::Serialize(*r),
            R"({"a":0,"b":9223372036854775807,"c":-9223372036854775808,"d":6.022e+23,)"
            R"("e":-0.002,"f":1e+05,"g":0,"h":[],"i":[1,"x",true,2.5],)"
            R"("server.limits.k":1,"server.j":2})");
  Result<json::Value> empty = ParseConfigToml("# only comments\n\n   \n");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(json::Serialize(*empty), "{}");
  EXPECT_EQ(json::Serialize(*ParseConfigToml("")), "{}");
}

struct BadCase {
  const char* text;
  const char* message;  // the whole message after "hearth.toml:"
};

TEST(ConfigTomlTest, SyntaxErrorsNameLineAndColumn) {
  const BadCase kCases[] = {
      {"port =", "1:7: missing value for key 'port'"},
      {"port 8080", "1:6: expected '=' after key 'port', found '8'"},
      {"port = 80 80",
       "1:11: unexpected '8' after the value of 'port'; expected a comment or a "
       "new line"},
      {"= 1", "1:1: expected a key, found '='"},
      {"a = 1\na = 2", "2:1: duplicate key 'a' (first set on line 1)"},
      {"[t]\nx = 1\n[t]", "3:1: table [t] is defined twice (first on line 1)"},
      {"a = 1\n[a.b]", "2:1: [a.b]: 'a' is already a value (line 1), not a table"},
      {"[a.b]\n[a]\nb = 1", "3:1: key 'a.b' is already a table"},
      {"[a", "1:3: expected '.' or ']' in the table header, found the end of the file"},
      {"[a] x = 1", "1:5: unexpected 'x' after the table header; expected a comment or a new line"},
      {"[ ]", "1:3: expected a key, found ']'"},
      {"[[servers]]", "1:1: arrays of tables ([[...]]) are not supported"},
      {"[a.b.c.d.e.f.g.h.i]", "1:1: tables nest at most 8 levels deep"},
      {"a.b = 1", "1:2: dotted keys are not supported; put 'a' under a [table] header"},
      {"\"\" = 1", "1:1: empty quoted key"},
      {"\"a.b\" = 1",
       "1:1: quoted key 'a.b' contains '.', which would be ambiguous in dotted "
       "names"},
      {"s = \"abc", "1:5: unterminated string (a \"...\" string must end on its line)"},
      {"s = \"abc\nt = 1", "1:5: unterminated string (a \"...\" string must end on its line)"},
      {"s = 'abc", "1:5: unterminated string (a '...' string must end on its line)"},
      {"s = \"\\q\"", "1:6: invalid escape sequence '\\q'"},
      {"s = \"\\u12\"", "1:6: \\u needs 4 hex digits"},
      {"s = \"\\uD800\"", "1:6: \\uD800 is not a Unicode scalar value"},
      {"s = \"\\U00110000\"", "1:6: \\U00110000 is not a Unicode scalar value"},
      {"s = \"\"\"x\"\"\"", "1:5: multi-line strings are not supported"},
      {"n = 01", "1:5: invalid value '01': leading zeros are not allowed"},
      {"n = 1__0", "1:5: invalid value '1__0': '_' must be between digits"},
      {"n = 10_", "1:5: invalid value '10_': '_' must be between digits"},
      {"n = 9223372036854775808",
       "1:5: invalid value '9223372036854775808': integer out of "
       "range (64-bit)"},
      {"f = 1e999", "1:5: invalid value '1e999': float out of range"},
      {"f = 1.", "1:5: invalid value '1.': expected digits after '.'"},
      {"f = .5", "1:5: invalid value '.5'"},
      {"f = 1e", "1:5: invalid value '1e': expected digits in the exponent"},
      {"f = 1.5.3", "1:5: invalid value '1.5.3'"},
      {"f = -inf", "1:5: inf and nan are not allowed"},
      {"f = nan", "1:5: inf and nan are not allowed"},
      {"b = tru", "1:5: invalid value 'tru'"},
      {"b = True", "1:5: invalid value 'True'"},
      {"d = 1979-05-27", "1:5: dates and times are not supported"},
      {"d = 07:32:00", "1:5: dates and times are not supported"},
      {"h = 0x10", "1:5: only decimal integers are supported"},
      {"t = {x = 1}", "1:5: inline tables ({...}) are not supported; use [table]"},
      {"a = [1, [2]]", "1:9: nested arrays are not supported"},
      {"a = [1 2]", "1:8: expected ',' or ']' in the array, found '2'"},
      {"a = [,]", "1:6: expected a value, found ','"},
      {"a = [1,,2]", "1:8: expected a value, found ','"},
      {"a = [1,\n2", "1:5: unterminated array: no closing ']'"},
      {"a = [1, # comment ]\n", "1:5: unterminated array: no closing ']'"},
      {"a = 1\r\nb = 2\r\nc = ?", "3:5: expected a value, found '?'"},
      {"s = \"\xFF\"", "1:6: invalid UTF-8: invalid byte (byte 0xFF)"},
      {"s = \"\xC3\"", "1:6: invalid UTF-8: incomplete sequence (byte 0xC3)"},
      {"s = \"\xED\xA0\x80\"", "1:6: invalid UTF-8: encoded surrogate (byte 0xED)"},
      {"# \xC0\xAF comment", "1:3: invalid UTF-8: overlong encoding (byte 0xC0)"},
      {"s = \"a\x01\"", "1:7: control character U+0001 is not allowed"},
      {"# comment \x7F", "1:11: control character U+007F is not allowed"},
      {"a = 1\rb = 2", "1:6: carriage return not followed by a line feed"},
      {"x = \"ok\"\n  y = é", "2:7: expected a value, found 'é'"},
  };
  for (const BadCase& c : kCases) {
    Result<json::Value> r = ParseConfigToml(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(r.status().reason(), "config.syntax") << c.text;
    EXPECT_EQ(r.status().message(), std::string("hearth.toml:") + c.message) << c.text;
  }
}

TEST(ConfigTomlTest, LoadNamesThePath) {
  const std::string dir = testing::TempDir();
  const std::string path = dir + "/serve.toml";
  {
    std::ofstream f(path);
    f << "port = 8080\nhost = \n";
  }
  Result<json::Value> r = LoadConfigToml(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), path + ":2:8: missing value for key 'host'");
  {
    std::ofstream f(path);
    f << "port = 8080\n";
  }
  r = LoadConfigToml(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Find("port")->as_int(), 8080);
  EXPECT_FALSE(LoadConfigToml(dir + "/missing.toml").ok());
}

TEST(ConfigTomlTest, CanonicalFlagName) {
  EXPECT_EQ(CanonicalFlagName("api-keys"), "api-keys");
  EXPECT_EQ(CanonicalFlagName("api_keys"), "api-keys");
  EXPECT_EQ(CanonicalFlagName("--api_keys"), "api-keys");
  EXPECT_EQ(CanonicalFlagName("limits.max_body_bytes"), "limits-max-body-bytes");
  EXPECT_EQ(CanonicalFlagName("Top_K"), "Top-K");
}

TEST(ConfigTomlTest, ConfigToArgs) {
  Result<json::Value> flat = ParseConfigToml(kRealistic);
  ASSERT_TRUE(flat.ok());
  Result<std::vector<std::pair<std::string, std::string>>> args = ConfigToArgs(*flat);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"--host", "0.0.0.0"},
      {"--port", "8080"},
      {"--parallel", "4"},
      {"--ctx", "4096"},
      {"--api-keys", "/etc/hearth/keys.json"},
      {"--model", "C:\\models\\tiny.gguf"},
      {"--stream-default", ""},  // true: a switch; log_prompts = false: omitted
      {"--temperature", "0.7"},
      {"--stop", "</s>,###"},
      {"--backends", "cpu,metal"},
      {"--limits-max-body-bytes", "1048576"},
      {"--limits-rate", "2.5"},
      {"--limits-burst", "10"},
      {"--limits-retry-after-s", "10"},
      {"--limits-enabled", ""},
  };
  EXPECT_EQ(*args, expected);
}

// Parse → args → read back the way a flag parser would: every value survives.
TEST(ConfigTomlTest, ConfigToArgsRoundTrip) {
  Result<json::Value> flat = ParseConfigToml(
      "name = \"ünï code\"\nn = -42\nx = 0.1\ny = 1e300\nz = 2.0\non = true\noff = false\n"
      "list = [1, 2.5, \"a b\", false]\n[t]\nk = \"v\"\n");
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  Result<std::vector<std::pair<std::string, std::string>>> args = ConfigToArgs(*flat);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  std::map<std::string, std::string> got(args->begin(), args->end());
  for (const auto& member : flat->as_object()) {
    const std::string flag = "--" + CanonicalFlagName(member.first);
    const json::Value& v = member.second;
    if (v.is_bool()) {
      EXPECT_EQ(got.count(flag), v.as_bool() ? 1u : 0u) << flag;
      if (v.as_bool()) {
        EXPECT_EQ(got[flag], "");
      }
      continue;
    }
    ASSERT_EQ(got.count(flag), 1u) << flag;
    const std::string& text = got[flag];
    if (v.is_string()) {
      EXPECT_EQ(text, v.as_string());
    } else if (v.is_number()) {
      double d = 0;
      ASSERT_TRUE(ParseDouble(text, &d)) << text;
      EXPECT_EQ(d, v.as_double()) << flag;  // exact: shortest round-trip form
    } else {
      std::vector<std::string_view> parts = StrSplit(text, ',');
      ASSERT_EQ(parts.size(), v.as_array().size());
    }
  }
  EXPECT_EQ(got["--list"], "1,2.5,a b,false");
  EXPECT_EQ(got["--x"], "0.1");
  EXPECT_EQ(got["--y"], "1e+300");
  EXPECT_EQ(got["--z"], "2");
  EXPECT_EQ(got["--t-k"], "v");
}

TEST(ConfigTomlTest, ConfigToArgsErrors) {
  struct Case {
    const char* toml;
    const char* reason;
    const char* message;
  };
  const Case kCases[] = {
      {"api_keys = \"a\"\napi-keys = \"b\"", "config.key",
       "config keys 'api_keys' and 'api-keys' both set --api-keys"},
      {"limits-rate = 1\n[limits]\nrate = 2", "config.key",
       "config keys 'limits-rate' and 'limits.rate' both set --limits-rate"},
      {"\"a b\" = 1", "config.key",
       "config key 'a b' is not an option name (letters, digits, '-', '_')"},
      {"-x = 1", "config.key", "config key '-x' is not an option name (letters, digits, '-', '_')"},
      {"host = \"\"", "config.value", "config key 'host': empty string; leave the key out instead"},
      {"stop = []", "config.value", "config key 'stop': empty array; leave the key out instead"},
      {"stop = [\"a,b\"]", "config.value",
       "config key 'stop': array element 'a,b' contains ',' (arrays are passed comma-joined)"},
      {"stop = [\"\"]", "config.value", "config key 'stop': empty array element"},
      {"s = \"a\\u0000b\"", "config.value", "config key 's': contains a NUL character"},
  };
  for (const Case& c : kCases) {
    Result<json::Value> flat = ParseConfigToml(c.toml);
    ASSERT_TRUE(flat.ok()) << c.toml << ": " << flat.status().ToString();
    Result<std::vector<std::pair<std::string, std::string>>> r = ConfigToArgs(*flat);
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().reason(), c.reason) << c.toml;
    EXPECT_EQ(r.status().message(), c.message) << c.toml;
  }
  // Documents not produced by the parser: nested tables and null.
  json::Value nested(json::Value::Object{{"a", json::Value::Object{{"b", 1}}}, {"c", nullptr}});
  EXPECT_FALSE(ConfigToArgs(nested).ok());
  EXPECT_FALSE(ConfigToArgs(json::Value(json::Value::Object{{"c", nullptr}})).ok());
  EXPECT_FALSE(ConfigToArgs(json::Value(3)).ok());
}

}  // namespace
}  // namespace hearth::server
