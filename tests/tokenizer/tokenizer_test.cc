// Tokenizer models on small hand-made vocabularies, special-token handling and
// validation errors; plus special tokens on the real GGUF vocabularies.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "model/vocab_gguf.h"
#include "testing/test_paths.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth {
namespace {

using tok::TokenType;

// Byte-level BPE over the 256 GPT-2 byte tokens, merges "h e", "he l", "hel l",
// "hell o", "Ġ w", plus control tokens <|im_start|>, <|begin_of_text|>, <s> and
// a non-special added token <tool>.
tok::VocabData ByteLevelVocab() {
  tok::VocabData v;
  v.kind = tok::ModelKind::kBpe;
  v.byte_level = true;
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::AppendUtf8(&s, unicode::ByteToCodepoint(static_cast<uint8_t>(b)));
    v.tokens.push_back(s);
  }
  for (const char* s : {"he", "hel", "hell", "hello", "\xc4\xa0w"}) v.tokens.push_back(s);
  v.merges = {{"h", "e"}, {"he", "l"}, {"hel", "l"}, {"hell", "o"}, {"\xc4\xa0", "w"}};
  v.types.assign(v.tokens.size(), TokenType::kNormal);
  for (const char* s : {"<|im_start|>", "<|begin_of_text|>", "<s>"}) {
    v.added_tokens.push_back({static_cast<int32_t>(v.tokens.size()), s, true});
    v.tokens.push_back(s);
    v.types.push_back(TokenType::kControl);
  }
  v.added_tokens.push_back({static_cast<int32_t>(v.tokens.size()), "<tool>", false});
  v.tokens.push_back("<tool>");
  v.types.push_back(TokenType::kUserDefined);
  v.bos_id = static_cast<int32_t>(v.tokens.size()) - 3;  // <|begin_of_text|>
  return v;
}

std::unique_ptr<tok::Tokenizer> Make(tok::VocabData v) {
  auto t = tok::Tokenizer::Create(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

TEST(SpecialTokensTest, PlainTextByDefaultParsedOnRequest) {
  auto t = Make(ByteLevelVocab());
  ASSERT_NE(t, nullptr);
  const int32_t im_start = t->Find("<|im_start|>");
  const int32_t bot = t->Find("<|begin_of_text|>");
  const int32_t s = t->Find("<s>");
  const int32_t tool = t->Find("<tool>");
  for (const char* text : {"<|im_start|>user", "<|begin_of_text|>hi", "x<s>y"}) {
    const std::vector<int32_t> plain = t->Encode(text);
    for (int32_t id : {im_start, bot, s}) {
      EXPECT_EQ(std::count(plain.begin(), plain.end(), id), 0) << text;
    }
    EXPECT_EQ(t->Decode(plain), text);
  }
  tok::EncodeOptions parse;
  parse.parse_special = true;
  EXPECT_EQ(t->Encode("<|im_start|>hello", parse),
            (std::vector<int32_t>{im_start, t->Find("hello")}));
  EXPECT_EQ(t->Encode("<|begin_of_text|>", parse), std::vector<int32_t>{bot});
  EXPECT_EQ(t->Encode("x<s>", parse), (std::vector<int32_t>{t->Find("x"), s}));
  // Non-special added tokens are always split out.
  EXPECT_EQ(t->Encode("<tool>hello"), (std::vector<int32_t>{tool, t->Find("hello")}));
  // Decoding renders or drops control tokens.
  const std::vector<int32_t> ids = t->Encode("<|im_start|>hello<tool>", parse);
  EXPECT_EQ(t->Decode(ids), "<|im_start|>hello<tool>");
  tok::DecodeOptions skip;
  skip.skip_special = true;
  EXPECT_EQ(t->Decode(ids, skip), "hello<tool>");
  tok::DecodeOptions hide;
  hide.render_special = false;
  EXPECT_EQ(t->Decode(ids, hide), "hello<tool>");
}

TEST(SpecialTokensTest, BosAndEos) {
  tok::VocabData v = ByteLevelVocab();
  v.add_bos = true;
  v.add_eos = true;
  v.eos_id = v.bos_id;
  auto t = Make(std::move(v));
  ASSERT_NE(t, nullptr);
  const int32_t bos = t->vocab().bos_id;
  EXPECT_EQ(t->Encode("hello"), (std::vector<int32_t>{bos, t->Find("hello"), bos}));
  tok::EncodeOptions none;
  none.add_special = false;
  EXPECT_EQ(t->Encode("hello", none), std::vector<int32_t>{t->Find("hello")});
  EXPECT_EQ(t->Encode("", none), std::vector<int32_t>{});
  EXPECT_TRUE(t->IsEog(bos));
}

TEST(SpecialTokensTest, LeftmostLongestWithStrip) {
  tok::VocabData v = ByteLevelVocab();
  const int32_t a = static_cast<int32_t>(v.tokens.size());
  v.tokens.push_back("<a>");
  v.tokens.push_back("<a><b>");
  v.types.push_back(TokenType::kControl);
  v.types.push_back(TokenType::kControl);
  v.added_tokens.push_back({a, "<a>", true, /*lstrip=*/true, /*rstrip=*/true});
  v.added_tokens.push_back({a + 1, "<a><b>", true});
  auto t = Make(std::move(v));
  ASSERT_NE(t, nullptr);
  tok::EncodeOptions parse;
  parse.parse_special = true;
  parse.add_special = false;
  EXPECT_EQ(t->Encode("<a><b>", parse), std::vector<int32_t>{a + 1});
  const int32_t x = t->Find("x");
  EXPECT_EQ(t->Encode("x  <a>  x", parse), (std::vector<int32_t>{x, a, x}));
}

TEST(BpeTest, MergesAndByteLevelDecode) {
  auto t = Make(ByteLevelVocab());
  ASSERT_NE(t, nullptr);
  tok::EncodeOptions eo;
  eo.add_special = false;
  // GPT-2 split: "hello", " world" -> "Ġw" merges first, then bytes.
  const std::vector<int32_t> ids = t->Encode("hello world", eo);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], t->Find("hello"));
  EXPECT_EQ(ids[1], t->Find("\xc4\xa0w"));
  EXPECT_EQ(t->Decode(ids), "hello world");
  EXPECT_EQ(t->TokenToPiece(t->Find("\xc4\xa0w")), " w");
  // Invalid UTF-8 and NUL survive the round trip.
  const std::string odd("a\xff\x80\0b", 5);
  EXPECT_EQ(t->Decode(t->Encode(odd, eo)), odd);
}

