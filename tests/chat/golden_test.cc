// Every case in ../shared/testdata/templates renders byte-identically to the
// Jinja2 golden (`expected`) or fails with exactly `expected_error`.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/mapped_file.h"
#include "testing/test_paths.h"
#include "tokenizer/chat/template.h"

namespace hearth::chat {
namespace {

namespace fs = std::filesystem;

std::string TokenOrEmpty(const json::Value& c, const char* key) {
  const json::Value* v = c.Find(key);
  return v != nullptr && v->is_string() ? v->as_string() : "";
}

TEST(ChatGolden, EveryCaseMatches) {
  HEARTH_REQUIRE_SHARED();
  const fs::path root = fs::path(testing::SharedDir()) / "testdata" / "templates";
  if (!fs::exists(root)) GTEST_SKIP() << "no " << root;
  std::vector<fs::path> families;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory()) families.push_back(e.path());
  }
  int checked = 0;
  for (const fs::path& dir : families) {
    auto source = ReadFileToString((dir / "chat_template.jinja").string());
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    auto parsed = Template::Parse(*source);
    ASSERT_TRUE(parsed.ok()) << dir << ": " << parsed.status().ToString();
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".json") continue;
      SCOPED_TRACE(e.path().string());
      auto text = ReadFileToString(e.path().string());
      ASSERT_TRUE(text.ok());
      auto c = json::Parse(*text);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      const json::Value* tools = c->Find("tools");
      const json::Value* extra = c->Find("extra_context");
      const json::Value* gen = c->Find("add_generation_prompt");
      auto out = ApplyChatTemplate(*source, *c->Find("messages"), tools ? *tools : json::Value(),
                                   gen != nullptr && gen->is_bool() && gen->as_bool(),
                                   TokenOrEmpty(*c, "bos_token"), TokenOrEmpty(*c, "eos_token"),
                                   extra ? *extra : json::Value());
      if (const json::Value* err = c->Find("expected_error")) {
        ASSERT_FALSE(out.ok()) << "rendered: " << *out;
        EXPECT_EQ(out.status().message(), err->as_string());
        EXPECT_EQ(out.status().reason(), "template.raise");
      } else {
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        EXPECT_EQ(*out, c->Find("expected")->as_string());
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
  std::printf("checked %d template cases\n", checked);
}

}  // namespace
}  // namespace hearth::chat
