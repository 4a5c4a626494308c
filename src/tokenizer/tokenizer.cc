#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "base/strings.h"
#include "tokenizer/tokenizer_base.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth::tok {

Result<std::unique_ptr<Tokenizer>> Tokenizer::Create(VocabData data) {
  switch (data.kind) {
    case ModelKind::kSpm:
      return internal::CreateSpm(std::move(data));
    case ModelKind::kBpe:
      return internal::CreateBpe(std::move(data));
    case ModelKind::kWpm:
      return internal::CreateWpm(std::move(data));
    case ModelKind::kUgm:
      return UnimplementedError("SentencePiece unigram (UGM) tokenizers are not supported",
                                "tokenizer.unsupported_model");
  }
  return InvalidArgumentError("unknown tokenizer model kind");
}

TokenType Tokenizer::Type(int32_t id) const {
  const VocabData& v = vocab();
  if (id < 0 || static_cast<size_t>(id) >= v.tokens.size()) return TokenType::kUndefined;
  if (v.types.empty()) return TokenType::kNormal;
  return v.types[id];
}

bool Tokenizer::IsControl(int32_t id) const {
  return Type(id) == TokenType::kControl;
}

bool Tokenizer::IsEog(int32_t id) const {
  const VocabData& v = vocab();
  if (id < 0) return false;
  if (id == v.eos_id || id == v.eot_id || id == v.eom_id) return true;
  return std::find(v.eog_ids.begin(), v.eog_ids.end(), id) != v.eog_ids.end();
}

bool Tokenizer::StripsLeadingSpace() const {
  return vocab().kind == ModelKind::kWpm || vocab().add_space_prefix;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, const DecodeOptions& opts) const {
  std::string raw;
  bool strip = opts.strip_leading_space && StripsLeadingSpace();
  for (int32_t id : ids) internal::AppendDecodedPiece(*this, id, opts, &strip, &raw);
  if (!opts.clean_up_spaces) return raw;
  std::string out;
  out.reserve(raw.size());
  internal::CleanUpSpaces(raw, /*final=*/true, &out);
  return out;
}

