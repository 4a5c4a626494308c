// PII scrubbing, previews, prompt hashes, and the JSON-lines log as a
// security boundary (book 12.3 and 13.4).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "base/json.h"
#include "base/sha256.h"
#include "server/support/json_log.h"
#include "server/support/redact.h"
#include "testing/test_paths.h"

namespace hearth::server {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------ ScrubPii

TEST(RedactTest, Emails) {
  EXPECT_EQ(ScrubPii("My email is jane.doe@example.com"), "My email is [EMAIL]");
  EXPECT_EQ(ScrubPii("Write to jane.doe@example.com."), "Write to [EMAIL].");
  EXPECT_EQ(ScrubPii("a+tag_1%x@mail.sub.example.co.uk, b@c.io"), "[EMAIL], [EMAIL]");
  EXPECT_EQ(ScrubPii("<jane@example.com>"), "<[EMAIL]>");
  EXPECT_EQ(ScrubPii("x@foo.com2"), "[EMAIL]2");  // the regex's greedy letters stop at '2'
  EXPECT_EQ(ScrubPii("a@b@example.com"), "a@[EMAIL]");
  EXPECT_EQ(ScrubPii("é jane@example.com é"), "é [EMAIL] é");
  // Not e-mail addresses.
  for (const char* s : {"@", "a@", "@example.com", "a@b", "a@b.c", "a@.com", "a@b.c0m",
                        "price: 5 @ 3.50", "email me @ home"}) {
    EXPECT_EQ(ScrubPii(s), s);
  }
}

TEST(RedactTest, PhonesAndLongIds) {
  EXPECT_EQ(ScrubPii("+1 555-123-4567"), "[PHONE_OR_ID]");
  EXPECT_EQ(ScrubPii("call +44 20 7946 0958 now"), "call [PHONE_OR_ID] now");
  EXPECT_EQ(ScrubPii("call 555 123 4567 now"), "call [PHONE_OR_ID] now");
  EXPECT_EQ(ScrubPii("id 12345678"), "id [PHONE_OR_ID]");  // a digit + 7 more
  EXPECT_EQ(ScrubPii("(555) 123-4567"), "(555) [PHONE_OR_ID]");
  EXPECT_EQ(ScrubPii("card 4111-1111-1111-1111."), "card [PHONE_OR_ID].");
  EXPECT_EQ(ScrubPii("12345678 - 87654321"), "[PHONE_OR_ID]");
  EXPECT_EQ(ScrubPii("tel:5551234567;"), "tel:[PHONE_OR_ID];");
  EXPECT_EQ(ScrubPii("5551234567 -"), "[PHONE_OR_ID] -");  // no trailing separator swallowed
  // UTF-8 around the number: still found, the characters intact.
  EXPECT_EQ(ScrubPii("电话13800138000。"), "电话[PHONE_OR_ID]。");
  EXPECT_EQ(ScrubPii("né 5551234567 é"), "né [PHONE_OR_ID] é");
  // Not matched: too short, or glued to a word.
  for (const char* s : {"1234567", "12 34 5", "abc12345678", "12345678abc", "x_12345678",
                        "version 1.2.3.4", "+ 1234567", "5-5-5"}) {
    EXPECT_EQ(ScrubPii(s), s);
  }
  // Parity with the book's regex, which counts spaces and dashes towards the
  // 7 (checked against Python's re on random strings while writing this).
  EXPECT_EQ(ScrubPii("1 11 11-11111_111"), "[PHONE_OR_ID]-11111_111");
  EXPECT_EQ(ScrubPii("_1. 1  -111 a11a"), "_1. [PHONE_OR_ID] a11a");
  EXPECT_EQ(ScrubPii("a+12345678"), "a[PHONE_OR_ID]");
  // An e-mail with a long digit local part is one e-mail, not a phone.
  EXPECT_EQ(ScrubPii("12345678901@example.com"), "[EMAIL]");
}

// ------------------------------------------------------------ PreviewText

TEST(RedactTest, PreviewCutsOnCodePoints) {
  std::string e;
  for (int i = 0; i < 100; ++i) e += "é";
  std::string p = PreviewText(e);
  EXPECT_EQ(p.size(), 160u);  // 80 two-byte code points
  EXPECT_EQ(p, e.substr(0, 160));
  EXPECT_EQ(PreviewText("😀😀😀", 2), "😀😀");
  EXPECT_EQ(PreviewText("short", 80), "short");
  EXPECT_EQ(PreviewText("abc", 0), "");
}

TEST(RedactTest, PreviewRemovesControlsAndScrubsBeforeCutting) {
  EXPECT_EQ(PreviewText("a\tb\r\nc\x01\x7f"
                        "d\x1b[31m"),
            "a b  cd[31m");
  EXPECT_EQ(PreviewText("x\xc2\x85y\xe2\x80\xaez\xe2\x80\xa8w"), "xyz w");  // C1, RLO, LS
  EXPECT_EQ(PreviewText("bad \xff\xfe byte"), "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
  // The address straddles the cut: scrubbing first leaves no fragment.
  std::string prompt = "My email is jane.doe@example.com";
  EXPECT_EQ(PreviewText(prompt, 20), "My email is [EMAIL]");
  EXPECT_EQ(PreviewText(prompt, 15), "My email is [EM");
  // A control character hidden inside an address does not defeat the scrubber.
  EXPECT_EQ(PreviewText("jane.doe@\x01"
                        "example.com"),
            "[EMAIL]");
  EXPECT_EQ(PreviewText("call\n5551234567"), "call [PHONE_OR_ID]");
  // Without scrubbing (scrub_pii_in_previews=false) the text stays.
  EXPECT_EQ(PreviewText(prompt, 80, /*scrub_pii=*/false), prompt);
}

// ------------------------------------------------------------ PromptHash

TEST(RedactTest, PromptHashNormalizesLineEndingsOnly) {
  const std::string lf = "system: be brief\nuser: hi\n\n  indented\n";
  EXPECT_EQ(PromptHash(lf), "sha256:" + Sha256Hex(lf));
  EXPECT_EQ(PromptHash("system: be brief\r\nuser: hi\r\n\r\n  indented\r\n"), PromptHash(lf));
  EXPECT_EQ(PromptHash("system: be brief\ruser: hi\r\r  indented\r"), PromptHash(lf));
  EXPECT_EQ(PromptHash("a\r\r\nb"), PromptHash("a\n\nb"));
  // Whitespace is not collapsed: these are different prompts.
  EXPECT_NE(PromptHash("a  b"), PromptHash("a b"));
  EXPECT_NE(PromptHash("a\n\nb"), PromptHash("a\nb"));
  EXPECT_EQ(PromptHash("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// ------------------------------------------------------------ JsonLog

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every line of `text`, each parsed as a JSON object.
std::vector<json::Value> ParseLines(const std::string& text) {
  std::vector<json::Value> out;
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "last line unterminated";
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    Result<json::Value> v = json::Parse(line);
    EXPECT_TRUE(v.ok()) << line;
    if (!v.ok()) continue;
    EXPECT_TRUE(v->is_object()) << line;
    out.push_back(std::move(v).value());
  }
  return out;
}

// The book's fixture (13.4), as a terminal record.
json::Value FixtureRecord(const LogPolicy& policy) {
  json::Value r(json::Value::Object{{"event", "llm.generation.completed"},
                                    {"request_id", "b7f1c2a9"},
                                    {"model_id", "llm-compact"},
                                    {"params", json::Value::Object{{"max_new_tokens", 10}}},
                                    {"prompt_tokens", 3},
                                    {"output_tokens", 5},
                                    {"stop_reason", "eos"}});
  AddTextFields(policy, "My email is jane.doe@example.com",
                std::string_view("Sure. Contact me at jane.doe@example.com"), &r);
  return r;
}

struct Captured {
  std::string file, sink;
};

Captured LogFixture(const LogPolicy& policy) {
  const std::string dir = testing::TempDir();
  auto sink_text = std::make_shared<std::string>();
  JsonLogOptions o;
  o.dir = dir;
  o.sink = [sink_text](std::string_view line) { sink_text->append(line); };
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  if (!log.ok()) return {};
  (*log)->Write(FixtureRecord(policy));
  // A failed request: prompt fields only.
  json::Value failed(
      json::Value::Object{{"event", "llm.request.failed"}, {"error_code", "oom_kv_cache"}});
  AddTextFields(policy, "My email is jane.doe@example.com", std::nullopt, &failed);
  (*log)->Write(failed);
  EXPECT_EQ((*log)->stats().lines, 2u);
  EXPECT_EQ((*log)->stats().write_errors, 0u);
  return {ReadAll(dir + "/hearth.log"), *sink_text};
}

TEST(JsonLogTest, LeakTestWithDefaultPolicy) {
  Captured c = LogFixture(LogPolicy{});
  ASSERT_EQ(c.file, c.sink);  // every sink gets the same bytes
  std::vector<json::Value> lines = ParseLines(c.file);
  ASSERT_EQ(lines.size(), 2u);
  for (const char* secret :
       {"jane.doe@example.com", "jane.doe", "example.com", "My email", "Contact me", "Sure."}) {
    EXPECT_EQ(c.file.find(secret), std::string::npos) << secret << " leaked: " << c.file;
  }
  const json::Value& done = lines[0];
  EXPECT_EQ(done.Find("prompt_preview")->as_string(), "[REDACTED_PROMPT]");
  EXPECT_EQ(done.Find("output_preview")->as_string(), "[REDACTED_OUTPUT]");
  EXPECT_EQ(done.Find("prompt_hash")->as_string(), PromptHash("My email is jane.doe@example.com"));
  EXPECT_EQ(done.Find("output_hash")->as_string(),
            PromptHash("Sure. Contact me at jane.doe@example.com"));
  EXPECT_EQ(done.Find("redaction_level")->as_string(), "hash_only");
  EXPECT_EQ(done.Find("prompt"), nullptr);
  EXPECT_EQ(done.Find("output"), nullptr);
  EXPECT_EQ(lines[1].Find("output_hash"), nullptr);
  EXPECT_EQ(lines[1].Find("output_preview"), nullptr);
  // Schema header and numbers as numbers (T12.3-d).
  for (const json::Value& v : lines) {
    EXPECT_EQ(v.as_object()[0].first, "log_schema_version");
    EXPECT_EQ(v.Find("log_schema_version")->as_int(), 1);
    ASSERT_TRUE(v.Find("ts_unix_ms")->is_integer());
    EXPECT_GT(v.Find("ts_unix_ms")->as_int(), int64_t{1600000000000});
  }
  EXPECT_TRUE(done.Find("output_tokens")->is_integer());
  EXPECT_EQ(done.Find("params")->Find("max_new_tokens")->as_int(), 10);
}

TEST(JsonLogTest, PreviewsOnShowScrubbedText) {
  LogPolicy p;
  p.log_previews = true;
  Captured c = LogFixture(p);
  EXPECT_EQ(c.file.find("jane.doe@example.com"), std::string::npos) << c.file;
  EXPECT_NE(c.file.find("[EMAIL]"), std::string::npos);
  std::vector<json::Value> lines = ParseLines(c.file);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].Find("prompt_preview")->as_string(), "My email is [EMAIL]");
  EXPECT_EQ(lines[0].Find("output_preview")->as_string(), "Sure. Contact me at [EMAIL]");
  EXPECT_EQ(lines[0].Find("redaction_level")->as_string(), "preview");
}

TEST(JsonLogTest, FullTextIsStillScrubbedAndHashesCanBeOff) {
  LogPolicy p;
  p.log_prompt_output = true;
  p.log_hashes = false;
  Captured c = LogFixture(p);
  EXPECT_EQ(c.file.find("jane.doe@example.com"), std::string::npos) << c.file;
  std::vector<json::Value> lines = ParseLines(c.file);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].Find("prompt")->as_string(), "My email is [EMAIL]");
  EXPECT_EQ(lines[0].Find("output")->as_string(), "Sure. Contact me at [EMAIL]");
  EXPECT_EQ(lines[0].Find("prompt_preview")->as_string(), "[REDACTED_PROMPT]");
  EXPECT_EQ(lines[0].Find("prompt_hash"), nullptr);
  EXPECT_EQ(lines[0].Find("redaction_level")->as_string(), "scrubbed_text");
}

