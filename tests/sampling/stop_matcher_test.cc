#include "runtime/stop_matcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/stop_reason.h"
#include "sampling/rng.h"

namespace hearth::runtime {
namespace {

StopMatcher Make(std::vector<std::string> stops) {
  auto m = StopMatcher::Create(std::move(stops));
  HEARTH_CHECK(m.ok(), "%s", m.status().ToString().c_str());
  return std::move(m).value();
}

// Feeds `chunks`; returns the emitted pieces (one per Push, then Flush).
std::vector<std::string> Feed(StopMatcher& m, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  for (const std::string& c : chunks) out.push_back(m.Push(c).text);
  out.push_back(m.Flush());
  return out;
}

TEST(StopMatcherTest, NoStopsPassesThrough) {
  StopMatcher m = Make({});
  EXPECT_EQ(Feed(m, {"a", "", "bc"}), (std::vector<std::string>{"a", "", "bc", ""}));
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcherTest, StopAcrossChunks) {
  StopMatcher m = Make({"END"});
  EXPECT_EQ(Feed(m, {"Hello E", "N", "D more", "ignored"}),
            (std::vector<std::string>{"Hello ", "", "", "", ""}));
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched_index(), 0);
}

TEST(StopMatcherTest, HeldPrefixIsReleasedWhenItDiverges) {
  StopMatcher m = Make({"END"});
  EXPECT_EQ(Feed(m, {"Hello E", "N", "x", "E"}),
            (std::vector<std::string>{"Hello ", "", "ENx", "", "E"}));
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcherTest, OverlappingSelfPrefix) {
  StopMatcher m = Make({"aab"});
  EXPECT_EQ(Feed(m, {"a", "a", "a", "b"}), (std::vector<std::string>{"", "", "a", "", ""}));
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, ByteByByteSpecialMarker) {
  StopMatcher m = Make({"<|im_end|>", "\n\nUser:"});
  const std::string text = "The answer is 4.<|im_end|>junk";
  std::string emitted;
  for (char c : text) emitted += m.Push(std::string(1, c)).text;
  emitted += m.Flush();
  EXPECT_EQ(emitted, "The answer is 4.");
  EXPECT_EQ(m.matched_index(), 0);
}

TEST(StopMatcherTest, EarliestEndingMatchWins) {
  StopMatcher m = Make({"abcd", "bc"});
  EXPECT_EQ(m.Push("abcd").text, "a");
  EXPECT_EQ(m.matched_index(), 1);
  StopMatcher n = Make({"bc", "abc"});  // same end: earlier start wins
  EXPECT_EQ(n.Push("xabcx").text, "x");
  EXPECT_EQ(n.matched_index(), 1);
}

TEST(StopMatcherTest, MultiByteStops) {
  StopMatcher cjk = Make({"。"});
  EXPECT_EQ(Feed(cjk, {"你好", "。再见"}), (std::vector<std::string>{"你好", "", ""}));
  StopMatcher emoji = Make({"😀!"});
  EXPECT_EQ(Feed(emoji, {"hi 😀", "😀", "!"}), (std::vector<std::string>{"hi ", "😀", "", ""}));
}

TEST(StopMatcherTest, ByteSplitInputNeverSplitsACharacter) {
  StopMatcher m = Make({});
  EXPECT_EQ(Feed(m, {"a\xe4\xbd", "\xa0", "b\xf0\x9f", "\x98\x80"}),
            (std::vector<std::string>{"a", "你", "b", "😀", ""}));
}

TEST(StopMatcherTest, RejectsEmptyAndInvalidStops) {
  auto empty = StopMatcher::Create({"ok", ""});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().reason(), "invalid_parameter");
  EXPECT_EQ(empty.status().message(), "stop[1] is empty");
  auto bad = StopMatcher::Create({"\xff"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "invalid_parameter");
}

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("aé你😀"));
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\x80"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe4\xbd"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

TEST(StopReasonTest, NamesRoundTripAndFinishReasons) {
  const std::vector<std::pair<StopReason, std::string>> all = {
      {StopReason::kEos, "eos"},
      {StopReason::kStopSequence, "stop_sequence"},
      {StopReason::kMaxTokens, "max_tokens"},
      {StopReason::kCancelled, "cancelled"},
      {StopReason::kTimeout, "timeout"},
      {StopReason::kMemory, "memory"},
      {StopReason::kError, "error"}};
  for (const auto& [reason, name] : all) {
    EXPECT_EQ(StopReasonName(reason), name);
    EXPECT_EQ(ParseStopReason(name), reason);
  }
  EXPECT_EQ(ParseStopReason("EOS"), std::nullopt);
  EXPECT_EQ(ParseStopReason("stop"), std::nullopt);
  EXPECT_EQ(OpenAiFinishReason(StopReason::kEos), "stop");
  EXPECT_EQ(OpenAiFinishReason(StopReason::kStopSequence), "stop");
  EXPECT_EQ(OpenAiFinishReason(StopReason::kMaxTokens), "length");
  EXPECT_EQ(OpenAiFinishReason(StopReason::kMemory), "length");
}

