// The streaming text interface end to end: ids from a byte-level tokenizer
// (emoji and CJK split across byte tokens) pass through the streaming
// detokenizer and the stop matcher in random chunkings. Every emitted chunk is
// complete UTF-8, nothing that turns out to be part of a stop string is ever
// emitted, and the concatenation equals the non-streamed text cut at the stop.
#include <gtest/gtest.h>

#include <random>

#include "format/gguf.h"
#include "model/vocab_gguf.h"
#include "runtime/stop_matcher.h"
#include "testing/test_paths.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth {
namespace {

TEST(StreamingTest, DetokenizerPlusStopMatcherOverRandomTokenSplits) {
  HEARTH_REQUIRE_SHARED();
  auto f = GgufFile::Open(testing::SharedDir() + "/testdata/vocab/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(f.ok());
  auto t = LoadTokenizer(*f);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const tok::Tokenizer& tokenizer = **t;
  std::mt19937 rng(17);
  const std::vector<std::string> pieces = {"Hello", " world", "😀", "🙂👍🏽", "中文", "測試",
                                           " ",     "\n",     "é", "STOP",         "ST",   "OP",
                                           "<|x|>", "ab"};
  const std::vector<std::vector<std::string>> stop_sets = {
      {}, {"STOP"}, {"😀中"}, {"world\n", "文測"}, {"b😀"}};
  int checked = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    tok::EncodeOptions eo;
    eo.add_special = false;
    const std::vector<int32_t> ids = tokenizer.Encode(text, eo);
    tok::DecodeOptions dopt;
    dopt.strip_leading_space = false;
    const std::string full = tokenizer.Decode(ids, dopt);
    ASSERT_EQ(full, text);  // byte-level BPE is lossless
    for (const auto& stops : stop_sets) {
      // Expected: the text up to the earliest-ending stop string.
      size_t cut = full.size();
      size_t best_end = std::string::npos;
      for (const auto& s : stops) {
        size_t at = full.find(s);
        if (at != std::string::npos && (best_end == std::string::npos || at + s.size() < best_end ||
                                        (at + s.size() == best_end && at < cut))) {
          best_end = at + s.size();
          cut = at;
        }
      }
      const std::string expected = full.substr(0, cut);
      auto matcher = runtime::StopMatcher::Create(stops);
      ASSERT_TRUE(matcher.ok());
      tok::StreamingDetokenizer detok(tokenizer, dopt);
      std::string got;
      bool stopped = false;
      size_t i = 0;
      while (i < ids.size() && !stopped) {
        const size_t chunk = 1 + rng() % 3;  // feed 1-3 tokens, then look at the output
        std::string decoded;
        for (size_t k = 0; k < chunk && i < ids.size(); ++k, ++i) decoded += detok.Push(ids[i]);
        runtime::StopMatcher::Step step = matcher->Push(decoded);
        ASSERT_TRUE(unicode::IsValidUtf8(step.text)) << "split character emitted";
        got += step.text;
        ASSERT_EQ(expected.compare(0, got.size(), got), 0)
            << "emitted text that is not a prefix of the final answer";
        stopped = step.stopped;
      }
      if (!stopped) {
        runtime::StopMatcher::Step last = matcher->Push(detok.Flush());
        got += last.text;
        if (!last.stopped) got += matcher->Flush();
      }
      EXPECT_EQ(got, expected) << "text: " << text;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 400 * 5);
}

}  // namespace
}  // namespace hearth
