// `hearth run --chat` driven through stdin: commands, context budgeting and
// Ctrl-C stopping a reply without ending the program.
#include <gtest/gtest.h>

#include "base/json.h"
#include "base/mapped_file.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

std::string Aidreams() {
  return testing::SharedDir() + "/models/aidreams260K/aidreams260K-f32.gguf";
}

TEST(ChatCliTest, CommandsAndHistory) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::TempDir();
  const std::string script = "printf 'Hello there\\n/stats\\n/save " + dir +
                             "/a.json\\nSecond line\\n/save " + dir + "/b.json\\n/reset\\n/save " +
                             dir + "/c.json\\n/bogus\\n/exit\\n'";
  auto r = testing::RunCommand(script + " | " + testing::HearthBinary() + " run -m " + Aidreams() +
                                   " --chat --builtin-template chatml --system 'Be brief.' -n 8 " +
                                   "--ctx 128 --truncation oldest_turns",
                               true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("context used"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unknown command /bogus"), std::string::npos);
  auto a = json::Parse(*ReadFileToString(dir + "/a.json"));
  ASSERT_TRUE(a.ok());
  const auto& am = a->Find("messages")->as_array();
  ASSERT_EQ(am.size(), 3u);  // system, user, assistant
  EXPECT_EQ(am[0].Find("role")->as_string(), "system");
  EXPECT_EQ(am[1].Find("content")->as_string(), "Hello there");
  EXPECT_EQ(am[2].Find("role")->as_string(), "assistant");
  auto b = json::Parse(*ReadFileToString(dir + "/b.json"));
  ASSERT_TRUE(b.ok());
  const auto& bm = b->Find("messages")->as_array();
  // 128 tokens hold the system message and one turn: the first turn was dropped whole.
  EXPECT_NE(r.output.find("dropped the 1 oldest turn"), std::string::npos) << r.output;
  ASSERT_EQ(bm.size(), 3u);
  EXPECT_EQ(bm[0].Find("role")->as_string(), "system");
  EXPECT_EQ(bm[1].Find("content")->as_string(), "Second line");
  auto c = json::Parse(*ReadFileToString(dir + "/c.json"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Find("messages")->as_array().size(), 1u) << "reset keeps only the system message";
}

TEST(ChatCliTest, PromptTooLongIsRefusedByDefault) {
  HEARTH_REQUIRE_SHARED();
  auto r = testing::RunCommand("printf 'Hello there\\nSecond line\\n' | " +
                                   testing::HearthBinary() + " run -m " + Aidreams() +
                                   " --chat --builtin-template chatml -n 8 --ctx 96",
                               true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("exceeds the context"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--truncation oldest_turns"), std::string::npos);
}

TEST(ChatCliTest, CtrlCStopsTheReplyNotTheProgram) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::TempDir();
  const std::string model = dir + "/tiny.gguf";
  ASSERT_EQ(testing::RunCommand(testing::HearthBinary() + " synth --preset tiny -q -o " + model)
                .exit_code,
            0);
  // A reply that would take far longer than the test: 60000 tokens with EOS ignored.
  const std::string script = dir + "/ctrl_c.sh";
  const std::string body =
      "(printf 'Tell me everything\\n'; sleep 4; printf '/save " + dir + "/s.json\\n/exit\\n') | " +
      testing::HearthBinary() + " run -m " + model +
      " --chat --builtin-template chatml --ignore-eos -n 60000 --ctx 61000 --temp 0.8 &\n"
      "pid=$!\nsleep 2\nkill -INT $pid\nwait $pid\n";
  ASSERT_TRUE(WriteFileAtomic(script, body).ok());
  auto r = testing::RunCommand("bash " + script, true);
  EXPECT_EQ(r.exit_code, 0) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("(stopped)"), std::string::npos) << r.output.substr(0, 2000);
  auto saved = ReadFileToString(dir + "/s.json");
  ASSERT_TRUE(saved.ok()) << "the program should go on after Ctrl-C and save the conversation";
  auto s = json::Parse(*saved);
  ASSERT_TRUE(s.ok()) << "the program went on after Ctrl-C and saved the conversation";
  const auto& m = s->Find("messages")->as_array();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_FALSE(m[1].Find("content")->as_string().empty());
}

}  // namespace
}  // namespace hearth