TEST(ValidationTest, BadMergeIsNamed) {
  tok::VocabData v = ByteLevelVocab();
  v.merges.push_back({"zz", "q"});
  auto t = tok::Tokenizer::Create(std::move(v));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("'zz q'"), std::string::npos) << t.status().ToString();
}

TEST(ValidationTest, BadIds) {
  tok::VocabData v = ByteLevelVocab();
  v.eos_id = 100000;
  EXPECT_FALSE(tok::Tokenizer::Create(v).ok());
  v.eos_id = -1;
  v.types.pop_back();
  EXPECT_FALSE(tok::Tokenizer::Create(v).ok());
}

// SentencePiece with scores: the higher-scored merge wins.
TEST(SpmTest, ScoresDriveMerges) {
  tok::VocabData v;
  v.kind = tok::ModelKind::kSpm;
  v.add_space_prefix = true;
  v.tokens = {"<unk>",
              "<s>",
              "</s>",
              "\xe2\x96\x81",
              "a",
              "b",
              "c",
              "ab",
              "bc",
              "\xe2\x96\x81"
              "a"};
  v.scores = {0, 0, 0, -1, -1, -1, -1, -5, -2, -3};
  v.types.assign(v.tokens.size(), TokenType::kNormal);
  v.types[0] = TokenType::kUnknown;
  v.types[1] = v.types[2] = TokenType::kControl;
  v.unk_id = 0;
  auto t = Make(std::move(v));
  ASSERT_NE(t, nullptr);
  tok::EncodeOptions eo;
  eo.add_special = false;
  // "▁abc": bigrams ▁a (-3), ab (-5), bc (-2): bc first, then ▁a.
  EXPECT_EQ(t->Encode("abc", eo), (std::vector<int32_t>{9, 8}));
  // No byte tokens: an unknown character is one <unk>.
  EXPECT_EQ(t->Encode("a😀", eo), (std::vector<int32_t>{9, 0}));
  EXPECT_EQ(t->Decode(std::vector<int32_t>{9, 8}), "abc");
}

TEST(WpmTest, VocabTxtLayout) {
  tok::VocabData v;
  v.kind = tok::ModelKind::kWpm;
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "!", "hi", "我"};
  v.types.assign(v.tokens.size(), TokenType::kNormal);
  for (int i = 0; i < 4; ++i) v.types[i] = TokenType::kControl;
  v.unk_id = 1;
  v.cls_id = 2;
  v.sep_id = 3;
  v.add_bos = v.add_eos = true;
  v.lowercase = v.strip_accents = true;
  auto t = Make(std::move(v));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Encode("Unaffable! HÍ我x"), (std::vector<int32_t>{2, 4, 5, 6, 7, 8, 9, 1, 3}));
  tok::DecodeOptions skip;
  skip.skip_special = true;
  EXPECT_EQ(t->Decode(t->Encode("unaffable hi"), skip), "unaffable hi");
}

