// The malformed-GGUF corpus: one valid base file, mutated at offsets found by
// parsing it. See malformed_corpus.h; truncations are in malformed_truncation.cc.
#include "format/malformed_corpus.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/strings.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"

namespace hearth::testing {
namespace {

constexpr uint64_t kAlign = 64;  // general.alignment of the base file
constexpr uint64_t k2Pow62 = uint64_t{1} << 62;
constexpr uint64_t kU64Max = ~uint64_t{0};

std::string U(uint64_t v) {
  return std::to_string(v);
}

// Little-endian encoder for hand-made structures the writer cannot express.
class Enc {
 public:
  Enc& U32(uint32_t v) { return Raw(&v, 4); }
  Enc& U64(uint64_t v) { return Raw(&v, 8); }
  Enc& Str(std::string_view s) {
    U64(s.size());
    out.append(s);
    return *this;
  }
  Enc& Raw(const void* p, size_t n) {
    out.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string out;
};

// The body of an array value nesting `levels` arrays, the innermost an empty i32 array.
std::string NestedChain(int levels) {
  Enc e;
  for (int i = 1; i < levels; ++i) e.U32(9).U64(1);
  e.U32(5).U64(0);
  return e.out;
}

// Parses a one-key metadata-only file holding a value of type `type` with body `body`,
// so that GgufWriter::SetValue can copy values the writer has no setter for.
Status SetRawValue(GgufWriter* w, std::string_view key, uint32_t type, const std::string& body) {
  Enc e;
  e.U32(kGgufMagic).U32(3).U64(0).U64(1).Str(key).U32(type).Raw(body.data(), body.size());
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(e.out.data()), e.out.size());
  HEARTH_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Parse(bytes));
  w->SetValue(key, f.metadata()[0].value);
  return Status::Ok();
}

struct BaseOptions {
  uint32_t version = 3;
  bool tensors = true;
  uint32_t alignment = kAlign;
  int nesting = 0;  // > 0: test.nested is a chain of this many arrays
};

Result<std::string> WriteBase(const BaseOptions& o) {
  GgufWriter w;
  w.set_version(o.version);
  w.SetString("general.description",
              "A small GGUF for the malformed-file corpus: every field of it is cut, "
              "overflowed or corrupted in turn.");
  w.SetString("general.architecture", "llama");
  w.SetUint32("general.alignment", o.alignment);
  w.SetUint8("test.u8", 200);
  w.SetInt16("test.i16", -12345);
  w.SetFloat32("test.f32", 0.25f);
  w.SetFloat64("test.f64", -1.5);
  w.SetBool("test.bool", true);
  w.SetUint64("test.u64", 0x0123456789abcdefULL);
  w.SetStringArray("tokenizer.ggml.tokens", {"<s>", "hi", "gguf"});
  const int32_t ints[] = {1, -2, 3};
  w.SetInt32Array("test.i32s", ints);
  // [[7, 8] as i32, ["x"] as str]
  std::string nested = Enc().U32(9).U64(2).U32(5).U64(2).U32(7).U32(8).U32(8).U64(1).Str("x").out;
  if (o.nesting > 0) nested = NestedChain(o.nesting);
  HEARTH_RETURN_IF_ERROR(SetRawValue(&w, "test.nested", 9, nested));
  if (!o.tensors) return w.WriteToString();

  std::vector<uint8_t> f32(32), f16(32), q8(68);
  for (size_t i = 0; i < 8; ++i) {
    float v = 0.5f * static_cast<float>(i) - 1.0f;
    std::memcpy(&f32[4 * i], &v, 4);
  }
  for (size_t i = 0; i < 16; ++i) {
    uint16_t h = static_cast<uint16_t>(0x3c00 + 0x40 * i);  // 1.0, 1.0625, ...
    std::memcpy(&f16[2 * i], &h, 2);
  }
  for (size_t b = 0; b < 2; ++b) {
    const uint16_t scale = 0x2c00;  // 0.0625
    std::memcpy(&q8[34 * b], &scale, 2);
    for (size_t i = 0; i < 32; ++i) q8[34 * b + 2 + i] = static_cast<uint8_t>(i * 7 + b - 100);
  }
  const uint64_t ne_f32[] = {4, 2}, ne_f16[] = {8, 2}, ne_q8[] = {32, 2};
  HEARTH_RETURN_IF_ERROR(w.AddTensorBytes("blk.0.f32", GgmlType::kF32, ne_f32, f32));
  HEARTH_RETURN_IF_ERROR(w.AddTensorBytes("blk.0.f16", GgmlType::kF16, ne_f16, f16));
  HEARTH_RETURN_IF_ERROR(w.AddTensorBytes("blk.0.q80", GgmlType::kQ8_0, ne_q8, q8));
  return w.WriteToString();
}

// The parsed base file and the offsets of its fields.
class Base {
 public:
  static Result<std::unique_ptr<Base>> Build() {
    auto b = std::make_unique<Base>();
    HEARTH_ASSIGN_OR_RETURN(b->bytes, WriteBase({}));
    auto span = std::span(reinterpret_cast<const uint8_t*>(b->bytes.data()), b->bytes.size());
    HEARTH_ASSIGN_OR_RETURN(b->file, GgufFile::Parse(span));
    return b;
  }

