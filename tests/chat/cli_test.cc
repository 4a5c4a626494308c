// `hearth template` reproduces a golden case byte for byte.
#include <gtest/gtest.h>

#include <string>

#include "base/json.h"
#include "base/mapped_file.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

TEST(ChatCli, RendersGoldenCase) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::SharedDir() + "/testdata/templates/qwen3";
  auto text = ReadFileToString(dir + "/tool_call.json");
  if (!text.ok()) GTEST_SKIP() << "no qwen3 case";
  auto c = json::Parse(*text);
  ASSERT_TRUE(c.ok());
  auto r = testing::RunCommand(testing::HearthBinary() + " template '" + dir +
                               "/chat_template.jinja' --messages '" + dir + "/tool_call.json'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, c->Find("expected")->as_string());
}

TEST(ChatCli, RaisedErrorFails) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::SharedDir() + "/testdata/templates/gemma3";
  auto r = testing::RunCommand(testing::HearthBinary() + " template '" + dir +
                                   "/chat_template.jinja' --messages '" + dir +
                                   "/error_roles_not_alternating.json'",
                               /*merge_stderr=*/true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("Conversation roles must alternate"), std::string::npos) << r.output;
}

TEST(ChatCli, GgufBuiltinUsesVocabularyBos) {
  HEARTH_REQUIRE_SHARED();
  const std::string model = testing::SharedDir() + "/models/stories260K/stories260K-f32.gguf";
  if (testing::RunCommand("test -f '" + model + "'").exit_code != 0) GTEST_SKIP() << "no model";
  const std::string m = testing::TempDir() + "/m.json";
  ASSERT_EQ(testing::RunCommand("printf '%s' '{\"messages\": [{\"role\": \"user\", "
                                "\"content\": \"hi\"}]}' > '" +
                                m + "'")
                .exit_code,
            0);
  auto r = testing::RunCommand(testing::HearthBinary() + " template '" + model +
                               "' --builtin llama2 --messages '" + m + "'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "<s>[INST] hi [/INST]");
}

TEST(ChatCli, Help) {
  auto r = testing::RunCommand(testing::HearthBinary() + " template --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--messages"), std::string::npos);
}

}  // namespace
}  // namespace hearth
