// StreamingDetokenizer properties on real vocabularies (shared data) and on a
// small hand-made one.
//
// The property: for any id sequence, the pieces returned by Push/Flush
// concatenate to Decode(ids) exactly, and every piece boundary falls between
// two "units" of that full decode, where a unit is a valid UTF-8 character or
// a single byte that is not part of one. So a piece is valid UTF-8 whenever the
// full decode is, and invalid bytes appear only where Decode has them too.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "base/strings.h"
#include "format/gguf.h"
#include "model/vocab_gguf.h"
#include "testing/test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth {
namespace {

// Offsets where a unit of `s` starts, plus s.size().
std::set<size_t> UnitBoundaries(std::string_view s) {
  std::set<size_t> b;
  for (size_t pos = 0; pos < s.size();) {
    b.insert(pos);
    unicode::DecodeUtf8(s, &pos);
  }
  b.insert(s.size());
  return b;
}

void CheckStream(const tok::Tokenizer& t, const std::vector<int32_t>& ids,
                 const tok::DecodeOptions& opts) {
  const std::string full = t.Decode(ids, opts);
  const std::set<size_t> units = UnitBoundaries(full);
  tok::StreamingDetokenizer d(t, opts);
  std::string joined;
  for (int32_t id : ids) {
    joined += d.Push(id);
    ASSERT_TRUE(units.count(joined.size()))
        << "piece ends inside a character at byte " << joined.size() << " of '"
        << EscapeForDisplay(full, 120) << "'";
    if (unicode::IsValidUtf8(full)) {
      ASSERT_TRUE(unicode::IsValidUtf8(joined));
    }
  }
  joined += d.Flush();
  ASSERT_EQ(joined, full);
}

// Random sequences mixing the ids of emoji/CJK text, byte tokens, specials
// and arbitrary ids.
void RandomStreams(const tok::Tokenizer& t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> pool;
  tok::EncodeOptions eo;
  eo.add_special = false;
  for (const char* s : {"🦙🚀😶‍🌫️ emoji", "我想在apple工作", "нещо на Български",
                        "Äpfel ½", " Hello, world! I'm here . ,", "🤖"}) {
    for (int32_t id : t.Encode(s, eo)) pool.push_back(id);
  }
  for (int b = 0; b < 256; ++b) {
    const int32_t id = t.Find(StrFormat("<0x%02X>", b));
    if (id >= 0) pool.push_back(id);
  }
  for (int32_t id : {t.vocab().bos_id, t.vocab().eos_id, t.vocab().unk_id}) {
    if (id >= 0) pool.push_back(id);
  }
  std::uniform_int_distribution<int32_t> any_id(0, t.n_vocab() - 1);
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<int32_t> ids(rng() % 24);
    for (int32_t& id : ids) id = rng() % 5 == 0 ? any_id(rng) : pool[rng() % pool.size()];
    tok::DecodeOptions opts;
    opts.skip_special = rng() % 2;
    opts.render_special = rng() % 2;
    opts.clean_up_spaces = rng() % 2;
    opts.strip_leading_space = rng() % 2;
    SCOPED_TRACE(StrFormat("iteration %d", iter));
    CheckStream(t, ids, opts);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

class StreamingRealVocabTest : public ::testing::TestWithParam<const char*> {};

TEST_P(StreamingRealVocabTest, PiecesConcatenateToDecode) {
  HEARTH_REQUIRE_SHARED();
  auto f =
      GgufFile::Open(testing::SharedDir() + "/testdata/vocab/ggml-vocab-" + GetParam() + ".gguf");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto t = LoadTokenizer(*f);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  RandomStreams(**t, 1234);
}

INSTANTIATE_TEST_SUITE_P(Families, StreamingRealVocabTest,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-llm",
                                           "bert-bge"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           std::string name = param.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// A tiny SentencePiece vocabulary: byte tokens only (plus "▁" and "a"), so
// every multi-byte character is split across byte tokens.
std::unique_ptr<tok::Tokenizer> TinyByteVocab() {
  tok::VocabData v;
  v.kind = tok::ModelKind::kSpm;
  v.add_space_prefix = true;
  for (const char* s : {"<unk>", "<s>", "</s>"}) v.tokens.push_back(s);
  v.types = {tok::TokenType::kUnknown, tok::TokenType::kControl, tok::TokenType::kControl};
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(StrFormat("<0x%02X>", b));
    v.types.push_back(tok::TokenType::kByte);
  }
  for (const char* s : {"\xe2\x96\x81", "a",
                        "\xe2\x96\x81"
                        "a"}) {
    v.tokens.push_back(s);
    v.types.push_back(tok::TokenType::kNormal);
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_bos = true;
  for (int i = 1; i <= 2; ++i) v.added_tokens.push_back({i, v.tokens[i], true});
  auto t = tok::Tokenizer::Create(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(StreamingDetokenizerTest, SplitCharactersAreHeldUntilComplete) {
  auto t = TinyByteVocab();
  tok::EncodeOptions eo;
  eo.add_special = false;
  const std::vector<int32_t> ids = t->Encode("a 🦙 我", eo);
  ASSERT_EQ(t->Decode(ids), "a 🦙 我");
  tok::StreamingDetokenizer d(*t);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(d.Push(id));
  pieces.push_back(d.Flush());
  std::string joined;
  for (const std::string& p : pieces) {
    EXPECT_TRUE(unicode::IsValidUtf8(p)) << EscapeForDisplay(p);
    joined += p;
  }
  EXPECT_EQ(joined, "a 🦙 我");
}

TEST(StreamingDetokenizerTest, InvalidBytesAreReleased) {
  auto t = TinyByteVocab();
  const int32_t kByte0 = 3;  // <0x00>
  // A lone continuation byte, then a truncated 3-byte sequence followed by 'a'.
  const std::vector<int32_t> ids = {kByte0 + 0x80, kByte0 + 0xE4, kByte0 + 0xB8, kByte0 + 'a'};
  tok::StreamingDetokenizer d(*t);
  EXPECT_EQ(d.Push(ids[0]), "\x80");  // can never become valid: released at once
  EXPECT_EQ(d.Push(ids[1]), "");      // may still complete
  EXPECT_EQ(d.Push(ids[2]), "");
  EXPECT_EQ(d.Push(ids[3]),
            "\xe4\xb8"
            "a");
  EXPECT_EQ(d.Flush(), "");
}

TEST(StreamingDetokenizerTest, RandomByteSequences) {
  auto t = TinyByteVocab();
  RandomStreams(*t, 99);
}

TEST(StreamingDetokenizerTest, LeadingSpaceRuleAcrossPushes) {
  auto t = TinyByteVocab();
  const std::vector<int32_t> ids = t->Encode("a a");  // <s> ▁a ▁a
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(t->Decode(ids), "<s>a a");
  tok::DecodeOptions cont;
  cont.strip_leading_space = false;
  EXPECT_EQ(t->Decode(ids, cont), "<s> a a");
  tok::StreamingDetokenizer d(*t, cont);
  std::string s;
  for (int32_t id : ids) s += d.Push(id);
  EXPECT_EQ(s + d.Flush(), "<s> a a");
}

TEST(StreamingDetokenizerTest, CleanUpSpacesAcrossPushes) {
  auto t = TinyByteVocab();
  tok::EncodeOptions eo;
  eo.add_special = false;
  const std::vector<int32_t> ids = t->Encode("a . a 's a n't a ' a", eo);
  tok::DecodeOptions opts;
  opts.clean_up_spaces = true;
  EXPECT_EQ(t->Decode(ids, opts), "a. a's an't a'a");
  CheckStream(*t, ids, opts);
}

}  // namespace
}  // namespace hearth
