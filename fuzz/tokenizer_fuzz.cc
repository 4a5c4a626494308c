// libFuzzer target: tokenizers over arbitrary bytes (invalid UTF-8 included).
//
// The first input byte picks a tokenizer (SentencePiece, byte-level BPE,
// SentencePiece-style BPE with byte fallback, WordPiece: small vocabularies
// built here, so the target needs no data files) and the encode options; the
// rest is the text. Checks: every id is in range, decoding never crashes, the
// streaming detokenizer's chunks concatenate to exactly Decode(ids), and for
// the byte-level BPE (lossless) decode(encode(text)) == text.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode/unicode.h"

namespace {

using hearth::tok::ModelKind;
using hearth::tok::TokenType;
using hearth::tok::VocabData;

void AddSpecials(VocabData* v) {
  for (const char* s : {"<unk>", "<s>", "</s>", "<|im_start|>"}) {
    hearth::tok::AddedToken t;
    t.id = static_cast<int32_t>(v->tokens.size());
    t.content = s;
    t.special = true;
    v->tokens.push_back(s);
    v->types.push_back(t.id == 0 ? TokenType::kUnknown : TokenType::kControl);
    if (!v->scores.empty() || v->kind == ModelKind::kSpm) v->scores.push_back(0);
    v->added_tokens.push_back(t);
  }
  v->unk_id = 0;
  v->bos_id = 1;
  v->eos_id = 2;
  v->eog_ids = {2};
}

std::unique_ptr<hearth::tok::Tokenizer> Make(VocabData v) {
  auto t = hearth::tok::Tokenizer::Create(std::move(v));
  if (!t.ok()) {
    std::fprintf(stderr, "fuzz vocabulary rejected: %s\n", t.status().ToString().c_str());
    std::abort();
  }
  return std::move(t).value();
}

std::unique_ptr<hearth::tok::Tokenizer> MakeSpm() {
  VocabData v;
  v.kind = ModelKind::kSpm;
  v.add_space_prefix = true;
  v.byte_fallback = true;
  AddSpecials(&v);
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(hearth::StrFormat("<0x%02X>", b));
    v.types.push_back(TokenType::kByte);
    v.scores.push_back(0);
  }
  const char* pieces[] = {
      "\xE2\x96\x81",    "a",  "b",   "c",           "e", "h", "t", "\xE2\x96\x81t", "he",
      "\xE2\x96\x81the", "ab", "abc", "\xE4\xB8\xAD"};
  float score = -1;
  for (const char* p : pieces) {
    v.tokens.push_back(p);
    v.types.push_back(TokenType::kNormal);
    v.scores.push_back(score--);
  }
  return Make(std::move(v));
}

std::unique_ptr<hearth::tok::Tokenizer> MakeByteLevelBpe() {
  VocabData v;
  v.kind = ModelKind::kBpe;
  v.byte_level = true;
  v.pre = "gpt-2";
  AddSpecials(&v);
  for (int b = 0; b < 256; ++b) {
    std::string s;
    hearth::unicode::AppendUtf8(&s, hearth::unicode::ByteToCodepoint(static_cast<uint8_t>(b)));
    v.tokens.push_back(s);
    v.types.push_back(TokenType::kNormal);
  }
  const std::pair<const char*, const char*> merges[] = {
      {"\xC4\xA0", "t"}, {"h", "e"}, {"\xC4\xA0t", "he"}, {"a", "b"}, {"ab", "c"}};
  for (const auto& [a, b] : merges) {
    v.merges.emplace_back(a, b);
    v.tokens.push_back(std::string(a) + b);
    v.types.push_back(TokenType::kNormal);
  }
  return Make(std::move(v));
}

std::unique_ptr<hearth::tok::Tokenizer> MakeSpmStyleBpe() {
  VocabData v;
  v.kind = ModelKind::kBpe;
  v.byte_level = false;
  v.byte_fallback = true;
  v.escape_spaces = true;
  v.add_space_prefix = true;
  v.pre = "none";
  AddSpecials(&v);
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(hearth::StrFormat("<0x%02X>", b));
    v.types.push_back(TokenType::kByte);
  }
  for (const char* p : {"\xE2\x96\x81", "a", "b", "t", "h", "e"}) {
    v.tokens.push_back(p);
    v.types.push_back(TokenType::kNormal);
  }
  const std::pair<const char*, const char*> merges[] = {
      {"\xE2\x96\x81", "t"}, {"h", "e"}, {"a", "b"}};
  for (const auto& [a, b] : merges) {
    v.merges.emplace_back(a, b);
    v.tokens.push_back(std::string(a) + b);
    v.types.push_back(TokenType::kNormal);
  }
  return Make(std::move(v));
}

std::unique_ptr<hearth::tok::Tokenizer> MakeWordPiece() {
  VocabData v;
  v.kind = ModelKind::kWpm;
  v.lowercase = true;
  v.strip_accents = true;
  for (const char* s : {"[UNK]", "[CLS]", "[SEP]", "the", "a", "##b", "##s", "hello", "##llo", "he",
                        ",", ".", "!", "\xE4\xB8\xAD"}) {
    v.tokens.push_back(s);
    v.types.push_back(s[0] == '[' ? TokenType::kControl : TokenType::kNormal);
  }
  v.unk_id = 0;
  v.cls_id = 1;
  v.sep_id = 2;
  return Make(std::move(v));
}

const std::vector<std::unique_ptr<hearth::tok::Tokenizer>>& Tokenizers() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<hearth::tok::Tokenizer>>();
    v->push_back(MakeSpm());
    v->push_back(MakeByteLevelBpe());
    v->push_back(MakeSpmStyleBpe());
    v->push_back(MakeWordPiece());
    return v;
  }();
  return *all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const auto& all = Tokenizers();
  const size_t which = selector % all.size();
  const hearth::tok::Tokenizer& t = *all[which];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  hearth::tok::EncodeOptions eo;
  eo.add_special = (selector & 0x10) != 0;
  eo.parse_special = (selector & 0x20) != 0;
  const std::vector<int32_t> ids = t.Encode(text, eo);
  for (int32_t id : ids) {
    if (id < 0 || id >= t.n_vocab()) std::abort();
  }
  hearth::tok::DecodeOptions d;
  d.skip_special = (selector & 0x40) != 0;
  const std::string full = t.Decode(ids, d);
  hearth::tok::StreamingDetokenizer stream(t, d);
  std::string joined;
  for (int32_t id : ids) joined += stream.Push(id);
  joined += stream.Flush();
  if (joined != full) std::abort();
  // Byte-level BPE is lossless on any bytes when specials are neither added nor parsed.
  if (which == 1 && !eo.add_special && !eo.parse_special && full != text) std::abort();
  return 0;
}