namespace internal {

int ParseByteToken(std::string_view p) {
  if (p.size() != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(p[3]), lo = hex(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

Status TokenizerBase::InitBase() {
  const VocabData& v = data_;
  const size_t n = v.tokens.size();
  if (n == 0) return InvalidArgumentError("the vocabulary has no tokens", "tokenizer.empty");
  if (n > (size_t{1} << 31) - 1) return InvalidArgumentError("too many tokens");
  if (!v.types.empty() && v.types.size() != n) {
    return InvalidArgumentError(StrFormat("%zu token types for %zu tokens", v.types.size(), n),
                                "tokenizer.bad_types");
  }
  if (!v.scores.empty() && v.scores.size() != n) {
    return InvalidArgumentError(StrFormat("%zu scores for %zu tokens", v.scores.size(), n),
                                "tokenizer.bad_scores");
  }
  auto check_id = [&](int32_t id, const char* what) -> Status {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      return InvalidArgumentError(
          StrFormat("%s id %d is outside the vocabulary (%zu tokens)", what, id, n),
          "tokenizer.bad_id");
    }
    return Status::Ok();
  };
  HEARTH_RETURN_IF_ERROR(check_id(v.bos_id, "bos"));
  HEARTH_RETURN_IF_ERROR(check_id(v.eos_id, "eos"));
  HEARTH_RETURN_IF_ERROR(check_id(v.eot_id, "eot"));
  HEARTH_RETURN_IF_ERROR(check_id(v.eom_id, "eom"));
  HEARTH_RETURN_IF_ERROR(check_id(v.unk_id, "unk"));
  HEARTH_RETURN_IF_ERROR(check_id(v.pad_id, "pad"));
  HEARTH_RETURN_IF_ERROR(check_id(v.sep_id, "sep"));
  HEARTH_RETURN_IF_ERROR(check_id(v.cls_id, "cls"));
  HEARTH_RETURN_IF_ERROR(check_id(v.mask_id, "mask"));
  for (int32_t id : v.eog_ids) HEARTH_RETURN_IF_ERROR(check_id(id, "end-of-generation"));
  for (const AddedToken& t : v.added_tokens) {
    if (t.id < 0 || static_cast<size_t>(t.id) >= n) {
      return InvalidArgumentError(StrFormat("added token '%s' has id %d outside the vocabulary",
                                            EscapeForDisplay(t.content, 60).c_str(), t.id),
                                  "tokenizer.bad_id");
    }
  }

  piece_to_id_.reserve(n);
  // Later duplicates win, as in llama.cpp's token_to_id map.
  for (size_t i = 0; i < n; ++i) piece_to_id_[v.tokens[i]] = static_cast<int32_t>(i);
  std::fill(std::begin(byte_tokens_), std::end(byte_tokens_), -1);
  byte_values_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (Type(static_cast<int32_t>(i)) != TokenType::kByte) continue;
    const int b = ParseByteToken(v.tokens[i]);
    if (b < 0) {
      return InvalidArgumentError(StrFormat("byte token %zu '%s' is not of the form <0xNN>", i,
                                            EscapeForDisplay(v.tokens[i], 60).c_str()),
                                  "tokenizer.bad_byte_token");
    }
    byte_values_[i] = static_cast<uint8_t>(b);
    if (byte_tokens_[b] < 0) byte_tokens_[b] = static_cast<int32_t>(i);
  }
  // Vocabularies without typed byte tokens (e.g. hand-made data) may still
  // carry <0xNN> pieces.
  for (int b = 0; b < 256; ++b) {
    if (byte_tokens_[b] >= 0) continue;
    auto it = piece_to_id_.find(StrFormat("<0x%02X>", b));
    if (it != piece_to_id_.end()) byte_tokens_[b] = it->second;
  }
  matcher_.Build(v.added_tokens);
  return Status::Ok();
}

int32_t TokenizerBase::Find(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  return it == piece_to_id_.end() ? -1 : it->second;
}

void TokenizerBase::AppendBytes(std::string_view bytes, std::vector<int32_t>* out) const {
  const size_t start = out->size();
  for (char c : bytes) {
    int32_t id = byte_tokens_[static_cast<uint8_t>(c)];
    if (id < 0) id = Find(std::string_view(&c, 1));
    if (id < 0) {
      // No byte token: the whole piece is one unknown (SentencePiece without
      // byte fallback), or nothing when there is no unk either.
      out->resize(start);
      if (data_.unk_id >= 0) out->push_back(data_.unk_id);
      return;
    }
    out->push_back(id);
  }
}

std::string_view TokenizerBase::Normalized(std::string_view text, std::string* storage) const {
  if (data_.normalization == Normalization::kNone && !data_.lowercase) return text;
  unicode::Form form = unicode::Form::kNfc;
  switch (data_.normalization) {
    case Normalization::kNone:
    case Normalization::kNfc:
      form = unicode::Form::kNfc;
      break;
    case Normalization::kNfkc:
      form = unicode::Form::kNfkc;
      break;
    case Normalization::kNfd:
      form = unicode::Form::kNfd;
      break;
    case Normalization::kNfkd:
      form = unicode::Form::kNfkd;
      break;
  }
  *storage = data_.normalization == Normalization::kNone ? std::string(text)
                                                         : unicode::Normalize(text, form);
  if (data_.lowercase) *storage = unicode::ToLowerUtf8(*storage);
  return *storage;
}

std::vector<int32_t> TokenizerBase::Encode(std::string_view text, const EncodeOptions& opts) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  const bool wpm = data_.kind == ModelKind::kWpm;
  const int32_t bos = data_.bos_id >= 0 || !wpm ? data_.bos_id : data_.cls_id;
  const int32_t eos = data_.eos_id >= 0 || !wpm ? data_.eos_id : data_.sep_id;
  if (opts.add_special && data_.add_bos && bos >= 0) out.push_back(bos);
  if (matcher_.empty()) {
    if (!text.empty()) EncodeFragment(text, /*after_special=*/true, &out);
  } else {
    std::vector<Fragment> fragments;
    matcher_.Split(text, opts.parse_special, &fragments);
    bool after_special = true;
    for (const Fragment& f : fragments) {
      if (f.id >= 0) {
        out.push_back(f.id);
        after_special = true;
      } else {
        EncodeFragment(f.text, after_special, &out);
        after_special = false;
      }
    }
  }
  if (opts.add_special && data_.add_eos && eos >= 0) out.push_back(eos);
  return out;
}

std::string TokenizerBase::TokenToPiece(int32_t id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= data_.tokens.size()) return "";
  switch (Type(id)) {
    case TokenType::kControl:
      return render_special ? data_.tokens[id] : std::string();
    case TokenType::kUnknown:
      return data_.tokens[id];
    case TokenType::kUserDefined:
      return user_defined_as_normal_ ? RenderNormal(id) : data_.tokens[id];
    case TokenType::kByte:
      return std::string(1, static_cast<char>(byte_values_[id]));
    case TokenType::kNormal:
    case TokenType::kUndefined:
      return RenderNormal(id);
    case TokenType::kUnused:
      return "";
  }
  return "";
}

}  // namespace internal
}  // namespace hearth::tok
