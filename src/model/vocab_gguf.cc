#include "model/vocab_gguf.h"

#include <algorithm>
#include <string>

#include "base/strings.h"

namespace hearth {
namespace {

using tok::ModelKind;
using tok::TokenType;
using tok::VocabData;

Status KeyError(std::string_view key, std::string_view what) {
  return DataLossError(std::string(key) + ": " + std::string(what), "gguf.bad_tokenizer");
}

// An optional array of `n` elements; nullptr when absent.
Result<const GgufValue*> OptionalArray(const GgufFile& f, std::string_view key, size_t n) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return static_cast<const GgufValue*>(nullptr);
  if (!v->is_array()) return KeyError(key, "is not an array");
  if (v->size() != n) {
    return KeyError(key, StrFormat("%llu values for %zu tokens",
                                   static_cast<unsigned long long>(v->size()), n));
  }
  return v;
}

// A token id key: -1 when absent or 0xFFFFFFFF (llama.cpp's "none").
Result<int32_t> OptionalId(const GgufFile& f, std::string_view key, size_t n_tokens) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return -1;
  Result<int64_t> id = v->ToInt();
  if (!id.ok()) return KeyError(key, id.status().message());
  if (*id == -1 || *id == 0xFFFFFFFFll) return -1;
  if (*id < 0 || *id >= static_cast<int64_t>(n_tokens)) {
    return KeyError(key, StrFormat("id %lld is outside the vocabulary (%zu tokens)",
                                   static_cast<long long>(*id), n_tokens));
  }
  return static_cast<int32_t>(*id);
}

Result<bool> OptionalBool(const GgufFile& f, std::string_view key, bool fallback) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return fallback;
  Result<bool> b = v->ToBool();
  if (!b.ok()) return KeyError(key, b.status().message());
  return *b;
}

// End-of-turn markers llama.cpp recognises by text.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",        "<|im_end|>", "<|end|>", "<end_of_turn>",
    "<|endoftext|>",     "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>",
    "<end_of_utterance>"};
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<｜end▁of▁sentence｜>"};

int32_t FindControl(const VocabData& v, std::string_view text) {
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] == TokenType::kControl && v.tokens[i] == text) return static_cast<int32_t>(i);
  }
  return -1;
}

Status ReadIds(const GgufFile& f, VocabData* v) {
  const size_t n = v->tokens.size();
  struct {
    const char* key;
    int32_t* id;
  } ids[] = {
      {"tokenizer.ggml.bos_token_id", &v->bos_id},
      {"tokenizer.ggml.eos_token_id", &v->eos_id},
      {"tokenizer.ggml.eot_token_id", &v->eot_id},
      {"tokenizer.ggml.eom_token_id", &v->eom_id},
      {"tokenizer.ggml.unknown_token_id", &v->unk_id},
      {"tokenizer.ggml.padding_token_id", &v->pad_id},
      {"tokenizer.ggml.seperator_token_id", &v->sep_id},  // sic, llama.cpp's spelling
      {"tokenizer.ggml.cls_token_id", &v->cls_id},
      {"tokenizer.ggml.mask_token_id", &v->mask_id},
  };
  for (auto& [key, id] : ids) {
    HEARTH_ASSIGN_OR_RETURN(*id, OptionalId(f, key, n));
  }
  if (v->sep_id < 0) {
    HEARTH_ASSIGN_OR_RETURN(v->sep_id, OptionalId(f, "tokenizer.ggml.separator_token_id", n));
  }
  return Status::Ok();
}

}  // namespace

