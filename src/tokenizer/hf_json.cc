#include "tokenizer/hf_json.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"

namespace hearth::tok {
namespace {

constexpr std::string_view kSpmSpace = "\xe2\x96\x81";  // U+2581 "▁"

Status Unsupported(const std::string& what) {
  return UnimplementedError("tokenizer.json: unsupported " + what, "tokenizer.unsupported");
}

Status Bad(const std::string& what) {
  return InvalidArgumentError("tokenizer.json: " + what, "tokenizer.bad_json");
}

std::string TypeOf(const json::Value& v) {
  const json::Value* t = v.Find("type");
  return t != nullptr && t->is_string() ? t->as_string() : "";
}

// The literal string of a {"String": s} or {"Regex": r} pattern.
bool PatternString(const json::Value& v, std::string* s, bool* is_regex) {
  const json::Value* p = v.Find("pattern");
  if (p == nullptr) return false;
  if (const json::Value* str = p->Find("String"); str && str->is_string()) {
    *s = str->as_string();
    *is_regex = false;
    return true;
  }
  if (const json::Value* re = p->Find("Regex"); re && re->is_string()) {
    *s = re->as_string();
    *is_regex = true;
    return true;
  }
  return false;
}

Status ApplyNormalizer(const json::Value& n, VocabData* v) {
  if (n.is_null()) return Status::Ok();
  const std::string type = TypeOf(n);
  if (type == "Sequence") {
    const json::Value* list = n.Find("normalizers");
    if (list == nullptr || !list->is_array()) return Bad("normalizer Sequence without a list");
    for (const json::Value& item : list->as_array())
      HEARTH_RETURN_IF_ERROR(ApplyNormalizer(item, v));
    return Status::Ok();
  }
  if (type == "NFC")
    v->normalization = Normalization::kNfc;
  else if (type == "NFKC")
    v->normalization = Normalization::kNfkc;
  else if (type == "NFD")
    v->normalization = Normalization::kNfd;
  else if (type == "NFKD")
    v->normalization = Normalization::kNfkd;
  else if (type == "Lowercase")
    v->lowercase = true;
  else if (type == "StripAccents")
    v->strip_accents = true;
  else if (type == "BertNormalizer") {
    const json::Value* lc = n.Find("lowercase");
    v->lowercase = lc == nullptr || (lc->is_bool() && lc->as_bool());
    const json::Value* sa = n.Find("strip_accents");
    // null means "follow lowercase".
    v->strip_accents =
        sa == nullptr || sa->is_null() ? v->lowercase : sa->is_bool() && sa->as_bool();
  } else if (type == "Prepend") {
    const json::Value* p = n.Find("prepend");
    if (p == nullptr || !p->is_string() || p->as_string() != kSpmSpace) {
      return Unsupported("Prepend normalizer other than \"\xe2\x96\x81\"");
    }
    v->add_space_prefix = true;
  } else if (type == "Replace") {
    std::string from;
    bool is_regex = false;
    const json::Value* to = n.Find("content");
    if (!PatternString(n, &from, &is_regex) || is_regex || from != " " || to == nullptr ||
        !to->is_string() || to->as_string() != kSpmSpace) {
      return Unsupported("Replace normalizer other than \" \" -> \"\xe2\x96\x81\"");
    }
    v->escape_spaces = true;
  } else {
    return Unsupported("normalizer '" + type + "'");
  }
  return Status::Ok();
}

Status ApplyPreTokenizer(const json::Value& p, VocabData* v) {
  if (p.is_null()) return Status::Ok();
  const std::string type = TypeOf(p);
  if (type == "Sequence") {
    const json::Value* list = p.Find("pretokenizers");
    if (list == nullptr || !list->is_array()) return Bad("pre_tokenizer Sequence without a list");
    for (const json::Value& item : list->as_array())
      HEARTH_RETURN_IF_ERROR(ApplyPreTokenizer(item, v));
    return Status::Ok();
  }
  if (type == "Split") {
    std::string pattern;
    bool is_regex = false;
    if (!PatternString(p, &pattern, &is_regex)) return Bad("Split pre-tokenizer without a pattern");
    const json::Value* behavior = p.Find("behavior");
    const json::Value* invert = p.Find("invert");
    const std::string b = behavior && behavior->is_string() ? behavior->as_string() : "";
    if (invert != nullptr && invert->is_bool() && invert->as_bool()) {
      return Unsupported("inverted Split pre-tokenizer");
    }
    if (!is_regex && pattern == " " && v->escape_spaces) {
      return Status::Ok();  // spaces were already replaced by "▁": nothing left to split on
    }
    if (!is_regex || b != "Isolated") {
      return Unsupported("Split pre-tokenizer with behavior '" + b + "'");
    }
    v->pre_regexes.push_back(pattern);
    return Status::Ok();
  }
  if (type == "ByteLevel") {
    v->byte_level = true;
    const json::Value* use_regex = p.Find("use_regex");
    if (use_regex == nullptr || (use_regex->is_bool() && use_regex->as_bool())) v->pre = "gpt-2";
    const json::Value* aps = p.Find("add_prefix_space");
    if (aps != nullptr && aps->is_bool() && aps->as_bool()) {
      return Unsupported("ByteLevel pre-tokenizer with add_prefix_space");
    }
    return Status::Ok();
  }
  if (type == "Metaspace") {
    v->escape_spaces = true;
    const json::Value* scheme = p.Find("prepend_scheme");
    const json::Value* aps = p.Find("add_prefix_space");
    bool prepend = scheme ? (scheme->is_string() && scheme->as_string() != "never")
                          : (aps == nullptr || (aps->is_bool() && aps->as_bool()));
    v->add_space_prefix = v->add_space_prefix || prepend;
    return Status::Ok();
  }
  if (type == "BertPreTokenizer" || type == "Whitespace" || type == "WhitespaceSplit") {
    return Status::Ok();  // WordPiece's basic tokenization does this
  }
  return Unsupported("pre_tokenizer '" + type + "'");
}

// Sets clean-up and prefix-strip facts from the decoder chain.
Status ApplyDecoder(const json::Value& d, VocabData* v) {
  if (d.is_null()) return Status::Ok();
  const std::string type = TypeOf(d);
  if (type == "Sequence") {
    const json::Value* list = d.Find("decoders");
    if (list == nullptr || !list->is_array()) return Bad("decoder Sequence without a list");
    for (const json::Value& item : list->as_array()) HEARTH_RETURN_IF_ERROR(ApplyDecoder(item, v));
    return Status::Ok();
  }
  if (type == "ByteLevel" || type == "ByteFallback" || type == "Fuse" || type == "Replace" ||
      type == "Metaspace" || type == "WordPiece" || type == "Strip") {
    return Status::Ok();  // implied by the model kind, byte_level and add_space_prefix
  }
  return Unsupported("decoder '" + type + "'");
}

// A token name from tokenizer_config.json: "<s>" or {"content": "<s>", ...}.
std::string ConfigTokenText(const json::Value* v) {
  if (v == nullptr) return "";
  if (v->is_string()) return v->as_string();
  if (const json::Value* c = v->Find("content"); c && c->is_string()) return c->as_string();
  return "";
}

bool IsByteToken(const std::string& s) {
  return s.size() == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' &&
         std::isxdigit(static_cast<unsigned char>(s[3])) &&
         std::isxdigit(static_cast<unsigned char>(s[4]));
}

}  // namespace

Result<VocabData> VocabFromHfJson(std::string_view tokenizer_json, std::string_view config_json) {
  HEARTH_ASSIGN_OR_RETURN(json::Value doc, json::Parse(tokenizer_json));
  json::Value config;
  if (!config_json.empty()) {
    auto c = json::Parse(config_json);
    if (!c.ok()) return c.status().WithContext("tokenizer_config.json");
    config = std::move(c).value();
  }
  const json::Value* model = doc.Find("model");
  if (model == nullptr || !model->is_object()) return Bad("no \"model\" object");
  const std::string model_type = TypeOf(*model);

  VocabData v;
  v.byte_level = false;
  if (model_type == "BPE") {
    v.kind = ModelKind::kBpe;
  } else if (model_type == "WordPiece") {
    v.kind = ModelKind::kWpm;
  } else {
    return Unsupported("model type '" + model_type + "'");
  }

  // Vocabulary: model.vocab plus added tokens, dense by id.
  const json::Value* vocab = model->Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) return Bad("model.vocab is not an object");
  std::vector<std::pair<int64_t, const std::string*>> entries;
  entries.reserve(vocab->as_object().size());
  int64_t max_id = -1;
  for (const auto& [piece, id] : vocab->as_object()) {
    if (!id.is_integer() || id.as_int() < 0 || id.as_int() > (int64_t{1} << 24)) {
      return Bad("vocab entry '" + EscapeForDisplay(piece) + "' has an invalid id");
    }
    entries.emplace_back(id.as_int(), &piece);
    max_id = std::max(max_id, id.as_int());
  }
  const json::Value* added = doc.Find("added_tokens");
  if (added != nullptr && added->is_array()) {
    for (const json::Value& a : added->as_array()) {
      const json::Value* id = a.Find("id");
      const json::Value* content = a.Find("content");
      if (id == nullptr || !id->is_integer() || id->as_int() < 0 ||
          id->as_int() > (int64_t{1} << 24) || content == nullptr || !content->is_string()) {
        return Bad("added token without a valid id and content");
      }
      max_id = std::max(max_id, id->as_int());
      AddedToken t;
      t.id = static_cast<int32_t>(id->as_int());
      t.content = content->as_string();
      const json::Value* special = a.Find("special");
      t.special = special != nullptr && special->is_bool() && special->as_bool();
      const json::Value* l = a.Find("lstrip");
      const json::Value* r = a.Find("rstrip");
      t.lstrip = l != nullptr && l->is_bool() && l->as_bool();
      t.rstrip = r != nullptr && r->is_bool() && r->as_bool();
      v.added_tokens.push_back(std::move(t));
    }
  }
  const size_t n = static_cast<size_t>(max_id + 1);
  v.tokens.assign(n, "");
  v.types.assign(n, TokenType::kUnused);
  std::vector<bool> filled(n, false);
  for (const auto& [id, piece] : entries) {
    v.tokens[id] = *piece;
    v.types[id] = TokenType::kNormal;
    filled[id] = true;
  }
  for (const AddedToken& t : v.added_tokens) {
    v.tokens[t.id] = t.content;
    v.types[t.id] = t.special ? TokenType::kControl : TokenType::kUserDefined;
    filled[t.id] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!filled[i]) v.tokens[i] = StrFormat("<hearth_gap_%zu>", i);  // never produced by encoding
  }

  if (v.kind == ModelKind::kBpe) {
    const json::Value* merges = model->Find("merges");
    if (merges == nullptr || !merges->is_array()) return Bad("model.merges is not an array");
    v.merges.reserve(merges->as_array().size());
    for (const json::Value& m : merges->as_array()) {
      if (m.is_string()) {
        const std::string& s = m.as_string();
        size_t sp = s.find(' ', 1);
        if (sp == std::string::npos) return Bad("merge '" + EscapeForDisplay(s) + "' has no space");
        v.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.as_array().size() == 2 && m.as_array()[0].is_string() &&
                 m.as_array()[1].is_string()) {
        v.merges.emplace_back(m.as_array()[0].as_string(), m.as_array()[1].as_string());
      } else {
        return Bad("a merge is neither \"a b\" nor [\"a\", \"b\"]");
      }
    }
    const json::Value* bf = model->Find("byte_fallback");
    v.byte_fallback = bf != nullptr && bf->is_bool() && bf->as_bool();
    const json::Value* im = model->Find("ignore_merges");
    v.ignore_merges = im != nullptr && im->is_bool() && im->as_bool();
    if (v.byte_fallback) {
      for (size_t i = 0; i < n; ++i) {
        if (v.types[i] == TokenType::kNormal && IsByteToken(v.tokens[i]))
          v.types[i] = TokenType::kByte;
      }
    }
  } else {
    v.pre = "bert";
  }
  if (const json::Value* unk = model->Find("unk_token"); unk && unk->is_string()) {
    for (size_t i = 0; i < n; ++i) {
      if (v.tokens[i] == unk->as_string()) {
        v.unk_id = static_cast<int32_t>(i);
        v.types[i] = TokenType::kUnknown;
        break;
      }
    }
  }

  if (const json::Value* norm = doc.Find("normalizer")) {
    HEARTH_RETURN_IF_ERROR(ApplyNormalizer(*norm, &v));
  }
  if (const json::Value* pre = doc.Find("pre_tokenizer")) {
    HEARTH_RETURN_IF_ERROR(ApplyPreTokenizer(*pre, &v));
  }
  if (const json::Value* dec = doc.Find("decoder")) {
    HEARTH_RETURN_IF_ERROR(ApplyDecoder(*dec, &v));
  }
  if (v.kind == ModelKind::kBpe && !v.byte_level && v.pre_regexes.empty()) v.pre = "none";

  // Special ids and BOS/EOS policy from tokenizer_config.json.
  auto find_id = [&](const std::string& text) -> int32_t {
    if (text.empty()) return -1;
    for (const AddedToken& t : v.added_tokens) {
      if (t.content == text) return t.id;
    }
    for (const auto& [id, piece] : entries) {
      if (*piece == text) return static_cast<int32_t>(id);
    }
    return -1;
  };
  v.bos_id = find_id(ConfigTokenText(config.Find("bos_token")));
  v.eos_id = find_id(ConfigTokenText(config.Find("eos_token")));
  v.pad_id = find_id(ConfigTokenText(config.Find("pad_token")));
  if (v.unk_id < 0) v.unk_id = find_id(ConfigTokenText(config.Find("unk_token")));
  if (v.kind == ModelKind::kWpm) {
    v.cls_id = find_id(ConfigTokenText(config.Find("cls_token")));
    v.sep_id = find_id(ConfigTokenText(config.Find("sep_token")));
    v.mask_id = find_id(ConfigTokenText(config.Find("mask_token")));
  }
  const json::Value* add_bos = config.Find("add_bos_token");
  v.add_bos = add_bos != nullptr && add_bos->is_bool() ? add_bos->as_bool() : false;
  if (add_bos == nullptr) {
    // No explicit setting: a TemplateProcessing post-processor that starts with BOS adds it.
    const json::Value* post = doc.Find("post_processor");
    if (post != nullptr && TypeOf(*post) == "TemplateProcessing") {
      const json::Value* single = post->Find("single");
      if (single != nullptr && single->is_array() && !single->as_array().empty()) {
        const json::Value* first = single->as_array()[0].Find("SpecialToken");
        v.add_bos = first != nullptr && v.bos_id >= 0;
      }
    }
  }
  const json::Value* add_eos = config.Find("add_eos_token");
  v.add_eos = add_eos != nullptr && add_eos->is_bool() && add_eos->as_bool();
  const json::Value* cleanup = config.Find("clean_up_tokenization_spaces");
  v.clean_up_spaces = cleanup != nullptr && cleanup->is_bool() && cleanup->as_bool();

  // End of generation: eos plus the usual end-of-turn markers that exist here.
  if (v.eos_id >= 0) v.eog_ids.push_back(v.eos_id);
  for (const char* marker : {"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>",
                             "<|end_of_text|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"}) {
    int32_t id = find_id(marker);
    if (id >= 0 && std::find(v.eog_ids.begin(), v.eog_ids.end(), id) == v.eog_ids.end()) {
      v.eog_ids.push_back(id);
    }
  }
  v.eot_id = find_id("<|eot_id|>");
  if (v.eot_id < 0) v.eot_id = find_id("<|im_end|>");
  if (v.eot_id < 0) v.eot_id = find_id("<end_of_turn>");
  v.eom_id = find_id("<|eom_id|>");
  return v;
}

Result<VocabData> VocabFromHfFile(const std::string& path) {
  HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::string config;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto c = ReadFileToString(dir + "/tokenizer_config.json");
  if (c.ok()) config = std::move(c).value();
  auto v = VocabFromHfJson(text, config);
  if (!v.ok()) return v.status().WithContext("'" + path + "'");
  return v;
}

}  // namespace hearth::tok