// VocabFromGguf on small written files: defaults, "none" ids and errors that
// name the key.
class VocabGgufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w_ = GgufWriter();
    w_.SetString("tokenizer.ggml.model", "llama");
    w_.SetStringArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>",
                                                "\xe2\x96\x81"
                                                "a"});
    const float scores[] = {0, 0, 0, -1};
    w_.SetFloat32Array("tokenizer.ggml.scores", scores);
    const int32_t types[] = {2, 3, 3, 1};
    w_.SetInt32Array("tokenizer.ggml.token_type", types);
  }
  Result<tok::VocabData> Read() {
    auto bytes = w_.WriteToString();
    if (!bytes.ok()) return bytes.status();
    bytes_ = std::move(bytes).value();
    auto f = GgufFile::Parse({reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()});
    if (!f.ok()) return f.status();
    file_ = std::move(f).value();
    return VocabFromGguf(file_);
  }
  GgufWriter w_;
  std::string bytes_;
  GgufFile file_;
};

TEST_F(VocabGgufTest, SpmDefaults) {
  w_.SetUint32("tokenizer.ggml.eos_token_id", 0xFFFFFFFFu);
  auto v = Read();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->kind, tok::ModelKind::kSpm);
  EXPECT_TRUE(v->add_bos);
  EXPECT_FALSE(v->add_eos);
  EXPECT_TRUE(v->add_space_prefix);
  EXPECT_EQ(v->bos_id, 1);
  EXPECT_EQ(v->eos_id, 2);  // "none" falls back to llama.cpp's SPM default
  EXPECT_EQ(v->added_tokens.size(), 3u);
  auto t = tok::Tokenizer::Create(*v);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->Encode("a"), (std::vector<int32_t>{1, 3}));
}

TEST_F(VocabGgufTest, ErrorsNameTheKey) {
  const float short_scores[] = {0, 0};
  w_.SetFloat32Array("tokenizer.ggml.scores", short_scores);
  auto v = Read();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tokenizer.ggml.scores"), std::string::npos);

  SetUp();
  w_.SetUint32("tokenizer.ggml.bos_token_id", 7);
  v = Read();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tokenizer.ggml.bos_token_id"), std::string::npos);

  SetUp();
  w_.SetString("tokenizer.ggml.model", "rwkv");
  v = Read();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tokenizer.ggml.model"), std::string::npos);

  SetUp();
  w_.SetString("tokenizer.ggml.model", "gpt2");
  v = Read();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tokenizer.ggml.merges"), std::string::npos);
}

TEST_F(VocabGgufTest, BpeAddsNoBosUnlessSet) {
  w_.SetString("tokenizer.ggml.model", "gpt2");
  w_.SetStringArray("tokenizer.ggml.merges", {});
  auto v = Read();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->add_bos);
  w_.SetBool("tokenizer.ggml.add_bos_token", true);
  v = Read();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->add_bos);
}

TEST(RealVocabSpecialTest, ControlTextStaysPlain) {
  HEARTH_REQUIRE_SHARED();
  struct Case {
    const char* family;
    const char* special;
  } cases[] = {{"llama-spm", "<s>"},
               {"phi-3", "<|user|>"},
               {"gpt-2", "<|endoftext|>"},
               {"starcoder", "<fim_prefix>"},
               {"bert-bge", "[CLS]"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.family);
    auto f =
        GgufFile::Open(testing::SharedDir() + "/testdata/vocab/ggml-vocab-" + c.family + ".gguf");
    ASSERT_TRUE(f.ok());
    auto t = LoadTokenizer(*f);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    const int32_t id = (*t)->Find(c.special);
    ASSERT_GE(id, 0);
    ASSERT_TRUE((*t)->IsControl(id));
    tok::EncodeOptions eo;
    eo.add_special = false;
    const std::string text = std::string("x ") + c.special + " y";
    std::vector<int32_t> plain = (*t)->Encode(text, eo);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), id), 0);
    eo.parse_special = true;
    std::vector<int32_t> parsed = (*t)->Encode(text, eo);
    EXPECT_EQ(std::count(parsed.begin(), parsed.end(), id), 1);
  }
}

TEST(RealVocabSpecialTest, EogSets) {
  HEARTH_REQUIRE_SHARED();
  auto f = GgufFile::Open(testing::SharedDir() + "/testdata/vocab/ggml-vocab-phi-3.gguf");
  ASSERT_TRUE(f.ok());
  auto v = VocabFromGguf(*f);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto t = tok::Tokenizer::Create(*v);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE((*t)->IsEog((*t)->Find("<|endoftext|>")));
  EXPECT_TRUE((*t)->IsEog((*t)->Find("<|end|>")));
  EXPECT_FALSE((*t)->IsEog((*t)->Find("<|user|>")));
  EXPECT_TRUE(v->add_bos);
  EXPECT_TRUE(v->add_space_prefix);
}

}  // namespace
}  // namespace hearth