  size_t KvIndex(std::string_view key) const {
    for (size_t i = 0; i < file.metadata().size(); ++i) {
      if (file.metadata()[i].key == key) return i;
    }
    HEARTH_CHECK(false, "no key %s", std::string(key).c_str());
    return 0;
  }
  uint64_t KeyAt(std::string_view key) const { return file.metadata()[KvIndex(key)].file_offset; }
  uint64_t TypeAt(std::string_view key) const { return KeyAt(key) + 8 + key.size(); }
  uint64_t ValueAt(std::string_view key) const { return TypeAt(key) + 4; }
  uint64_t ValueEnd(std::string_view key) const {
    size_t i = KvIndex(key) + 1;
    return i < file.metadata().size() ? file.metadata()[i].file_offset
                                      : file.tensors()[0].info_offset;
  }
  // Offset of element `j` of a string array whose body starts at `body`.
  uint64_t StringElementAt(uint64_t body, const GgufValue& v, uint64_t j) const {
    uint64_t p = body + 12;
    for (uint64_t i = 0; i < j; ++i) p += 8 + v.StringAt(i).size();
    return p;
  }

  const GgufTensorInfo& T(std::string_view name) const { return *file.FindTensor(name); }
  uint64_t NDimsAt(std::string_view name) const { return T(name).info_offset + 8 + name.size(); }
  uint64_t DimAt(std::string_view name, int d) const { return NDimsAt(name) + 4 + 8 * d; }
  uint64_t TTypeAt(std::string_view name) const { return DimAt(name, T(name).n_dims); }
  uint64_t OffsetAt(std::string_view name) const { return TTypeAt(name) + 4; }
  uint64_t HeaderEnd() const {
    const GgufTensorInfo& last = file.tensors().back();
    return OffsetAt(last.name) + 8;
  }

  template <typename T>
  std::string With(uint64_t at, T v, std::string in = {}) const {
    if (in.empty()) in = bytes;
    std::memcpy(in.data() + at, &v, sizeof(T));
    return in;
  }
  std::string WithText(uint64_t at, std::string_view text, std::string in = {}) const {
    if (in.empty()) in = bytes;
    in.replace(at, text.size(), text);
    return in;
  }
  // Replaces header bytes [begin, end) and re-aligns the data section behind it.
  std::string Splice(uint64_t begin, uint64_t end, const std::string& repl) const {
    std::string out = bytes.substr(0, HeaderEnd());
    out.replace(begin, end - begin, repl);
    out.resize((out.size() + kAlign - 1) / kAlign * kAlign, '\0');
    return out + bytes.substr(file.data_offset());
  }