TEST(JsonLogTest, ReservedFieldsAndBadRecords) {
  JsonLogOptions o;  // no file: sink only
  std::string out;
  o.sink = [&out](std::string_view line) { out.append(line); };
  o.now_unix_ms = [] { return int64_t{1710000000123}; };
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->path(), "");
  (*log)->Write(json::Value(json::Value::Object{
      {"ts_unix_ms", 5}, {"log_schema_version", 9}, {"text", "line1\nline2\u2028"}}));
  (*log)->Write(json::Value("not an object"));
  EXPECT_EQ(out,
            "{\"log_schema_version\":1,\"ts_unix_ms\":1710000000123,"
            "\"text\":\"line1\\nline2\u2028\"}\n");
  EXPECT_EQ((*log)->stats().lines, 1u);
  EXPECT_EQ((*log)->stats().write_errors, 1u);
}

// Reads hearth.log.(N-1) .. hearth.log oldest first; checks the budget.
std::vector<json::Value> ReadRotated(const std::string& dir, int max_files, uint64_t budget,
                                     size_t longest_line) {
  std::vector<json::Value> all;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_LE(entry.file_size(), budget + longest_line) << entry.path();
  }
  EXPECT_LE(files, max_files);
  for (int i = max_files - 1; i >= 0; --i) {
    std::string path = dir + "/hearth.log" + (i == 0 ? "" : "." + std::to_string(i));
    if (!fs::exists(path)) continue;
    std::string text = ReadAll(path);
    EXPECT_LE(text.size(), budget) << path;  // lines shorter than the budget: strict
    for (json::Value& v : ParseLines(text)) all.push_back(std::move(v));
  }
  return all;
}