// ---- Property test --------------------------------------------------------

// A small alphabet of 1- to 4-byte characters, so random stop strings often
// share prefixes with the text and with each other.
const std::vector<std::string>& Alphabet() {
  static const std::vector<std::string> kChars = {"a", "b", " ", "\n", "é", "你", "好", "😀", "🎉"};
  return kChars;
}

std::string RandomString(sampling::Rng& rng, size_t max_chars, std::vector<size_t>* boundaries) {
  const size_t n = rng.NextU64() % (max_chars + 1);
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (boundaries) boundaries->push_back(s.size());
    s += Alphabet()[rng.NextU64() % Alphabet().size()];
  }
  if (boundaries) boundaries->push_back(s.size());
  return s;
}

// The text emitted for `text` as a whole: everything before the stop string
// occurrence that ends first (ties: starts first), or all of it.
std::string Reference(const std::string& text, const std::vector<std::string>& stops) {
  for (size_t end = 1; end <= text.size(); ++end) {
    size_t best = std::string::npos;
    for (const std::string& s : stops) {
      if (s.size() <= end && text.compare(end - s.size(), s.size(), s) == 0) {
        best = std::min(best, end - s.size());
      }
    }
    if (best != std::string::npos) return text.substr(0, best);
  }
  return text;
}

// Longest suffix of `text` that is a proper prefix of some stop string.
size_t ReferenceHold(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const std::string& s : stops) {
    for (size_t len = 1; len < s.size() && len <= text.size(); ++len) {
      if (text.compare(text.size() - len, len, s, 0, len) == 0) best = std::max(best, len);
    }
  }
  return best;
}

void CheckCase(sampling::Rng& rng, bool byte_chunks) {
  std::vector<size_t> boundaries;
  const std::string text = RandomString(rng, 40, &boundaries);
  std::vector<std::string> stops;
  const size_t n_stops = rng.NextU64() % 5;
  for (size_t i = 0; i < n_stops; ++i) {
    std::string s;
    if (rng.NextU64() % 2 == 0 && boundaries.size() > 2) {  // a piece of the text
      const size_t a = rng.NextU64() % (boundaries.size() - 1);
      const size_t b = a + 1 + rng.NextU64() % std::min<size_t>(5, boundaries.size() - 1 - a);
      s = text.substr(boundaries[a], boundaries[b] - boundaries[a]);
    } else {
      while (s.empty()) s = RandomString(rng, 4, nullptr);
    }
    stops.push_back(s);
  }
  const std::string want = Reference(text, stops);
  SCOPED_TRACE(testing::Message() << "text '" << text << "' stops " << stops.size()
                                  << (stops.empty() ? "" : " first '" + stops[0] + "'"));

  StopMatcher m = Make(stops);
  std::string emitted;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next;
    if (byte_chunks) {
      next = pos + rng.NextU64() % 6;  // may be 0 bytes or split a character
    } else {
      // Advance 0..4 characters (empty chunks included).
      size_t k = 0;
      while (boundaries[k] < pos) ++k;
      next = boundaries[std::min(boundaries.size() - 1, k + rng.NextU64() % 5)];
    }
    next = std::min(next, text.size());
    const StopMatcher::Step step = m.Push(std::string_view(text).substr(pos, next - pos));
    pos = next;
    ASSERT_TRUE(IsValidUtf8(step.text)) << "emitted piece splits a character";
    emitted += step.text;
    ASSERT_EQ(want.compare(0, emitted.size(), emitted), 0)
        << "emitted '" << emitted << "' is not a prefix of '" << want << "'";
    if (step.stopped) break;
    if (!byte_chunks) {
      ASSERT_EQ(m.held_bytes(), ReferenceHold(text.substr(0, pos), stops))
          << "holds more or less than the longest possible stop prefix";
    }
  }
  const std::string tail = m.Flush();
  ASSERT_TRUE(IsValidUtf8(tail));
  emitted += tail;
  EXPECT_EQ(emitted, want);
  EXPECT_EQ(m.stopped(), want.size() != text.size());
}

TEST(StopMatcherPropertyTest, RandomTextsAndCharacterChunks) {
  sampling::Rng rng(2024);
  for (int i = 0; i < 5000; ++i) {
    CheckCase(rng, /*byte_chunks=*/false);
    if (HasFatalFailure()) return;
  }
}

TEST(StopMatcherPropertyTest, RandomTextsAndByteChunks) {
  sampling::Rng rng(4048);
  for (int i = 0; i < 5000; ++i) {
    CheckCase(rng, /*byte_chunks=*/true);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace hearth::runtime