  std::string bytes;
  GgufFile file;  // views `bytes`
};

void AddMutations(const Base& b, std::vector<MalformedCase>* out) {
  auto add = [out](std::string name, std::string bytes, std::string reason, std::string frag) {
    out->push_back({name + ".gguf", std::move(bytes), "gguf." + reason, std::move(frag)});
  };
  const std::string size = U(b.bytes.size());
  const uint64_t data = b.file.data_offset();

  // File header.
  add("empty", "", "empty", "the file is empty (0 bytes)");
  add("bad-magic", "GGML" + b.bytes.substr(4), "bad_magic",
      "magic at byte offset 0 is 'GGML', expected 'GGUF'");
  add("bad-magic-lowercase", "gguf" + b.bytes.substr(4), "bad_magic",
      "magic at byte offset 0 is 'gguf'");
  add("version-1", b.With<uint32_t>(4, 1), "unsupported_version",
      "GGUF version 1 at byte offset 4 is obsolete");
  add("version-4", b.With<uint32_t>(4, 4), "unsupported_version",
      "unsupported GGUF version 4 at byte offset 4 (supported: 2, 3)");
  add("version-big-endian", b.With<uint32_t>(4, __builtin_bswap32(3)), "big_endian",
      "version field at byte offset 4 is byte-swapped");

  // Absurd counts.
  add("n-kv-2pow62", b.With<uint64_t>(16, k2Pow62), "count_too_large",
      "metadata count " + U(k2Pow62) + " at byte offset 16 cannot fit in a " + size + "-byte file");
  add("n-kv-max", b.With<uint64_t>(16, kU64Max), "count_too_large",
      "metadata count " + U(kU64Max) + " at byte offset 16 cannot fit");
  add("n-tensors-2pow62", b.With<uint64_t>(8, k2Pow62), "count_too_large",
      "tensor count " + U(k2Pow62) + " at byte offset 8 cannot fit in a " + size + "-byte file");
  add("n-tensors-max", b.With<uint64_t>(8, kU64Max), "count_too_large",
      "tensor count " + U(kU64Max) + " at byte offset 8 cannot fit");
  const uint64_t tokens = b.ValueAt("tokenizer.ggml.tokens");
  add("array-length-2pow62-str", b.With<uint64_t>(tokens + 4, k2Pow62), "count_too_large",
      "key 'tokenizer.ggml.tokens': array of " + U(k2Pow62) + " str elements at byte offset " +
          U(tokens));
  const uint64_t i32s = b.ValueAt("test.i32s");
  add("array-length-2pow62-i32", b.With<uint64_t>(i32s + 4, k2Pow62), "count_too_large",
      "key 'test.i32s': array of " + U(k2Pow62) + " i32 elements at byte offset " + U(i32s));
  add("array-length-2pow61-i32", b.With<uint64_t>(i32s + 4, k2Pow62 / 2), "count_too_large",
      "key 'test.i32s': array of " + U(k2Pow62 / 2) + " i32 elements at byte offset " + U(i32s));
  const uint64_t nested = b.ValueAt("test.nested");
  const uint64_t inner0 = nested + 12, inner1 = inner0 + 12 + 8;
  add("array-length-max-nested", b.With<uint64_t>(nested + 4, kU64Max), "count_too_large",
      "key 'test.nested': array of " + U(kU64Max) + " arr elements at byte offset " + U(nested));
  add("inner-array-length-2pow62", b.With<uint64_t>(inner0 + 4, k2Pow62), "count_too_large",
      "key 'test.nested[0]': array of " + U(k2Pow62) + " i32 elements at byte offset " + U(inner0));

  // Strings longer than the rest of the file.
  const uint64_t u8_key = b.KeyAt("test.u8");
  add("key-length-2pow40", b.With<uint64_t>(u8_key, uint64_t{1} << 40), "string_past_eof",
      "key of metadata entry #" + U(b.KvIndex("test.u8")) + " at byte offset " + U(u8_key) +
          " has length 1099511627776, past the end of the file");
  add("key-length-max", b.With<uint64_t>(24, kU64Max), "string_past_eof",
      "key of metadata entry #0 at byte offset 24 has length " + U(kU64Max));
  const uint64_t arch = b.ValueAt("general.architecture");
  add("value-length-2pow32", b.With<uint64_t>(arch, uint64_t{1} << 32), "string_past_eof",
      "value of key 'general.architecture' at byte offset " + U(arch) + " has length 4294967296");
  const uint64_t one_past = b.bytes.size() - (arch + 8) + 1;
  add("value-length-one-past-eof", b.With<uint64_t>(arch, one_past), "string_past_eof",
      "value of key 'general.architecture' at byte offset " + U(arch) + " has length " +
          U(one_past) + ", past the end of the file (" + U(one_past - 1) + " bytes remain)");
  const GgufValue& tok = *b.file.Find("tokenizer.ggml.tokens");
  const uint64_t tok1 = b.StringElementAt(tokens, tok, 1);
  add("array-element-length-past-eof", b.With<uint64_t>(tok1, uint64_t{1} << 33), "string_past_eof",
      "element 1 of key 'tokenizer.ggml.tokens' at byte offset " + U(tok1) +
          " has length 8589934592");
  add("nested-element-length-past-eof", b.With<uint64_t>(inner1 + 12, uint64_t{1} << 33),
      "string_past_eof",
      "element 0 of key 'test.nested[1]' at byte offset " + U(inner1 + 12) +
          " has length 8589934592");
  const uint64_t f16_info = b.T("blk.0.f16").info_offset;
  add("tensor-name-length-past-eof", b.With<uint64_t>(f16_info, uint64_t{1} << 36),
      "string_past_eof",
      "name of tensor #1 at byte offset " + U(f16_info) + " has length 68719476736");

  // Value types and nesting.
  add("value-type-13", b.With<uint32_t>(b.TypeAt("test.u8"), 13), "bad_value_type",
      "key 'test.u8': unknown value type 13 at byte offset " + U(b.TypeAt("test.u8")));
  add("value-type-max", b.With<uint32_t>(b.TypeAt("test.bool"), 0xffffffffu), "bad_value_type",
      "key 'test.bool': unknown value type 4294967295 at byte offset " + U(b.TypeAt("test.bool")));
  add("array-type-13", b.With<uint32_t>(tokens, 13), "bad_value_type",
      "key 'tokenizer.ggml.tokens': unknown array element type 13 at byte offset " + U(tokens));
  add("nested-array-type-99", b.With<uint32_t>(inner1, 99), "bad_value_type",
      "key 'test.nested[1]': unknown array element type 99 at byte offset " + U(inner1));
  add("nesting-depth-9", b.Splice(nested, b.ValueEnd("test.nested"), NestedChain(9)),
      "nesting_too_deep",
      "key 'test.nested[0][0][0][0][0][0][0][0]': arrays nested deeper than 8 at byte offset " +
          U(nested + 8 * 12));
  const uint64_t f64_key = b.KeyAt("test.f64");
  add("duplicate-key", b.WithText(f64_key + 8, "test.f32"), "duplicate_key",
      "duplicate metadata key 'test.f32' at byte offset " + U(f64_key));

  // general.alignment.
  const uint64_t align_type = b.TypeAt("general.alignment");
  const std::string align_key = " (key at byte offset " + U(b.KeyAt("general.alignment")) + ")";
  add("alignment-0", b.With<uint32_t>(align_type + 4, 0), "bad_alignment",
      "general.alignment is 0; it must be a power of two" + align_key);
  add("alignment-3", b.With<uint32_t>(align_type + 4, 3), "bad_alignment",
      "general.alignment is 3; it must be a power of two" + align_key);
  add("alignment-i32", b.With<uint32_t>(align_type, 5), "bad_alignment",
      "general.alignment must be u32, got i32" + align_key);
  add("alignment-u64", b.Splice(align_type, align_type + 8, Enc().U32(10).U64(kAlign).out),
      "bad_alignment", "general.alignment must be u32, got u64" + align_key);

  // Tensor infos.
  const std::string f32 = "tensor 'blk.0.f32' (#0)", f16 = "tensor 'blk.0.f16' (#1)";
  const uint64_t f32_info = b.T("blk.0.f32").info_offset;
  add("n-dims-5", b.With<uint32_t>(b.NDimsAt("blk.0.f16"), 5), "bad_n_dims",
      f16 + " has 5 dimensions at byte offset " + U(b.NDimsAt("blk.0.f16")) + " (must be 1 to 4)");
  add("n-dims-0", b.With<uint32_t>(b.NDimsAt("blk.0.f16"), 0), "bad_n_dims",
      f16 + " has 0 dimensions at byte offset " + U(b.NDimsAt("blk.0.f16")));
  add("dim-negative", b.With<uint64_t>(b.DimAt("blk.0.f32", 0), uint64_t{1} << 63), "bad_dims",
      f32 + ": dimension 0 is 9223372036854775808 at byte offset " + U(b.DimAt("blk.0.f32", 0)) +
          " (negative as int64)");
  auto dims = [&](uint64_t d0, uint64_t d1) {
    return b.With<uint64_t>(b.DimAt("blk.0.f32", 1), d1,
                            b.With<uint64_t>(b.DimAt("blk.0.f32", 0), d0));
  };
  add("shape-overflow-u64", dims(k2Pow62, 4), "shape_overflow",
      f32 + ": element count of shape [" + U(k2Pow62) +
          ", 4, 1, 1] overflows (info at byte offset " + U(f32_info) + ")");
  add("shape-overflow-int64", dims(uint64_t{1} << 32, uint64_t{1} << 31), "shape_overflow",
      f32 + ": element count of shape [4294967296, 2147483648, 1, 1] overflows");
  add("byte-size-overflow", dims(uint64_t{1} << 31, uint64_t{1} << 31), "shape_overflow",
      f32 + ": byte size overflows (info at byte offset " + U(f32_info) + ")");
  const uint64_t f16_type = b.TTypeAt("blk.0.f16");
  add("tensor-type-77", b.With<uint32_t>(f16_type, 77), "bad_tensor_type",
      f16 + " has unknown type id 77 at byte offset " + U(f16_type));
  add("tensor-type-40", b.With<uint32_t>(f16_type, 40), "bad_tensor_type",
      f16 + " has unknown type id 40 at byte offset " + U(f16_type));
  add("tensor-type-4-removed", b.With<uint32_t>(f16_type, 4), "removed_tensor_type",
      f16 + " has obsolete type id 4 (Q4_2 (removed)) at byte offset " + U(f16_type));
  add("tensor-type-31-removed", b.With<uint32_t>(f16_type, 31), "removed_tensor_type",
      f16 + " has obsolete type id 31 (Q4_0_4_4 (removed)) at byte offset " + U(f16_type));
  const uint64_t q8_info = b.T("blk.0.q80").info_offset;
  add("q8_0-row-33", b.With<uint64_t>(b.DimAt("blk.0.q80", 0), 33), "bad_block_multiple",
      "tensor 'blk.0.q80' (#2): row length 33 is not a multiple of the Q8_0 block size 32 (info "
      "at byte offset " +
          U(q8_info) + ")");
  add("duplicate-tensor", b.WithText(q8_info + 8, "blk.0.f16"), "duplicate_tensor",
      "duplicate tensor name 'blk.0.f16' at byte offset " + U(q8_info));

  // Tensor data placement.
  const uint64_t f16_off = b.OffsetAt("blk.0.f16"), q8_off = b.OffsetAt("blk.0.q80");
  add("misaligned-offset-65", b.With<uint64_t>(f16_off, 65), "misaligned_tensor",
      "tensor 'blk.0.f16': data offset 65 is not a multiple of the alignment 64 (info at byte "
      "offset " +
          U(f16_info) + ")");
  add("misaligned-offset-32", b.With<uint64_t>(f16_off, 32), "misaligned_tensor",
      "tensor 'blk.0.f16': data offset 32 is not a multiple of the alignment 64");
  add("data-offset-past-eof", b.With<uint64_t>(q8_off, 65536), "data_past_eof",
      "tensor 'blk.0.q80': data [65536, +68 bytes) at absolute byte offset " + U(data + 65536) +
          " extends past the end of the file (" + size + " bytes)");
  add("data-4-bytes-past-eof", b.With<uint64_t>(q8_off, 192), "data_past_eof",
      "tensor 'blk.0.q80': data [192, +68 bytes) at absolute byte offset " + U(data + 192) +
          " extends past the end of the file (" + size + " bytes)");
  add("data-offset-huge", b.With<uint64_t>(q8_off, kU64Max - 63), "data_past_eof",
      "tensor 'blk.0.q80': data [" + U(kU64Max - 63) +
          ", +68 bytes) at absolute byte offset past 2^64 extends past the end of the file");
  add("tensor-larger-than-file", dims(4, uint64_t{1} << 20), "data_past_eof",
      "tensor 'blk.0.f32': data [0, +16777216 bytes)");
  add("overlap-same-offset", b.With<uint64_t>(f16_off, 0), "tensor_overlap",
      "tensor 'blk.0.f32' (data offset 0, 32 bytes) overlaps tensor 'blk.0.f16' (data offset 0) "
      "at absolute byte offset " +
          U(data));
  add("overlap-partial", b.With<uint64_t>(f16_off, 192), "tensor_overlap",
      "tensor 'blk.0.q80' (data offset 128, 68 bytes) overlaps tensor 'blk.0.f16' (data offset "
      "192) at absolute byte offset " +
          U(data + 192));
  // blk.0.f32 becomes empty ([4, 0]) and sits at 192, between blk.0.q80 and blk.0.f16 in
  // offset order: the overlap of those two must still be found.
  std::string hidden = b.With<uint64_t>(f16_off, 192);
  hidden = b.With<uint64_t>(b.DimAt("blk.0.f32", 1), 0, hidden);
  hidden = b.With<uint64_t>(b.OffsetAt("blk.0.f32"), 192, hidden);
  add("overlap-behind-empty-tensor", hidden, "tensor_overlap",
      "tensor 'blk.0.q80' (data offset 128, 68 bytes) overlaps tensor 'blk.0.f16' (data offset "
      "192) at absolute byte offset " +
          U(data + 192));
}

// One small tensor of each of many types (zero bytes), one of them 4-D and one
// (Q2_K) that the engine cannot compute.
Result<std::string> WriteManyTypes() {
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  const GgmlType types[] = {GgmlType::kF32,    GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0,
                            GgmlType::kQ4_1,   GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
                            GgmlType::kQ4_K,   GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kI8,
                            GgmlType::kIQ4_NL, GgmlType::kQ2_K};
  for (GgmlType type : types) {
    const GgmlTypeInfo& info = GetGgmlTypeInfo(type);
    const uint64_t ne[] = {info.block_size, 1, 2, 1};
    const size_t rank = type == GgmlType::kQ8_0 ? 4 : 1;
    HEARTH_RETURN_IF_ERROR(
        w.AddTensor("t." + std::string(info.name), type, std::span<const uint64_t>(ne, rank), {}));
  }
  return w.WriteToString();
}

}  // namespace