TEST(JsonLogTest, RotationKeepsTheBudgetAndWholeLines) {
  const std::string dir = testing::TempDir();
  JsonLogOptions o;
  o.dir = dir;
  o.max_file_bytes = 1000;
  o.max_files = 3;
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  ASSERT_TRUE(log.ok());
  const int n = 500;
  for (int i = 0; i < n; ++i) {
    // Varying lengths so lines do not pack evenly.
    (*log)->Write(json::Value(json::Value::Object{{"seq", i}, {"pad", std::string(i % 37, 'x')}}));
  }
  EXPECT_EQ((*log)->stats().write_errors, 0u);
  EXPECT_GT((*log)->stats().rotations, 10u);
  std::vector<json::Value> all = ReadRotated(dir, 3, 1000, 0);
  ASSERT_FALSE(all.empty());
  // Contiguous sequence ending with the newest line: only the oldest were
  // rotated out, nothing in between was lost or split.
  int64_t first = all.front().Find("seq")->as_int();
  for (size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(all[i].Find("seq")->as_int(), first + int64_t(i));
  EXPECT_EQ(all.back().Find("seq")->as_int(), n - 1);
  EXPECT_GT(all.size(), 3u * 1000 / 130);  // the three files are reasonably full
  // The newest line is in hearth.log itself.
  std::vector<json::Value> current = ParseLines(ReadAll(dir + "/hearth.log"));
  ASSERT_FALSE(current.empty());
  EXPECT_EQ(current.back().Find("seq")->as_int(), n - 1);
}

TEST(JsonLogTest, OversizedLineIsWrittenWholeInItsOwnFile) {
  const std::string dir = testing::TempDir();
  JsonLogOptions o;
  o.dir = dir;
  o.max_file_bytes = 200;
  o.max_files = 2;
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  ASSERT_TRUE(log.ok());
  (*log)->Write(json::Value(json::Value::Object{{"seq", 0}}));
  (*log)->Write(json::Value(json::Value::Object{{"seq", 1}, {"big", std::string(1000, 'b')}}));
  std::vector<json::Value> cur = ParseLines(ReadAll(dir + "/hearth.log"));
  ASSERT_EQ(cur.size(), 1u);
  EXPECT_EQ(cur[0].Find("big")->as_string().size(), 1000u);
  EXPECT_EQ(ParseLines(ReadAll(dir + "/hearth.log.1")).size(), 1u);
  (*log)->Write(json::Value(json::Value::Object{{"seq", 2}}));  // the next line moves on
  EXPECT_EQ(ParseLines(ReadAll(dir + "/hearth.log")).size(), 1u);
  EXPECT_EQ(ParseLines(ReadAll(dir + "/hearth.log.1"))[0].Find("seq")->as_int(), 1);
  EXPECT_FALSE(fs::exists(dir + "/hearth.log.2"));
  EXPECT_EQ((*log)->stats().rotations, 2u);
}

TEST(JsonLogTest, SingleFileBudgetRestartsTheFile) {
  const std::string dir = testing::TempDir();
  JsonLogOptions o;
  o.dir = dir;
  o.max_file_bytes = 300;
  o.max_files = 1;
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 100; ++i) (*log)->Write(json::Value(json::Value::Object{{"seq", i}}));
  std::vector<json::Value> all = ReadRotated(dir, 1, 300, 0);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().Find("seq")->as_int(), 99);
}

