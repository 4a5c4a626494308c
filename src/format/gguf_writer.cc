#include "format/gguf_writer.h"

#include <cstring>

#include "base/file_writer.h"
#include "base/strings.h"

namespace hearth {
namespace {

template <typename T>
void Put(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

void PutString(std::string* out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out->append(s.data(), s.size());
}

void EncodeValueBody(std::string* out, const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::kString:
      PutString(out, v.string());
      return;
    case GgufValueType::kArray: {
      Put<uint32_t>(out, static_cast<uint32_t>(v.elem_type()));
      Put<uint64_t>(out, v.size());
      if (v.elem_type() == GgufValueType::kString) {
        for (uint64_t i = 0; i < v.size(); ++i) PutString(out, v.StringAt(i));
      } else if (v.elem_type() == GgufValueType::kArray) {
        for (uint64_t i = 0; i < v.size(); ++i) EncodeValueBody(out, v.ArrayAt(i));
      } else {
        auto raw = v.raw_elements();
        out->append(reinterpret_cast<const char*>(raw.data()), raw.size());
      }
      return;
    }
    default: {
      uint64_t bits = v.scalar_bits();
      char buf[8];
      std::memcpy(buf, &bits, 8);
      out->append(buf, GgufScalarSize(v.type()));
    }
  }
}

template <typename T>
std::string EncodeScalar(GgufValueType t, T v) {
  std::string s;
  Put<uint32_t>(&s, static_cast<uint32_t>(t));
  Put<T>(&s, v);
  return s;
}

uint64_t AlignUp(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

class GgufWriter::Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(const void* data, size_t size) = 0;
  Status WriteZeros(size_t n) {
    static const char kZeros[4096] = {};
    while (n > 0) {
      size_t k = n < sizeof(kZeros) ? n : sizeof(kZeros);
      HEARTH_RETURN_IF_ERROR(Write(kZeros, k));
      n -= k;
    }
    return Status::Ok();
  }
};

void GgufWriter::SetEncoded(std::string_view key, std::string encoded) {
  for (Entry& e : entries_) {
    if (e.key == key) {
      e.encoded = std::move(encoded);
      return;
    }
  }
  entries_.push_back({std::string(key), std::move(encoded)});
}

void GgufWriter::SetUint8(std::string_view k, uint8_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kUint8, v));
}
void GgufWriter::SetInt8(std::string_view k, int8_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kInt8, v));
}
void GgufWriter::SetUint16(std::string_view k, uint16_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kUint16, v));
}
void GgufWriter::SetInt16(std::string_view k, int16_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kInt16, v));
}
void GgufWriter::SetUint32(std::string_view k, uint32_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kUint32, v));
}
void GgufWriter::SetInt32(std::string_view k, int32_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kInt32, v));
}
void GgufWriter::SetUint64(std::string_view k, uint64_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kUint64, v));
}
void GgufWriter::SetInt64(std::string_view k, int64_t v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kInt64, v));
}
void GgufWriter::SetFloat32(std::string_view k, float v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kFloat32, v));
}
void GgufWriter::SetFloat64(std::string_view k, double v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kFloat64, v));
}
void GgufWriter::SetBool(std::string_view k, bool v) {
  SetEncoded(k, EncodeScalar(GgufValueType::kBool, static_cast<uint8_t>(v ? 1 : 0)));
}

void GgufWriter::SetString(std::string_view key, std::string_view v) {
  std::string s;
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kString));
  PutString(&s, v);
  SetEncoded(key, std::move(s));
}

void GgufWriter::SetStringArray(std::string_view key, const std::vector<std::string>& v) {
  std::string s;
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kArray));
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kString));
  Put<uint64_t>(&s, v.size());
  for (const auto& str : v) PutString(&s, str);
  SetEncoded(key, std::move(s));
}

void GgufWriter::SetFloat32Array(std::string_view key, std::span<const float> v) {
  std::string s;
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kArray));
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kFloat32));
  Put<uint64_t>(&s, v.size());
  s.append(reinterpret_cast<const char*>(v.data()), v.size_bytes());
  SetEncoded(key, std::move(s));
}