Result<std::string> BuildBaseGguf() {
  return WriteBase({});
}

Result<std::vector<MalformedCase>> BuildMalformedCorpus() {
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<Base> base, Base::Build());
  std::vector<MalformedCase> cases;
  AddMutations(*base, &cases);
  HEARTH_ASSIGN_OR_RETURN(std::vector<MalformedCase> cuts, BuildTruncationCases(base->bytes));
  for (MalformedCase& c : cuts) cases.push_back(std::move(c));
  return cases;
}

Result<std::vector<NamedFile>> BuildValidVariants() {
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<Base> base, Base::Build());
  const Base& b = *base;
  std::vector<NamedFile> out;
  out.push_back({"base.gguf", b.bytes});
  HEARTH_ASSIGN_OR_RETURN(std::string v2, WriteBase({.version = 2}));
  out.push_back({"version-2.gguf", v2});
  HEARTH_ASSIGN_OR_RETURN(std::string meta, WriteBase({.tensors = false}));
  out.push_back({"metadata-only.gguf", meta});
  HEARTH_ASSIGN_OR_RETURN(std::string align1, WriteBase({.alignment = 1}));
  out.push_back({"alignment-1.gguf", align1});
  HEARTH_ASSIGN_OR_RETURN(std::string deep, WriteBase({.nesting = 8}));
  out.push_back({"nesting-depth-8.gguf", deep});
  HEARTH_ASSIGN_OR_RETURN(std::string many, WriteManyTypes());
  out.push_back({"many-types.gguf", many});
  const GgufTensorInfo& q8 = b.T("blk.0.q80");
  out.push_back({"no-trailing-padding.gguf",
                 b.bytes.substr(0, b.file.data_offset() + q8.offset + q8.n_bytes)});
  // Non-zero bytes in the padding after the header, between tensors and at the end.
  std::string gaps = b.bytes;
  for (uint64_t i = b.HeaderEnd(); i < gaps.size(); ++i) {
    bool in_tensor = false;
    for (const GgufTensorInfo& t : b.file.tensors()) {
      const uint64_t begin = b.file.data_offset() + t.offset;
      in_tensor = in_tensor || (i >= begin && i < begin + t.n_bytes);
    }
    if (!in_tensor) gaps[i] = static_cast<char>(0xa5);
  }
  out.push_back({"nonzero-padding.gguf", gaps});
  out.push_back({"out-of-order-tensors.gguf",
                 b.With<uint64_t>(b.OffsetAt("blk.0.f16"), 0,
                                  b.With<uint64_t>(b.OffsetAt("blk.0.f32"), 64))});
  out.push_back({"empty-tensor.gguf", b.With<uint64_t>(b.DimAt("blk.0.f32", 1), 0)});
  // An empty tensor at an offset inside another tensor overlaps nothing.
  out.push_back({"empty-tensor-inside-another.gguf",
                 b.With<uint64_t>(b.OffsetAt("blk.0.f32"), 192,
                                  b.With<uint64_t>(b.DimAt("blk.0.f32", 1), 0))});
  return out;
}