TEST(JsonLogTest, WriteErrorsAreCountedNotFatal) {
  const std::string dir = testing::TempDir() + "/logs";
  JsonLogOptions o;
  o.dir = dir;
  o.max_file_bytes = 100;
  o.max_files = 3;
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  ASSERT_TRUE(log.ok());
  fs::remove_all(dir);  // the directory disappears under the logger
  for (int i = 0; i < 20; ++i) (*log)->Write(json::Value(json::Value::Object{{"seq", i}}));
  JsonLog::Stats s = (*log)->stats();
  EXPECT_GT(s.write_errors, 0u);
  EXPECT_GT(s.dropped, 0u);
  // It recovers once the directory is back.
  fs::create_directories(dir);
  (*log)->Write(json::Value(json::Value::Object{{"seq", 100}}));
  (*log)->Write(json::Value(json::Value::Object{{"seq", 101}}));
  std::vector<json::Value> cur = ParseLines(ReadAll(dir + "/hearth.log"));
  ASSERT_FALSE(cur.empty());
  EXPECT_EQ(cur.back().Find("seq")->as_int(), 101);
  // A directory that cannot be created is an error at Open.
  JsonLogOptions bad;
  bad.dir = dir + "/hearth.log/sub";
  EXPECT_FALSE(JsonLog::Open(bad).ok());
}

TEST(JsonLogTest, ConcurrentWritersNeverInterleave) {
  const std::string dir = testing::TempDir();
  JsonLogOptions o;
  o.dir = dir;
  o.max_file_bytes = 1 << 20;
  Result<std::unique_ptr<JsonLog>> log = JsonLog::Open(o);
  ASSERT_TRUE(log.ok());
  JsonLog* l = log->get();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([l, t]() {
      for (int i = 0; i < 200; ++i) {
        l->Write(json::Value(
            json::Value::Object{{"thread", t}, {"i", i}, {"pad", std::string(50 + i % 13, 'p')}}));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<json::Value> lines = ParseLines(ReadAll(dir + "/hearth.log"));
  EXPECT_EQ(lines.size(), 800u);
  std::vector<int> next(4, 0);
  for (const json::Value& v : lines) {
    int t = static_cast<int>(v.Find("thread")->as_int());
    EXPECT_EQ(v.Find("i")->as_int(), next[t]++);  // per-thread order kept
  }
}

}  // namespace
}  // namespace hearth::server
