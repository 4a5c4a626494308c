// GGUF files (v2 and v3, little-endian): a zero-copy reader over mmap.
//
// Layout: "GGUF" u32 version, u64 n_tensors, u64 n_kv, n_kv × (string key,
// u32 value type, value), n_tensors × (string name, u32 n_dims, u64 dims[n_dims],
// u32 ggml type, u64 offset), padding to `general.alignment` (default 32), then
// the data section; each tensor's offset is relative to its start.
//
// Every count, size and offset is checked against the file size before use.
// A malformed file yields a DataLoss status whose reason is a stable slug
// ("gguf.truncated", "gguf.duplicate_key", ...) and whose message names the
// problem, the key or tensor, and the byte offset. The reader never reads
// outside the file.
//
// Strings and arrays are views into the mapped bytes: a GgufFile owns its
// mapping and must outlive every view taken from it. Thread-safe after load
// (read-only).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "format/ggml_types.h"

namespace hearth {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
constexpr uint32_t kGgufValueTypeCount = 13;

std::string_view GgufValueTypeName(GgufValueType t);  // "u32", "str", "arr", ...
// Bytes of a scalar type; 0 for string and array.
size_t GgufScalarSize(GgufValueType t);

// A metadata value. Scalars are held by value; strings and arrays view the file.
class GgufValue {
 public:
  GgufValueType type() const { return type_; }
  bool is_integer() const;  // u8..i64 (not bool)
  bool is_float() const {
    return type_ == GgufValueType::kFloat32 || type_ == GgufValueType::kFloat64;
  }
  bool is_string() const { return type_ == GgufValueType::kString; }
  bool is_array() const { return type_ == GgufValueType::kArray; }
  bool is_bool() const { return type_ == GgufValueType::kBool; }

  // Scalar conversions; errors name the actual type ("expected an integer, got str").
  Result<int64_t> ToInt() const;    // any integer type (u64 above INT64_MAX is an error)
  Result<uint64_t> ToUint() const;  // non-negative integer
  Result<double> ToDouble() const;  // any integer or float
  Result<bool> ToBool() const;      // bool only
  Result<std::string_view> ToString() const;

  // The raw little-endian bits of a scalar (for exact rewriting).
  uint64_t scalar_bits() const { return bits_; }
  std::string_view string() const { return str_; }  // valid when is_string()

  // Arrays.
  GgufValueType elem_type() const { return elem_type_; }
  uint64_t size() const { return count_; }
  std::string_view StringAt(uint64_t i) const { return strings_[i]; }  // string arrays
  const GgufValue& ArrayAt(uint64_t i) const { return items_[i]; }     // nested arrays
  int64_t IntAt(uint64_t i) const;    // integer/bool arrays (u64 wraps to int64)
  double DoubleAt(uint64_t i) const;  // numeric arrays
  // Raw element bytes of a scalar array (count × GgufScalarSize(elem_type)).
  std::span<const uint8_t> raw_elements() const { return {raw_, raw_bytes_}; }

 private:
  friend class GgufParser;
  GgufValueType type_ = GgufValueType::kUint8;
  GgufValueType elem_type_ = GgufValueType::kUint8;
  uint64_t bits_ = 0;
  uint64_t count_ = 0;
  std::string_view str_;
  const uint8_t* raw_ = nullptr;
  size_t raw_bytes_ = 0;
  std::vector<std::string_view> strings_;
  std::vector<GgufValue> items_;
};

struct GgufKv {
  std::string_view key;
  GgufValue value;
  uint64_t file_offset = 0;  // where the key starts
};

constexpr int kGgufMaxDims = 4;

struct GgufTensorInfo {
  std::string_view name;
  uint32_t n_dims = 0;
  // ne[0] is the innermost (contiguous) dimension, as in ggml; unused dims are 1.
  std::array<uint64_t, kGgufMaxDims> ne = {1, 1, 1, 1};
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t info_offset = 0;  // where the tensor info starts in the file
  size_t index = 0;          // position in the file's tensor list
};

class GgufFile {
 public:
  GgufFile() = default;
  GgufFile(GgufFile&&) noexcept = default;
  GgufFile& operator=(GgufFile&&) noexcept = default;

  // Maps and parses `path`. Errors carry the path as context.
  // Maps the file; with `in_memory`, reads it into anonymous (huge-page)
  // memory instead (MappedFile::ReadIntoMemory).
  static Result<GgufFile> Open(const std::string& path, bool in_memory = false);
  // Parses bytes the caller keeps alive for the lifetime of the result.
  static Result<GgufFile> Parse(std::span<const uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute start of the data section
  uint64_t file_size() const { return bytes_.size(); }
  const std::string& path() const { return path_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

  const std::vector<GgufKv>& metadata() const { return kvs_; }
  const GgufValue* Find(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // The bytes of a tensor (bounds were checked at parse time).
  std::span<const uint8_t> TensorData(const GgufTensorInfo& t) const;

  // Typed metadata getters with clear errors ("key 'x' missing", "key 'x' is str, expected an
  // integer").
  Result<std::string_view> GetString(std::string_view key) const;
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<double> GetDouble(std::string_view key) const;

  // Locks the mapped file in RAM (mlock); fails with the OS reason. No-op for Parse()d bytes.
  Status Lock();
  // For a file read into memory (Open with in_memory): lets `fn` rewrite the
  // bytes in place (MappedFile::Rewrite). The parsed metadata and tensor
  // table stay as they were; `fn` must only rearrange tensor data.
  Status RewriteInMemory(const std::function<void(std::span<uint8_t>)>& fn);

  // OK if the engine can compute every tensor's type; otherwise an Unimplemented
  // error naming the first offending tensor and its type.
  Status CheckEngineSupport() const;

 private:
  friend class GgufParser;
  std::unique_ptr<MappedFile> file_;
  std::span<const uint8_t> bytes_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kGgufDefaultAlignment = 32;

}  // namespace hearth