std::vector<std::string_view> FuzzSeedMalformedNames() {
  return {"nesting-depth-9.gguf",
          "overlap-behind-empty-tensor.gguf",
          "duplicate-key.gguf",
          "tensor-type-31-removed.gguf",
          "q8_0-row-33.gguf",
          "alignment-u64.gguf",
          "array-length-2pow62-str.gguf",
          "truncated-in-data.blk.0.q80.gguf"};
}

std::string FormatExpectedIndex(const std::vector<MalformedCase>& cases) {
  std::string out =
      "# Malformed GGUF corpus, generated by tools/gen_malformed (do not edit by hand).\n"
      "# file<TAB>expected Status::reason()<TAB>fragment the message must contain\n";
  for (const MalformedCase& c : cases) out += c.name + "\t" + c.reason + "\t" + c.fragment + "\n";
  return out;
}

Result<std::vector<IndexEntry>> ParseExpectedIndex(std::string_view text) {
  std::vector<IndexEntry> out;
  size_t line_no = 0;
  for (std::string_view line : StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> cols = StrSplit(line, '\t');
    if (cols.size() != 3 || cols[0].empty() || cols[1].empty() || cols[2].empty()) {
      return InvalidArgumentError(
          StrFormat("%s line %zu: expected 3 tab-separated fields", kExpectedIndexName, line_no));
    }
    out.push_back({std::string(cols[0]), std::string(cols[1]), std::string(cols[2])});
  }
  return out;
}

}  // namespace hearth::testing