Result<tok::VocabData> VocabFromGguf(const GgufFile& f) {
  VocabData v;
  const GgufValue* model_v = f.Find("tokenizer.ggml.model");
  if (model_v == nullptr) {
    return NotFoundError("tokenizer.ggml.model: missing (the file has no tokenizer)",
                         "gguf.no_tokenizer");
  }
  if (!model_v->is_string()) return KeyError("tokenizer.ggml.model", "is not a string");
  const std::string model(model_v->string());
  if (model == "llama") {
    v.kind = ModelKind::kSpm;
  } else if (model == "gpt2") {
    v.kind = ModelKind::kBpe;
  } else if (model == "bert") {
    v.kind = ModelKind::kWpm;
  } else if (model == "t5") {
    v.kind = ModelKind::kUgm;
  } else {
    return UnimplementedError("tokenizer.ggml.model: '" + EscapeForDisplay(model, 40) +
                                  "' is not supported (llama, gpt2, bert)",
                              "gguf.unsupported_tokenizer");
  }
  if (const GgufValue* pre = f.Find("tokenizer.ggml.pre")) {
    if (!pre->is_string()) return KeyError("tokenizer.ggml.pre", "is not a string");
    v.pre = std::string(pre->string());
  }

  const GgufValue* tokens = f.Find("tokenizer.ggml.tokens");
  if (tokens == nullptr)
    return NotFoundError("tokenizer.ggml.tokens: missing", "gguf.no_tokenizer");
  if (!tokens->is_array() || tokens->elem_type() != GgufValueType::kString) {
    return KeyError("tokenizer.ggml.tokens", "is not an array of strings");
  }
  if (tokens->size() == 0) return KeyError("tokenizer.ggml.tokens", "is empty");
  const size_t n = tokens->size();
  v.tokens.reserve(n);
  for (size_t i = 0; i < n; ++i) v.tokens.emplace_back(tokens->StringAt(i));

  HEARTH_ASSIGN_OR_RETURN(const GgufValue* scores, OptionalArray(f, "tokenizer.ggml.scores", n));
  if (scores != nullptr) {
    if (!scores->is_array() || (scores->elem_type() != GgufValueType::kFloat32 &&
                                scores->elem_type() != GgufValueType::kFloat64)) {
      return KeyError("tokenizer.ggml.scores", "is not an array of floats");
    }
    v.scores.resize(n);
    for (size_t i = 0; i < n; ++i) v.scores[i] = static_cast<float>(scores->DoubleAt(i));
  } else if (v.kind == ModelKind::kSpm || v.kind == ModelKind::kUgm) {
    return NotFoundError(
        "tokenizer.ggml.scores: missing (needed by tokenizer.ggml.model '" + model + "')",
        "gguf.bad_tokenizer");
  }
  HEARTH_ASSIGN_OR_RETURN(const GgufValue* types, OptionalArray(f, "tokenizer.ggml.token_type", n));
  v.types.assign(n, TokenType::kNormal);
  if (types != nullptr) {
    if (types->elem_type() == GgufValueType::kString ||
        types->elem_type() == GgufValueType::kArray ||
        types->elem_type() == GgufValueType::kFloat32 ||
        types->elem_type() == GgufValueType::kFloat64) {
      return KeyError("tokenizer.ggml.token_type", "is not an array of integers");
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = types->IntAt(i);
      if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
        return KeyError("tokenizer.ggml.token_type",
                        StrFormat("token %zu has unknown type %lld", i, static_cast<long long>(t)));
      }
      v.types[i] = static_cast<TokenType>(t);
    }
  }

  if (const GgufValue* merges = f.Find("tokenizer.ggml.merges")) {
    if (!merges->is_array() || merges->elem_type() != GgufValueType::kString) {
      return KeyError("tokenizer.ggml.merges", "is not an array of strings");
    }
    v.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const std::string_view m = merges->StringAt(i);
      const size_t sp = m.find(' ', 1);
      if (sp == std::string_view::npos) {
        return KeyError("tokenizer.ggml.merges", StrFormat("merge %zu '%s' is not \"a b\"", i,
                                                           EscapeForDisplay(m, 60).c_str()));
      }
      v.merges.emplace_back(std::string(m.substr(0, sp)), std::string(m.substr(sp + 1)));
    }
  } else if (v.kind == ModelKind::kBpe) {
    return NotFoundError("tokenizer.ggml.merges: missing (needed by tokenizer.ggml.model 'gpt2')",
                         "gguf.bad_tokenizer");
  }

  HEARTH_RETURN_IF_ERROR(ReadIds(f, &v));

  // Per-family defaults (llama.cpp's), then the explicit keys.
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  switch (v.kind) {
    case ModelKind::kSpm:
      add_bos = true;
      add_space_prefix = true;
      if (v.bos_id < 0 && n > 1) v.bos_id = 1;
      if (v.eos_id < 0 && n > 2) v.eos_id = 2;
      if (v.unk_id < 0) v.unk_id = 0;
      break;
    case ModelKind::kBpe:
      v.byte_level = true;
      if (v.pre == "llama3" || v.pre == "llama-v3" || v.pre == "llama-bpe" || v.pre == "falcon3" ||
          v.pre == "pixtral" || v.pre == "tekken") {
        v.ignore_merges = true;
        add_bos = true;
      }
      break;
    case ModelKind::kWpm:
      add_bos = true;  // [CLS] (cls_id when there is no bos)
      add_eos = true;  // [SEP]
      v.lowercase = true;
      v.strip_accents = true;
      v.wpm_phantom_space = true;
      v.pre = "bert";
      break;
    case ModelKind::kUgm:
      add_eos = true;
      add_space_prefix = true;
      break;
  }
  HEARTH_ASSIGN_OR_RETURN(v.add_bos, OptionalBool(f, "tokenizer.ggml.add_bos_token", add_bos));
  HEARTH_ASSIGN_OR_RETURN(v.add_eos, OptionalBool(f, "tokenizer.ggml.add_eos_token", add_eos));
  HEARTH_ASSIGN_OR_RETURN(v.add_space_prefix,
                          OptionalBool(f, "tokenizer.ggml.add_space_prefix", add_space_prefix));
  HEARTH_ASSIGN_OR_RETURN(v.remove_extra_whitespace,
                          OptionalBool(f, "tokenizer.ggml.remove_extra_whitespaces", false));
  v.escape_spaces = v.kind == ModelKind::kSpm || v.kind == ModelKind::kUgm;
  v.byte_fallback = v.kind == ModelKind::kSpm;

  // Added tokens: matched verbatim before the model runs.
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = v.types[i];
    if (t != TokenType::kControl && t != TokenType::kUserDefined && t != TokenType::kUnknown) {
      continue;
    }
    tok::AddedToken a;
    a.id = static_cast<int32_t>(i);
    a.content = v.tokens[i];
    a.special = t != TokenType::kUserDefined;
    v.added_tokens.push_back(std::move(a));
  }

  // End of generation: eos, eot, eom and the usual turn terminators.
  if (v.eot_id < 0) {
    for (std::string_view text : kEotTexts) {
      if ((v.eot_id = FindControl(v, text)) >= 0) break;
    }
  }
  if (v.eom_id < 0) v.eom_id = FindControl(v, "<|eom_id|>");
  auto add_eog = [&](int32_t id) {
    if (id >= 0 && std::find(v.eog_ids.begin(), v.eog_ids.end(), id) == v.eog_ids.end()) {
      v.eog_ids.push_back(id);
    }
  };
  add_eog(v.eos_id);
  add_eog(v.eot_id);
  add_eog(v.eom_id);
  for (std::string_view text : kEogTexts) add_eog(FindControl(v, text));
  return v;
}

Result<std::unique_ptr<tok::Tokenizer>> LoadTokenizer(const GgufFile& f) {
  HEARTH_ASSIGN_OR_RETURN(tok::VocabData v, VocabFromGguf(f));
  auto t = tok::Tokenizer::Create(std::move(v));
  if (!t.ok()) return t.status().WithContext("tokenizer.ggml.*");
  return t;
}

}  // namespace hearth
