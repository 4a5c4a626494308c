// GGUF parsing: every read goes through Cursor, which checks bounds first.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "base/strings.h"
#include "format/gguf.h"

namespace hearth {
namespace {

constexpr int kMaxArrayNesting = 8;
// The smallest encodings, used to reject counts that cannot fit in the file.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim
// Vectors sized by a count from the file grow as entries are parsed beyond this
// many: a count that passes the size check can still claim far more entries than
// the file holds, and each parsed entry takes several times its encoded size.
constexpr uint64_t kMaxReserve = 4096;

Status Malformed(const char* reason, std::string message) {
  return DataLossError("invalid GGUF: " + message, std::string("gguf.") + reason);
}

bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

class GgufParser {
 public:
  explicit GgufParser(std::span<const uint8_t> bytes) : p_(bytes.data()), size_(bytes.size()) {}

  Status Run(GgufFile* f);

 private:
  uint64_t remaining() const { return size_ - pos_; }

  // `what` describes the item being read, for the error message.
  Status Need(uint64_t n, const std::string& what) const {
    if (n <= remaining()) return Status::Ok();
    return Malformed(
        "truncated",
        StrFormat("file ends while reading %s: needs %llu bytes at byte offset %llu, "
                  "but the file has %llu bytes",
                  what.c_str(), static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(pos_), static_cast<unsigned long long>(size_)));
  }
  template <typename T>
  Result<T> Read(const std::string& what) {
    HEARTH_RETURN_IF_ERROR(Need(sizeof(T), what));
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Result<std::string_view> ReadString(const std::string& what);
  Status ReadValue(GgufValueType type, const std::string& key, int depth, GgufValue* out);
  Status ReadArray(const std::string& key, int depth, GgufValue* out);
  Status ReadTensorInfo(size_t index, GgufTensorInfo* t);
  Status CheckTensorLayout(GgufFile* f);

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

Result<std::string_view> GgufParser::ReadString(const std::string& what) {
  uint64_t at = pos_;
  HEARTH_ASSIGN_OR_RETURN(uint64_t len, Read<uint64_t>("length of " + what));
  if (len > remaining()) {
    return Malformed("string_past_eof",
                     StrFormat("%s at byte offset %llu has length %llu, past the end of the file "
                               "(%llu bytes remain)",
                               what.c_str(), static_cast<unsigned long long>(at),
                               static_cast<unsigned long long>(len),
                               static_cast<unsigned long long>(remaining())));
  }
  std::string_view s(reinterpret_cast<const char*>(p_ + pos_), len);
  pos_ += len;
  return s;
}

Status GgufParser::ReadValue(GgufValueType type, const std::string& key, int depth,
                             GgufValue* out) {
  out->type_ = type;
  const std::string what = "value of key '" + key + "'";
  switch (type) {
    case GgufValueType::kString: {
      HEARTH_ASSIGN_OR_RETURN(out->str_, ReadString(what));
      return Status::Ok();
    }
    case GgufValueType::kArray:
      return ReadArray(key, depth, out);
    default: {
      size_t n = GgufScalarSize(type);
      HEARTH_RETURN_IF_ERROR(Need(n, what));
      out->bits_ = 0;
      std::memcpy(&out->bits_, p_ + pos_, n);
      pos_ += n;
      return Status::Ok();
    }
  }
}

Status GgufParser::ReadArray(const std::string& key, int depth, GgufValue* out) {
  if (depth >= kMaxArrayNesting) {
    return Malformed(
        "nesting_too_deep",
        StrFormat("key '%s': arrays nested deeper than %d at byte offset %llu", key.c_str(),
                  kMaxArrayNesting, static_cast<unsigned long long>(pos_)));
  }
  uint64_t at = pos_;
  HEARTH_ASSIGN_OR_RETURN(uint32_t et, Read<uint32_t>("array element type of key '" + key + "'"));
  if (et >= kGgufValueTypeCount) {
    return Malformed("bad_value_type",
                     StrFormat("key '%s': unknown array element type %u at byte offset %llu",
                               key.c_str(), et, static_cast<unsigned long long>(at)));
  }
  HEARTH_ASSIGN_OR_RETURN(uint64_t count, Read<uint64_t>("array length of key '" + key + "'"));
  auto elem = static_cast<GgufValueType>(et);
  out->elem_type_ = elem;
  out->count_ = count;
  uint64_t min_elem = elem == GgufValueType::kString  ? 8
                      : elem == GgufValueType::kArray ? 12
                                                      : GgufScalarSize(elem);
  uint64_t need = 0;
  if (MulOverflows(count, min_elem, &need) || need > remaining()) {
    return Malformed(
        "count_too_large",
        StrFormat("key '%s': array of %llu %s elements at byte offset %llu cannot fit "
                  "in the %llu bytes that remain",
                  key.c_str(), static_cast<unsigned long long>(count),
                  std::string(GgufValueTypeName(elem)).c_str(), static_cast<unsigned long long>(at),
                  static_cast<unsigned long long>(remaining())));
  }
  if (elem == GgufValueType::kString) {
    out->strings_.reserve(std::min(count, kMaxReserve));
    for (uint64_t i = 0; i < count; ++i) {
      HEARTH_ASSIGN_OR_RETURN(
          std::string_view s,
          ReadString(StrFormat("element %llu of key '%s'", static_cast<unsigned long long>(i),
                               key.c_str())));
      out->strings_.push_back(s);
    }
  } else if (elem == GgufValueType::kArray) {
    out->items_.reserve(std::min(count, kMaxReserve));
    for (uint64_t i = 0; i < count; ++i) {
      HEARTH_RETURN_IF_ERROR(
          ReadValue(GgufValueType::kArray,
                    StrFormat("%s[%llu]", key.c_str(), static_cast<unsigned long long>(i)),
                    depth + 1, &out->items_.emplace_back()));
    }
  } else {
    out->raw_ = p_ + pos_;
    out->raw_bytes_ = need;
    pos_ += need;
  }
  return Status::Ok();
}

Status GgufParser::ReadTensorInfo(size_t index, GgufTensorInfo* t) {
  t->index = index;
  t->info_offset = pos_;
  const std::string idx = StrFormat("tensor #%zu", index);
  HEARTH_ASSIGN_OR_RETURN(t->name, ReadString("name of " + idx));
  const std::string who = StrFormat("tensor '%s' (#%zu)", std::string(t->name).c_str(), index);
  uint64_t at = pos_;
  HEARTH_ASSIGN_OR_RETURN(t->n_dims, Read<uint32_t>("dimension count of " + who));
  if (t->n_dims == 0 || t->n_dims > kGgufMaxDims) {
    return Malformed(
        "bad_n_dims",
        StrFormat("%s has %u dimensions at byte offset %llu (must be 1 to %d)", who.c_str(),
                  t->n_dims, static_cast<unsigned long long>(at), kGgufMaxDims));
  }
  for (uint32_t d = 0; d < t->n_dims; ++d) {
    at = pos_;
    HEARTH_ASSIGN_OR_RETURN(t->ne[d], Read<uint64_t>("dimensions of " + who));
    if (t->ne[d] > static_cast<uint64_t>(INT64_MAX)) {
      return Malformed("bad_dims",
                       StrFormat("%s: dimension %u is %llu at byte offset %llu "
                                 "(negative as int64)",
                                 who.c_str(), d, static_cast<unsigned long long>(t->ne[d]),
                                 static_cast<unsigned long long>(at)));
    }
  }
  at = pos_;
  HEARTH_ASSIGN_OR_RETURN(uint32_t type_id, Read<uint32_t>("type of " + who));
  auto info = LookupGgmlType(type_id);
  if (!info) {
    std::string_view label = GgmlTypeIdName(type_id);
    bool removed = label != "unknown";
    return Malformed(removed ? "removed_tensor_type" : "bad_tensor_type",
                     StrFormat("%s has %s type id %u%s at byte offset %llu", who.c_str(),
                               removed ? "obsolete" : "unknown", type_id,
                               removed ? (" (" + std::string(label) + ")").c_str() : "",
                               static_cast<unsigned long long>(at)));
  }
  t->type = info->type;
  HEARTH_ASSIGN_OR_RETURN(t->offset, Read<uint64_t>("data offset of " + who));

  uint64_t n = 1;
  for (int d = 0; d < kGgufMaxDims; ++d) {
    if (MulOverflows(n, t->ne[d], &n) || n > static_cast<uint64_t>(INT64_MAX)) {
      return Malformed("shape_overflow",
                       StrFormat("%s: element count of shape [%llu, %llu, %llu, %llu] overflows "
                                 "(info at byte offset %llu)",
                                 who.c_str(), static_cast<unsigned long long>(t->ne[0]),
                                 static_cast<unsigned long long>(t->ne[1]),
                                 static_cast<unsigned long long>(t->ne[2]),
                                 static_cast<unsigned long long>(t->ne[3]),
                                 static_cast<unsigned long long>(t->info_offset)));
    }
  }
  t->n_elements = n;
  if (t->ne[0] % info->block_size != 0) {
    return Malformed("bad_block_multiple",
                     StrFormat("%s: row length %llu is not a multiple of the %s block size %u "
                               "(info at byte offset %llu)",
                               who.c_str(), static_cast<unsigned long long>(t->ne[0]),
                               std::string(info->name).c_str(), info->block_size,
                               static_cast<unsigned long long>(t->info_offset)));
  }
  uint64_t bytes = 0;
  if (MulOverflows(n / info->block_size, info->type_size, &bytes)) {
    return Malformed("shape_overflow",
                     StrFormat("%s: byte size overflows (info at byte offset "
                               "%llu)",
                               who.c_str(), static_cast<unsigned long long>(t->info_offset)));
  }
  t->n_bytes = bytes;
  return Status::Ok();
}

Status GgufParser::CheckTensorLayout(GgufFile* f) {
  if (f->tensors_.empty()) return Status::Ok();
  if (f->data_offset_ > size_) {
    return Malformed("data_past_eof",
                     StrFormat("the data section would start at byte offset %llu, past the end "
                               "of the file (%llu bytes)",
                               static_cast<unsigned long long>(f->data_offset_),
                               static_cast<unsigned long long>(size_)));
  }
  const uint64_t data_bytes = size_ - f->data_offset_;
  std::vector<const GgufTensorInfo*> order;
  order.reserve(f->tensors_.size());
  for (const GgufTensorInfo& t : f->tensors_) {
    std::string name(t.name);
    if (t.offset % f->alignment_ != 0) {
      return Malformed("misaligned_tensor",
                       StrFormat("tensor '%s': data offset %llu is not a multiple of the "
                                 "alignment %llu (info at byte offset %llu)",
                                 name.c_str(), static_cast<unsigned long long>(t.offset),
                                 static_cast<unsigned long long>(f->alignment_),
                                 static_cast<unsigned long long>(t.info_offset)));
    }
    if (t.offset > data_bytes || t.n_bytes > data_bytes - t.offset) {
      uint64_t abs_offset = 0;  // a huge offset must not wrap to a position inside the file
      const bool wraps = __builtin_add_overflow(f->data_offset_, t.offset, &abs_offset);
      return Malformed("data_past_eof",
                       StrFormat("tensor '%s': data [%llu, +%llu bytes) at absolute byte offset "
                                 "%s extends past the end of the file (%llu bytes)",
                                 name.c_str(), static_cast<unsigned long long>(t.offset),
                                 static_cast<unsigned long long>(t.n_bytes),
                                 wraps ? "past 2^64" : std::to_string(abs_offset).c_str(),
                                 static_cast<unsigned long long>(size_)));
    }
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const GgufTensorInfo* a, const GgufTensorInfo* b) {
    return a->offset < b->offset || (a->offset == b->offset && a->index < b->index);
  });
  // Empty tensors overlap nothing. Each non-empty tensor is compared with the
  // previous non-empty one, which ends last while no overlap has been found
  // (comparing neighbours alone misses an overlap with an empty tensor between).
  const GgufTensorInfo* a = nullptr;
  for (const GgufTensorInfo* b : order) {
    if (b->n_bytes == 0) continue;
    if (a != nullptr && a->offset + a->n_bytes > b->offset) {
      return Malformed(
          "tensor_overlap",
          StrFormat("tensor '%s' (data offset %llu, %llu bytes) overlaps tensor '%s' "
                    "(data offset %llu) at absolute byte offset %llu",
                    std::string(a->name).c_str(), static_cast<unsigned long long>(a->offset),
                    static_cast<unsigned long long>(a->n_bytes), std::string(b->name).c_str(),
                    static_cast<unsigned long long>(b->offset),
                    static_cast<unsigned long long>(f->data_offset_ + b->offset)));
    }
    a = b;
  }
  return Status::Ok();
}

Status GgufParser::Run(GgufFile* f) {
  if (size_ == 0) return Malformed("empty", "the file is empty (0 bytes)");
  if (size_ < 4 || std::memcmp(p_, "GGUF", 4) != 0) {
    std::string got(reinterpret_cast<const char*>(p_), std::min<uint64_t>(size_, 4));
    return Malformed("bad_magic",
                     StrFormat("not a GGUF file: magic at byte offset 0 is '%s', expected 'GGUF'",
                               EscapeForDisplay(got).c_str()));
  }
  pos_ = 4;
  HEARTH_ASSIGN_OR_RETURN(f->version_, Read<uint32_t>("version"));
  if (f->version_ != 2 && f->version_ != 3) {
    uint32_t swapped = __builtin_bswap32(f->version_);
    if (swapped == 2 || swapped == 3) {
      return Malformed("big_endian",
                       "the file is a big-endian GGUF (version field at byte offset 4 is "
                       "byte-swapped); only little-endian files are supported");
    }
    if (f->version_ == 1) {
      return Malformed("unsupported_version",
                       "GGUF version 1 at byte offset 4 is obsolete; re-convert the model");
    }
    return Malformed(
        "unsupported_version",
        StrFormat("unsupported GGUF version %u at byte offset 4 (supported: 2, 3)", f->version_));
  }
  uint64_t at = pos_;
  HEARTH_ASSIGN_OR_RETURN(uint64_t n_tensors, Read<uint64_t>("tensor count"));
  HEARTH_ASSIGN_OR_RETURN(uint64_t n_kv, Read<uint64_t>("metadata count"));
  if (n_kv > remaining() / kMinKvBytes) {
    return Malformed(
        "count_too_large",
        StrFormat("metadata count %llu at byte offset %llu cannot fit in a %llu-byte "
                  "file",
                  static_cast<unsigned long long>(n_kv), static_cast<unsigned long long>(at + 8),
                  static_cast<unsigned long long>(size_)));
  }
  if (n_tensors > remaining() / kMinTensorInfoBytes) {
    return Malformed(
        "count_too_large",
        StrFormat("tensor count %llu at byte offset %llu cannot fit in a %llu-byte "
                  "file",
                  static_cast<unsigned long long>(n_tensors), static_cast<unsigned long long>(at),
                  static_cast<unsigned long long>(size_)));
  }

  f->kvs_.reserve(std::min(n_kv, kMaxReserve));
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKv& kv = f->kvs_.emplace_back();
    kv.file_offset = pos_;
    HEARTH_ASSIGN_OR_RETURN(kv.key, ReadString(StrFormat("key of metadata entry #%llu",
                                                         static_cast<unsigned long long>(i))));
    // The key as messages show it: escaped and at most ~80 characters, since a
    // description is built from it for every array element (a long key over a
    // long array would otherwise cost time quadratic in the file size).
    const std::string key = EscapeForDisplay(kv.key);
    if (!f->kv_index_.emplace(kv.key, i).second) {
      return Malformed("duplicate_key",
                       StrFormat("duplicate metadata key '%s' at byte offset %llu", key.c_str(),
                                 static_cast<unsigned long long>(kv.file_offset)));
    }
    at = pos_;
    HEARTH_ASSIGN_OR_RETURN(uint32_t type, Read<uint32_t>("value type of key '" + key + "'"));
    if (type >= kGgufValueTypeCount) {
      return Malformed("bad_value_type",
                       StrFormat("key '%s': unknown value type %u at byte offset %llu", key.c_str(),
                                 type, static_cast<unsigned long long>(at)));
    }
    HEARTH_RETURN_IF_ERROR(ReadValue(static_cast<GgufValueType>(type), key, 0, &kv.value));
  }

