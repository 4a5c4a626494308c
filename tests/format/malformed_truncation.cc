// Truncation cases: the base file cut at the start and in the middle of every
// structural field, from the magic to the last tensor's data.
//
// The expected error follows the reader's documented order of checks: the two
// counts are checked first against the bytes after them (a metadata entry takes
// at least 13 bytes, a tensor info at least 32), then each array's length
// against the bytes that remain after its header, then the read that runs off
// the end. So a cut early in the metadata reports "count_too_large", a cut
// inside a string reports "string_past_eof", and a cut inside the tensor data
// reports "data_past_eof"; every other cut reports "truncated".
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "format/gguf.h"
#include "format/malformed_corpus.h"

namespace hearth::testing {
namespace {

constexpr uint64_t kCountsEnd = 24;           // magic, version, tensor count, metadata count
constexpr uint64_t kMinKvBytes = 13;          // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 32;  // empty name, n_dims, one dim, type, offset

std::string U(uint64_t v) {
  return std::to_string(v);
}

struct Expect {
  std::string reason;
  std::string fragment;
};

// An array around a field: its length is checked before any element is read.
struct ArrayCheck {
  std::string key;
  uint64_t at = 0;  // offset of the array header (element type)
  uint64_t count = 0;
  uint64_t min_elem = 0;
  uint64_t elems_begin = 0;
  std::string type_name;
};

enum class Check {
  kRead,      // a fixed-size read: "file ends while reading ..."
  kString,    // string bytes: "... has length N, past the end of the file"
  kElements,  // scalar array elements: only the array length check can fire
  kSpecial,   // magic, padding, tensor data: `special` computes the error
};

struct Field {
  std::string label;  // names the file
  uint64_t begin = 0;
  uint64_t end = 0;
  Check check = Check::kRead;
  std::string what;                // the reader's description of the item
  uint64_t anchor = 0;             // kString: where the string's length field starts
  std::vector<ArrayCheck> arrays;  // enclosing arrays, outermost first
  std::function<Expect(uint64_t cut)> special;
};

class Layout {
 public:
  void Add(Field f) {
    if (f.end > f.begin) fields_.push_back(std::move(f));
  }
  void Read(std::string label, uint64_t begin, uint64_t size, std::string what,
            const std::vector<ArrayCheck>& arrays = {}) {
    Add({std::move(label), begin, begin + size, Check::kRead, std::move(what), 0, arrays, {}});
  }
  void String(std::string label, uint64_t len_at, uint64_t len, std::string what,
              const std::vector<ArrayCheck>& arrays = {}) {
    Add({std::move(label),
         len_at + 8,
         len_at + 8 + len,
         Check::kString,
         std::move(what),
         len_at,
         arrays,
         {}});
  }
  // Adds the fields of a value body (after its type id) at `pos`; returns its end.
  uint64_t AddValue(const GgufValue& v, const std::string& key, const std::string& label,
                    uint64_t pos, const std::vector<ArrayCheck>& arrays);
  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

uint64_t Layout::AddValue(const GgufValue& v, const std::string& key, const std::string& label,
                          uint64_t pos, const std::vector<ArrayCheck>& arrays) {
  const std::string of_key = "of key '" + key + "'";
  if (v.is_string()) {
    Read("value-length." + label, pos, 8, "length of value " + of_key, arrays);
    String("value." + label, pos, v.string().size(), "value " + of_key, arrays);
    return pos + 8 + v.string().size();
  }
  if (!v.is_array()) {
    Read("value." + label, pos, GgufScalarSize(v.type()), "value " + of_key, arrays);
    return pos + GgufScalarSize(v.type());
  }
  Read("array-type." + label, pos, 4, "array element type " + of_key, arrays);
  Read("array-length." + label, pos + 4, 8, "array length " + of_key, arrays);
  const GgufValueType elem = v.elem_type();
  const uint64_t min_elem = elem == GgufValueType::kString  ? 8
                            : elem == GgufValueType::kArray ? 12
                                                            : GgufScalarSize(elem);
  std::vector<ArrayCheck> inner = arrays;
  inner.push_back({key, pos, v.size(), min_elem, pos + 12, std::string(GgufValueTypeName(elem))});
  uint64_t p = pos + 12;
  for (uint64_t j = 0; j < v.size(); ++j) {
    const std::string sub = label + "-" + U(j);
    if (elem == GgufValueType::kString) {
      const std::string what = "element " + U(j) + " " + of_key;
      Read("element-length." + sub, p, 8, "length of " + what, inner);
      String("element." + sub, p, v.StringAt(j).size(), what, inner);
      p += 8 + v.StringAt(j).size();
    } else if (elem == GgufValueType::kArray) {
      p = AddValue(v.ArrayAt(j), key + "[" + U(j) + "]", sub, p, inner);
    }
  }
  if (elem != GgufValueType::kString && elem != GgufValueType::kArray && v.size() > 0) {
    const uint64_t n = v.size() * GgufScalarSize(elem);
    Add({"elements." + label, p, p + n, Check::kElements, "", 0, inner, {}});
    p += n;
  }
  return p;
}

Layout DescribeLayout(const GgufFile& f) {
  Layout l;
  l.Add({"magic", 0, 4, Check::kSpecial, "", 0, {}, [](uint64_t cut) -> Expect {
           return {"gguf.bad_magic", "magic at byte offset 0 is '" +
                                         std::string("GGUF").substr(0, cut) + "', expected 'GGUF'"};
         }});
  l.Read("version", 4, 4, "version");
  l.Read("tensor-count", 8, 8, "tensor count");
  l.Read("kv-count", 16, 8, "metadata count");
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const GgufKv& kv = f.metadata()[i];
    const std::string key(kv.key);
    const uint64_t o = kv.file_offset;
    l.Read("key-length." + key, o, 8, "length of key of metadata entry #" + U(i));
    l.String("key." + key, o, key.size(), "key of metadata entry #" + U(i));
    l.Read("value-type." + key, o + 8 + key.size(), 4, "value type of key '" + key + "'");
    l.AddValue(kv.value, key, key, o + 12 + key.size(), {});
  }
  uint64_t header_end = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string name(t.name);
    const std::string who = "tensor '" + name + "' (#" + U(t.index) + ")";
    uint64_t p = t.info_offset;
    l.Read("name-length." + name, p, 8, "length of name of tensor #" + U(t.index));
    l.String("name." + name, p, name.size(), "name of tensor #" + U(t.index));
    p += 8 + name.size();
    l.Read("n-dims." + name, p, 4, "dimension count of " + who);
    p += 4;
    for (uint32_t d = 0; d < t.n_dims; ++d, p += 8) {
      l.Read("dim" + U(d) + "." + name, p, 8, "dimensions of " + who);
    }
    l.Read("type." + name, p, 4, "type of " + who);
    l.Read("offset." + name, p + 4, 8, "data offset of " + who);
    header_end = p + 12;
  }
  const uint64_t data = f.data_offset();
  l.Add({"padding", header_end, data, Check::kSpecial, "", 0, {}, [data](uint64_t cut) -> Expect {
           return {"gguf.data_past_eof", "the data section would start at byte offset " + U(data) +
                                             ", past the end of the file (" + U(cut) + " bytes)"};
         }});
  // A cut inside the data section fails on the first tensor, in list order, that it cuts.
  auto data_error = [&f, data](uint64_t cut) -> Expect {
    const uint64_t have = cut - data;
    for (const GgufTensorInfo& t : f.tensors()) {
      if (t.offset > have || t.n_bytes > have - t.offset) {
        return {"gguf.data_past_eof",
                "tensor '" + std::string(t.name) + "': data [" + U(t.offset) + ", +" +
                    U(t.n_bytes) + " bytes) at absolute byte offset " + U(data + t.offset) +
                    " extends past the end of the file (" + U(cut) + " bytes)"};
      }
    }
    return {"", ""};
  };
  for (const GgufTensorInfo& t : f.tensors()) {
    l.Add({"data." + std::string(t.name),
           data + t.offset,
           data + t.offset + t.n_bytes,
           Check::kSpecial,
           "",
           0,
           {},
           data_error});
  }
  return l;
}

Expect ExpectCut(const Field& field, uint64_t cut, const GgufFile& f) {
  if (field.check == Check::kSpecial) return field.special(cut);
  if (cut >= kCountsEnd) {
    const uint64_t rest = cut - kCountsEnd;
    if (f.metadata().size() > rest / kMinKvBytes) {
      return {"gguf.count_too_large", "metadata count " + U(f.metadata().size()) +
                                          " at byte offset 16 cannot fit in a " + U(cut) +
                                          "-byte file"};
    }
    if (f.tensors().size() > rest / kMinTensorInfoBytes) {
      return {"gguf.count_too_large", "tensor count " + U(f.tensors().size()) +
                                          " at byte offset 8 cannot fit in a " + U(cut) +
                                          "-byte file"};
    }
  }
  for (const ArrayCheck& a : field.arrays) {
    if (a.count * a.min_elem > cut - a.elems_begin) {
      return {"gguf.count_too_large", "key '" + a.key + "': array of " + U(a.count) + " " +
                                          a.type_name + " elements at byte offset " + U(a.at) +
                                          " cannot fit in the " + U(cut - a.elems_begin) +
                                          " bytes that remain"};
    }
  }
  switch (field.check) {
    case Check::kRead:
      return {"gguf.truncated", "file ends while reading " + field.what + ": needs " +
                                    U(field.end - field.begin) + " bytes at byte offset " +
                                    U(field.begin) + ", but the file has " + U(cut) + " bytes"};
    case Check::kString:
      return {"gguf.string_past_eof", field.what + " at byte offset " + U(field.anchor) +
                                          " has length " + U(field.end - field.begin) +
                                          ", past the end of the file (" + U(cut - field.begin) +
                                          " bytes remain)"};
    default:
      return {"", ""};  // the array check above always fires first
  }
}

}  // namespace

Result<std::vector<MalformedCase>> BuildTruncationCases(const std::string& base) {
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(base.data()), base.size());
  HEARTH_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Parse(bytes));
  std::vector<MalformedCase> out;
  auto emit = [&](const std::string& name, const Field& field, uint64_t cut) -> Status {
    Expect e = ExpectCut(field, cut, f);
    if (e.reason.empty()) {
      return InternalError("no expected error for " + name + " (cut at " + U(cut) + ")");
    }
    out.push_back({name + ".gguf", base.substr(0, cut), e.reason, e.fragment});
    return Status::Ok();
  };
  const Layout layout = DescribeLayout(f);
  for (const Field& field : layout.fields()) {
    // A cut at the start of the magic is the empty file, a case of its own.
    if (field.label != "magic") {
      HEARTH_RETURN_IF_ERROR(emit("truncated-at-" + field.label, field, field.begin));
    }
    if (field.end - field.begin >= 2) {
      HEARTH_RETURN_IF_ERROR(
          emit("truncated-in-" + field.label, field, field.begin + (field.end - field.begin) / 2));
    }
  }
  return out;
}

}  // namespace hearth::testing
