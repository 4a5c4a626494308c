// Hostile templates: deep nesting, runaway loops, huge outputs fail cleanly.
#include <gtest/gtest.h>

#include <string>

#include "chat/template_test_util.h"
#include "tokenizer/chat/template.h"

namespace hearth::chat {
namespace {

using testing_util::RenderError;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) out += s;
  return out;
}

TEST(ChatTemplateLimits, DeepExpressionNesting) {
  Status s = RenderError("{{ " + Repeat("(", 100000) + "1" + Repeat(")", 100000) + " }}");
  EXPECT_EQ(s.reason(), "template.syntax");
  EXPECT_NE(s.message().find("nesting deeper"), std::string::npos) << s.message();
  s = RenderError("{{ " + Repeat("not ", 100000) + "1 }}");
  EXPECT_NE(s.message().find("nesting deeper"), std::string::npos) << s.message();
  s = RenderError("{{ " + Repeat("[", 50000) + " }}");
  EXPECT_FALSE(s.ok());
}

TEST(ChatTemplateLimits, DeepBlockNesting) {
  Status s = RenderError(Repeat("{% if true %}", 50000) + Repeat("{% endif %}", 50000));
  EXPECT_NE(s.message().find("nesting deeper"), std::string::npos) << s.message();
}

TEST(ChatTemplateLimits, HugeLoopsStop) {
  Status s = RenderError(
      "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}"
      "{% endfor %}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.reason(), "template.limit");
  s = RenderError("{% for i in range(100000000000) %}{% endfor %}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
}

TEST(ChatTemplateLimits, HugeOutputStops) {
  RenderLimits small;
  small.max_output_bytes = 1000;
  Status s = RenderError("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", "{}", small);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  s = RenderError(
      "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(100) %}"
      "{% set ns.s = ns.s + ns.s %}{% endfor %}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  s = RenderError("{{ 'x' * 100000000000 }}");
  EXPECT_FALSE(s.ok());
  s = RenderError(
      "{% set ns = namespace(l=[1] * 100000) %}{% for i in range(100) %}"
      "{% set ns.l = ns.l + ns.l %}{% endfor %}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  s = RenderError("{{ ([1] * 1000000) * 1000 }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
}

TEST(ChatTemplateLimits, MacroRecursion) {
  Status s = RenderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
}

TEST(ChatTemplateLimits, MalformedInputsNeverCrash) {
  const char* cases[] = {"{{",
                         "{%",
                         "{#",
                         "{{ }}",
                         "{% %}",
                         "{% for %}",
                         "{% for x in %}",
                         "{% set %}",
                         "{{ a[ }}",
                         "{{ a. }}",
                         "{{ (1, }}",
                         "{% endif %}",
                         "{{ 'a' | }}",
                         "{{ x is }}",
                         "{% macro %}",
                         "{{ {1: 2} }}",
                         "{{ 1 / 0 }}",
                         "{{ 1 // 0 }}",
                         "{{ [1][::0] }}",
                         "{{ 9223372036854775807 + 1 }}",
                         "{{ -9223372036854775807 - 2 }}",
                         "{{ 99999999999999999999 }}",
                         "}}{{",
                         "{{ range(1, 2, 0) }}",
                         "{{ 'a' % 1 }}",
                         "{{ x() }}",
                         "{{ 1() }}"};
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    Status s = RenderError(c);
    if (std::string(c) != "}}{{") {
      EXPECT_FALSE(s.ok());
      EXPECT_TRUE(s.message().rfind("template line ", 0) == 0) << s.message();
    }
  }
}

}  // namespace
}  // namespace hearth::chat