  if (auto it = f->kv_index_.find("general.alignment"); it != f->kv_index_.end()) {
    const GgufValue* a = &f->kvs_[it->second].value;
    const auto key_at = static_cast<unsigned long long>(f->kvs_[it->second].file_offset);
    if (a->type() != GgufValueType::kUint32) {
      return Malformed("bad_alignment",
                       StrFormat("general.alignment must be u32, got %s (key at byte offset %llu)",
                                 std::string(GgufValueTypeName(a->type())).c_str(), key_at));
    }
    uint64_t align = a->scalar_bits();
    if (align == 0 || (align & (align - 1)) != 0) {
      return Malformed("bad_alignment",
                       StrFormat("general.alignment is %llu; it must be a power of two (key at "
                                 "byte offset %llu)",
                                 static_cast<unsigned long long>(align), key_at));
    }
    f->alignment_ = align;
  }

  f->tensors_.reserve(std::min(n_tensors, kMaxReserve));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo& t = f->tensors_.emplace_back();
    HEARTH_RETURN_IF_ERROR(ReadTensorInfo(i, &t));
    if (!f->tensor_index_.emplace(t.name, i).second) {
      return Malformed("duplicate_tensor",
                       StrFormat("duplicate tensor name '%s' at byte offset %llu",
                                 EscapeForDisplay(t.name).c_str(),
                                 static_cast<unsigned long long>(t.info_offset)));
    }
  }
  uint64_t header_end = pos_;
  f->data_offset_ = (header_end + f->alignment_ - 1) / f->alignment_ * f->alignment_;
  return CheckTensorLayout(f);
}

Result<GgufFile> GgufFile::Parse(std::span<const uint8_t> bytes) {
  GgufFile f;
  f.bytes_ = bytes;
  GgufParser parser(bytes);
  HEARTH_RETURN_IF_ERROR(parser.Run(&f));
  return f;
}

Result<GgufFile> GgufFile::Open(const std::string& path, bool in_memory) {
  auto mapped = in_memory ? MappedFile::ReadIntoMemory(path) : MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  auto file = std::make_unique<MappedFile>(std::move(mapped).value());
  auto parsed = Parse(file->bytes());
  if (!parsed.ok()) return std::move(parsed).status().WithContext("'" + path + "'");
  GgufFile f = std::move(parsed).value();
  f.file_ = std::move(file);
  f.path_ = path;
  return f;
}

}  // namespace hearth