void GgufWriter::SetInt32Array(std::string_view key, std::span<const int32_t> v) {
  std::string s;
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kArray));
  Put<uint32_t>(&s, static_cast<uint32_t>(GgufValueType::kInt32));
  Put<uint64_t>(&s, v.size());
  s.append(reinterpret_cast<const char*>(v.data()), v.size_bytes());
  SetEncoded(key, std::move(s));
}

void GgufWriter::SetValue(std::string_view key, const GgufValue& v) {
  std::string s;
  Put<uint32_t>(&s, static_cast<uint32_t>(v.type()));
  EncodeValueBody(&s, v);
  SetEncoded(key, std::move(s));
}

bool GgufWriter::Remove(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

bool GgufWriter::Has(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return true;
  }
  return false;
}

uint64_t GgufWriter::alignment() const {
  for (const Entry& e : entries_) {
    if (e.key == "general.alignment" && e.encoded.size() == 8) {
      uint32_t type, v;
      std::memcpy(&type, e.encoded.data(), 4);
      std::memcpy(&v, e.encoded.data() + 4, 4);
      if (type == static_cast<uint32_t>(GgufValueType::kUint32) && v != 0 && (v & (v - 1)) == 0) {
        return v;
      }
    }
  }
  return kGgufDefaultAlignment;
}

Status GgufWriter::AddTensor(std::string_view name, GgmlType type, std::span<const uint64_t> ne,
                             Filler fill, std::optional<uint64_t> offset) {
  const std::string who = "tensor '" + std::string(name) + "'";
  for (const Tensor& t : tensors_) {
    if (t.name == name) return InvalidArgumentError(who + " added twice", "gguf.duplicate_tensor");
  }
  if (ne.empty() || ne.size() > static_cast<size_t>(kGgufMaxDims)) {
    return InvalidArgumentError(
        StrFormat("%s: %zu dimensions (must be 1 to %d)", who.c_str(), ne.size(), kGgufMaxDims),
        "gguf.bad_n_dims");
  }
  const GgmlTypeInfo& info = GetGgmlTypeInfo(type);
  if (ne[0] % info.block_size != 0) {
    return InvalidArgumentError(StrFormat("%s: row length %llu is not a multiple of the %s block "
                                          "size %u",
                                          who.c_str(), static_cast<unsigned long long>(ne[0]),
                                          std::string(info.name).c_str(), info.block_size),
                                "gguf.bad_block_multiple");
  }
  uint64_t n = 1;
  for (uint64_t d : ne) {
    if (__builtin_mul_overflow(n, d, &n)) {
      return InvalidArgumentError(who + ": shape overflows", "gguf.shape_overflow");
    }
  }
  uint64_t bytes = n / info.block_size * info.type_size;
  uint64_t align = alignment();
  uint64_t at = AlignUp(data_end_, align);
  if (offset) {
    if (*offset % align != 0 || *offset < data_end_) {
      return InvalidArgumentError(StrFormat("%s: explicit offset %llu is misaligned or overlaps "
                                            "the previous tensor (ends at %llu)",
                                            who.c_str(), static_cast<unsigned long long>(*offset),
                                            static_cast<unsigned long long>(data_end_)),
                                  "gguf.bad_offset");
    }
    at = *offset;
  }
  tensors_.push_back({std::string(name), type, std::vector<uint64_t>(ne.begin(), ne.end()), at,
                      bytes, std::move(fill)});
  data_end_ = at + bytes;
  return Status::Ok();
}

Status GgufWriter::AddTensorBytes(std::string_view name, GgmlType type,
                                  std::span<const uint64_t> ne, std::span<const uint8_t> data,
                                  std::optional<uint64_t> offset) {
  auto fill = [data, n = std::string(name)](std::span<uint8_t> out) -> Status {
    if (out.size() != data.size()) {
      return InvalidArgumentError(StrFormat("tensor '%s': %zu bytes given, shape needs %zu",
                                            n.c_str(), data.size(), out.size()));
    }
    if (!data.empty()) std::memcpy(out.data(), data.data(), data.size());
    return Status::Ok();
  };
  return AddTensor(name, type, ne, std::move(fill), offset);
}

