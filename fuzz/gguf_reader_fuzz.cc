// libFuzzer target for the GGUF reader (see docs/fuzzing.md).
//
// Any input must either fail with a DataLoss "gguf.*" status or parse into a
// file whose every view stays inside the input. A parsed file is then read in
// full, and rewritten with WriterFromFile: when the rewrite succeeds, its output
// must parse to the same metadata and tensors and must equal, byte for byte,
// the input's header followed by the tensor data at the same offsets with zero
// padding (the writer's canonical layout). Violations abort.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/gguf_writer.h"

namespace hearth {
namespace {

volatile uint64_t g_sink;  // keeps the reads below from being optimized away

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

bool Within(std::span<const uint8_t> outer, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return n == 0 || (b >= outer.data() && n <= outer.size() &&
                    static_cast<size_t>(b - outer.data()) <= outer.size() - n);
}

uint64_t TouchString(std::span<const uint8_t> in, std::string_view s) {
  FUZZ_CHECK(Within(in, s.data(), s.size()));
  uint64_t sum = 0;
  for (char c : s) sum += static_cast<uint8_t>(c);
  return sum;
}

uint64_t TouchValue(std::span<const uint8_t> in, const GgufValue& v) {
  uint64_t sum = 0;
  if (auto i = v.ToInt(); i.ok()) sum += static_cast<uint64_t>(*i);
  if (auto u = v.ToUint(); u.ok()) sum += *u;
  if (auto d = v.ToDouble(); d.ok()) sum += *d == *d ? 1 : 2;
  if (auto b = v.ToBool(); b.ok()) sum += *b;
  if (v.is_string()) return sum + TouchString(in, v.string());
  if (!v.is_array()) return sum + v.scalar_bits();
  const GgufValueType elem = v.elem_type();
  for (uint64_t i = 0; i < v.size(); ++i) {
    if (elem == GgufValueType::kString) {
      sum += TouchString(in, v.StringAt(i));
    } else if (elem == GgufValueType::kArray) {
      sum += TouchValue(in, v.ArrayAt(i));
    } else {
      if (elem != GgufValueType::kFloat32 && elem != GgufValueType::kFloat64) {
        sum += static_cast<uint64_t>(v.IntAt(i));
      }
      const double d = v.DoubleAt(i);
      sum += d == d ? 1 : 2;
    }
  }
  if (elem != GgufValueType::kString && elem != GgufValueType::kArray) {
    FUZZ_CHECK(v.raw_elements().size() == v.size() * GgufScalarSize(elem));
    FUZZ_CHECK(Within(in, v.raw_elements().data(), v.raw_elements().size()));
  }
  return sum;
}

bool SameValue(const GgufValue& a, const GgufValue& b) {
  if (a.type() != b.type()) return false;
  if (a.is_string()) return a.string() == b.string();
  if (!a.is_array()) return a.scalar_bits() == b.scalar_bits();
  if (a.elem_type() != b.elem_type() || a.size() != b.size()) return false;
  for (uint64_t i = 0; i < a.size(); ++i) {
    if (a.elem_type() == GgufValueType::kString && a.StringAt(i) != b.StringAt(i)) return false;
    if (a.elem_type() == GgufValueType::kArray && !SameValue(a.ArrayAt(i), b.ArrayAt(i))) {
      return false;
    }
  }
  auto ra = a.raw_elements(), rb = b.raw_elements();
  return std::equal(ra.begin(), ra.end(), rb.begin(), rb.end());
}

// Checks what the reader promises about a parsed file, and reads all of it.
void CheckParsed(std::span<const uint8_t> in, const GgufFile& f) {
  uint64_t sum = 0;
  FUZZ_CHECK(f.version() == 2 || f.version() == 3);
  FUZZ_CHECK(f.alignment() != 0 && (f.alignment() & (f.alignment() - 1)) == 0);
  for (const GgufKv& kv : f.metadata()) {
    sum += TouchString(in, kv.key);
    FUZZ_CHECK(f.Find(kv.key) == &kv.value);
    sum += TouchValue(in, kv.value);
    if (auto s = f.GetString(kv.key); s.ok()) sum += s->size();
    if (auto u = f.GetUint(kv.key); u.ok()) sum += *u;
    if (auto d = f.GetDouble(kv.key); d.ok()) sum += *d == *d;
  }
  std::vector<const GgufTensorInfo*> order;
  for (const GgufTensorInfo& t : f.tensors()) {
    sum += TouchString(in, t.name);
    FUZZ_CHECK(f.FindTensor(t.name) == &t);
    FUZZ_CHECK(t.n_dims >= 1 && t.n_dims <= static_cast<uint32_t>(kGgufMaxDims));
    FUZZ_CHECK(t.offset % f.alignment() == 0);
    std::span<const uint8_t> data = f.TensorData(t);
    FUZZ_CHECK(data.size() == t.n_bytes);
    FUZZ_CHECK(Within(in, data.data(), data.size()));
    FUZZ_CHECK(data.data() == in.data() + f.data_offset() + t.offset || data.empty());
    for (uint8_t b : data) sum += b;
    if (t.n_bytes > 0) order.push_back(&t);
  }
  if (!f.tensors().empty()) FUZZ_CHECK(f.data_offset() % f.alignment() == 0);
  // Non-empty tensors never share a byte.
  std::sort(order.begin(), order.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    FUZZ_CHECK(order[i - 1]->offset + order[i - 1]->n_bytes <= order[i]->offset);
  }
  Status st = f.CheckEngineSupport();
  FUZZ_CHECK(st.ok() || st.code() == StatusCode::kUnimplemented);
  g_sink = g_sink + sum;
}

// End of the tensor infos: where the header ends when there are tensors.
uint64_t HeaderEnd(const GgufFile& f) {
  const GgufTensorInfo& t = f.tensors().back();
  return t.info_offset + 8 + t.name.size() + 4 + 8 * t.n_dims + 4 + 8;
}

void CheckRoundTrip(std::span<const uint8_t> in, const GgufFile& f) {
  // The writer places tensors in list order, each after the previous one ends.
  bool in_order = true;
  for (size_t i = 1; i < f.tensors().size(); ++i) {
    const GgufTensorInfo& p = f.tensors()[i - 1];
    in_order = in_order && f.tensors()[i].offset >= p.offset + p.n_bytes;
  }
  auto writer = WriterFromFile(f);
  if (!writer.ok()) {
    FUZZ_CHECK(!in_order);  // a file the writer can lay out must be accepted
    return;
  }
  auto written = writer->WriteToString();
  FUZZ_CHECK(written.ok());
  const std::string& out = *written;
  auto out_bytes = std::span(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  auto g_or = GgufFile::Parse(out_bytes);
  FUZZ_CHECK(g_or.ok());
  const GgufFile& g = *g_or;

  FUZZ_CHECK(g.version() == f.version());
  FUZZ_CHECK(g.alignment() == f.alignment());
  FUZZ_CHECK(g.metadata().size() == f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    FUZZ_CHECK(g.metadata()[i].key == f.metadata()[i].key);
    FUZZ_CHECK(g.metadata()[i].file_offset == f.metadata()[i].file_offset);
    FUZZ_CHECK(SameValue(g.metadata()[i].value, f.metadata()[i].value));
  }
  FUZZ_CHECK(g.tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const GgufTensorInfo &a = f.tensors()[i], &b = g.tensors()[i];
    FUZZ_CHECK(a.name == b.name && a.type == b.type && a.n_dims == b.n_dims && a.ne == b.ne);
    FUZZ_CHECK(a.offset == b.offset && a.n_bytes == b.n_bytes && a.info_offset == b.info_offset);
    auto da = f.TensorData(a), db = g.TensorData(b);
    FUZZ_CHECK(std::equal(da.begin(), da.end(), db.begin(), db.end()));
  }

  // The exact bytes: the input's header, then zeros with the tensor data at
  // their offsets, up to the aligned end of the last tensor. Without tensors the
  // writer emits the header alone, so the output is a prefix of the input.
  if (f.tensors().empty()) {
    FUZZ_CHECK(out.size() <= in.size() &&
               std::equal(out_bytes.begin(), out_bytes.end(), in.begin()));
    return;
  }
  const uint64_t header_end = HeaderEnd(f);
  const GgufTensorInfo& last = f.tensors().back();
  const uint64_t a = f.alignment();
  const uint64_t data_end = (last.offset + last.n_bytes + a - 1) / a * a;
  std::vector<uint8_t> expected(f.data_offset() + data_end, 0);
  std::copy(in.begin(), in.begin() + header_end, expected.begin());
  for (const GgufTensorInfo& t : f.tensors()) {
    auto d = f.TensorData(t);
    std::copy(d.begin(), d.end(), expected.begin() + f.data_offset() + t.offset);
  }
  FUZZ_CHECK(std::equal(expected.begin(), expected.end(), out_bytes.begin(), out_bytes.end()));
}

}  // namespace
}  // namespace hearth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearth;
  const std::span<const uint8_t> in(data, size);
  auto parsed = GgufFile::Parse(in);
  if (!parsed.ok()) {
    const Status& st = parsed.status();
    FUZZ_CHECK(st.code() == StatusCode::kDataLoss);
    FUZZ_CHECK(st.reason().rfind("gguf.", 0) == 0);
    FUZZ_CHECK(!st.message().empty());
    return 0;
  }
  CheckParsed(in, *parsed);
  CheckRoundTrip(in, *parsed);
  return 0;
}
