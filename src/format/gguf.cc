// GgufValue accessors and GgufFile lookups.
#include <cstring>

#include "base/strings.h"
#include "format/gguf.h"

namespace hearth {
namespace {

int64_t SignExtend(uint64_t bits, GgufValueType t) {
  switch (t) {
    case GgufValueType::kInt8:
      return static_cast<int8_t>(bits);
    case GgufValueType::kInt16:
      return static_cast<int16_t>(bits);
    case GgufValueType::kInt32:
      return static_cast<int32_t>(bits);
    case GgufValueType::kInt64:
      return static_cast<int64_t>(bits);
    default:
      return static_cast<int64_t>(bits);
  }
}

double BitsToDouble(uint64_t bits, GgufValueType t) {
  if (t == GgufValueType::kFloat32) {
    float f;
    uint32_t b = static_cast<uint32_t>(bits);
    std::memcpy(&f, &b, 4);
    return f;
  }
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

bool IsIntegerType(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return true;
    default:
      return false;
  }
}

Status WrongType(GgufValueType got, const char* expected) {
  return InvalidArgumentError(
      StrFormat("expected %s, got %s", expected, std::string(GgufValueTypeName(got)).c_str()),
      "gguf.wrong_type");
}

}  // namespace

std::string_view GgufValueTypeName(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
      return "u8";
    case GgufValueType::kInt8:
      return "i8";
    case GgufValueType::kUint16:
      return "u16";
    case GgufValueType::kInt16:
      return "i16";
    case GgufValueType::kUint32:
      return "u32";
    case GgufValueType::kInt32:
      return "i32";
    case GgufValueType::kFloat32:
      return "f32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "str";
    case GgufValueType::kArray:
      return "arr";
    case GgufValueType::kUint64:
      return "u64";
    case GgufValueType::kInt64:
      return "i64";
    case GgufValueType::kFloat64:
      return "f64";
  }
  return "?";
}

size_t GgufScalarSize(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

bool GgufValue::is_integer() const {
  return IsIntegerType(type_);
}

Result<int64_t> GgufValue::ToInt() const {
  if (!is_integer()) return WrongType(type_, "an integer");
  if (type_ == GgufValueType::kUint64 && bits_ > static_cast<uint64_t>(INT64_MAX)) {
    return OutOfRangeError("u64 value too large for int64", "gguf.range");
  }
  return SignExtend(bits_, type_);
}

Result<uint64_t> GgufValue::ToUint() const {
  if (!is_integer()) return WrongType(type_, "an integer");
  if (type_ == GgufValueType::kUint64) return bits_;
  int64_t v = SignExtend(bits_, type_);
  if (v < 0) return OutOfRangeError(StrFormat("negative value %lld", (long long)v), "gguf.range");
  return static_cast<uint64_t>(v);
}

Result<double> GgufValue::ToDouble() const {
  if (is_float()) return BitsToDouble(bits_, type_);
  if (type_ == GgufValueType::kUint64) return static_cast<double>(bits_);
  if (is_integer()) return static_cast<double>(SignExtend(bits_, type_));
  return WrongType(type_, "a number");
}

Result<bool> GgufValue::ToBool() const {
  if (type_ != GgufValueType::kBool) return WrongType(type_, "a bool");
  return bits_ != 0;
}

Result<std::string_view> GgufValue::ToString() const {
  if (type_ != GgufValueType::kString) return WrongType(type_, "a string");
  return str_;
}

int64_t GgufValue::IntAt(uint64_t i) const {
  size_t n = GgufScalarSize(elem_type_);
  uint64_t bits = 0;
  std::memcpy(&bits, raw_ + i * n, n);
  return SignExtend(bits, elem_type_);
}

double GgufValue::DoubleAt(uint64_t i) const {
  size_t n = GgufScalarSize(elem_type_);
  uint64_t bits = 0;
  std::memcpy(&bits, raw_ + i * n, n);
  if (elem_type_ == GgufValueType::kFloat32 || elem_type_ == GgufValueType::kFloat64) {
    return BitsToDouble(bits, elem_type_);
  }
  if (elem_type_ == GgufValueType::kUint64) return static_cast<double>(bits);
  return static_cast<double>(SignExtend(bits, elem_type_));
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::TensorData(const GgufTensorInfo& t) const {
  return bytes_.subspan(data_offset_ + t.offset, t.n_bytes);
}

namespace {
template <typename T, typename F>
Result<T> GetTyped(const GgufFile& f, std::string_view key, F convert) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) {
    return NotFoundError(StrFormat("metadata key '%s' missing", std::string(key).c_str()),
                         "gguf.missing_key");
  }
  Result<T> r = convert(*v);
  if (!r.ok()) return r.status().WithContext(StrFormat("key '%s'", std::string(key).c_str()));
  return r;
}
}  // namespace

Result<std::string_view> GgufFile::GetString(std::string_view key) const {
  return GetTyped<std::string_view>(*this, key, [](const GgufValue& v) { return v.ToString(); });
}
Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  return GetTyped<uint64_t>(*this, key, [](const GgufValue& v) { return v.ToUint(); });
}
Result<double> GgufFile::GetDouble(std::string_view key) const {
  return GetTyped<double>(*this, key, [](const GgufValue& v) { return v.ToDouble(); });
}

Status GgufFile::Lock() {
  return file_ ? file_->Lock() : Status::Ok();
}

Status GgufFile::RewriteInMemory(const std::function<void(std::span<uint8_t>)>& fn) {
  if (!file_) return FailedPreconditionError("GGUF bytes not read from a file cannot be rewritten");
  return file_->Rewrite(fn);
}

Status GgufFile::CheckEngineSupport() const {
  for (const GgufTensorInfo& t : tensors_) {
    const GgmlTypeInfo& info = GetGgmlTypeInfo(t.type);
    if (!info.engine_supported) {
      return UnimplementedError(
          StrFormat("tensor '%s' has type %s, which Hearth cannot compute (supported: F32, F16, "
                    "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)",
                    std::string(t.name).c_str(), std::string(info.name).c_str()),
          "model.unsupported_type");
    }
  }
  return Status::Ok();
}

}  // namespace hearth