std::string GgufWriter::EncodeHeader() const {
  std::string h;
  Put<uint32_t>(&h, kGgufMagic);
  Put<uint32_t>(&h, version_);
  Put<uint64_t>(&h, tensors_.size());
  Put<uint64_t>(&h, entries_.size());
  for (const Entry& e : entries_) {
    PutString(&h, e.key);
    h += e.encoded;
  }
  for (const Tensor& t : tensors_) {
    PutString(&h, t.name);
    Put<uint32_t>(&h, static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) Put<uint64_t>(&h, d);
    Put<uint32_t>(&h, static_cast<uint32_t>(t.type));
    Put<uint64_t>(&h, t.offset);
  }
  return h;
}

uint64_t GgufWriter::FileSize() const {
  uint64_t align = alignment();
  uint64_t header = EncodeHeader().size();
  if (tensors_.empty()) return header;
  return AlignUp(header, align) + AlignUp(data_end_, align);
}

Status GgufWriter::WriteTo(Sink& sink, const ProgressFn& progress) const {
  const uint64_t align = alignment();
  std::string header = EncodeHeader();
  HEARTH_RETURN_IF_ERROR(sink.Write(header.data(), header.size()));
  if (tensors_.empty()) return Status::Ok();
  HEARTH_RETURN_IF_ERROR(sink.WriteZeros(AlignUp(header.size(), align) - header.size()));
  uint64_t pos = 0;
  std::vector<uint8_t> buf;
  for (const Tensor& t : tensors_) {
    HEARTH_RETURN_IF_ERROR(sink.WriteZeros(t.offset - pos));
    buf.assign(t.n_bytes, 0);
    if (t.fill) {
      Status st = t.fill(std::span<uint8_t>(buf.data(), buf.size()));
      if (!st.ok()) return st.WithContext("writing tensor '" + t.name + "'");
    }
    HEARTH_RETURN_IF_ERROR(sink.Write(buf.data(), buf.size()));
    pos = t.offset + t.n_bytes;
    if (progress) progress(pos, data_end_);
  }
  return sink.WriteZeros(AlignUp(pos, align) - pos);
}

Status GgufWriter::Write(const std::string& path, const ProgressFn& progress) const {
  class FileSink : public Sink {
   public:
    explicit FileSink(FileWriter* w) : w_(w) {}
    Status Write(const void* d, size_t n) override { return w_->Write(d, n); }

   private:
    FileWriter* w_;
  };
  HEARTH_ASSIGN_OR_RETURN(FileWriter fw, FileWriter::Create(path));
  FileSink sink(&fw);
  HEARTH_RETURN_IF_ERROR(WriteTo(sink, progress));
  return fw.Commit();
}

Result<std::string> GgufWriter::WriteToString() const {
  class StringSink : public Sink {
   public:
    Status Write(const void* d, size_t n) override {
      out.append(static_cast<const char*>(d), n);
      return Status::Ok();
    }
    std::string out;
  };
  StringSink sink;
  HEARTH_RETURN_IF_ERROR(WriteTo(sink, {}));
  return std::move(sink.out);
}

Result<GgufWriter> WriterFromFile(const GgufFile& f) {
  GgufWriter w;
  w.set_version(f.version());
  for (const GgufKv& kv : f.metadata()) w.SetValue(kv.key, kv.value);
  for (const GgufTensorInfo& t : f.tensors()) {
    HEARTH_RETURN_IF_ERROR(w.AddTensorBytes(t.name, t.type,
                                            std::span<const uint64_t>(t.ne.data(), t.n_dims),
                                            f.TensorData(t), t.offset));
  }
  return w;
}

}  // namespace hearth
