// GGUF v3 writer. Used by `hearth synth` and, later, quantize/convert.
//
// Metadata keeps insertion order (setting an existing key replaces it in
// place). Tensors are written in the order added, each at an offset aligned to
// `general.alignment` (default 32) or at an explicit offset, with zero padding
// between tensors and after the last one. Rewriting a file read by GgufFile
// (WriterFromFile) reproduces it byte for byte.
//
// Tensor data is produced on demand by a Filler, one tensor at a time, so a
// multi-GB model is never held in memory. Write() goes through FileWriter: a
// failure (e.g. disk full) leaves no partial file behind.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "format/gguf.h"

namespace hearth {

class GgufWriter {
 public:
  // Fills the tensor's bytes (exactly GgmlTypeInfo-derived n_bytes).
  using Filler = std::function<Status(std::span<uint8_t> out)>;
  // Progress over tensor data: bytes written so far, total.
  using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

  void set_version(uint32_t version) { version_ = version; }

  void SetUint8(std::string_view key, uint8_t v);
  void SetInt8(std::string_view key, int8_t v);
  void SetUint16(std::string_view key, uint16_t v);
  void SetInt16(std::string_view key, int16_t v);
  void SetUint32(std::string_view key, uint32_t v);
  void SetInt32(std::string_view key, int32_t v);
  void SetUint64(std::string_view key, uint64_t v);
  void SetInt64(std::string_view key, int64_t v);
  void SetFloat32(std::string_view key, float v);
  void SetFloat64(std::string_view key, double v);
  void SetBool(std::string_view key, bool v);
  void SetString(std::string_view key, std::string_view v);
  void SetStringArray(std::string_view key, const std::vector<std::string>& v);
  void SetFloat32Array(std::string_view key, std::span<const float> v);
  void SetInt32Array(std::string_view key, std::span<const int32_t> v);
  // Copies a value read from another file exactly (any type, nested arrays included).
  void SetValue(std::string_view key, const GgufValue& v);
  bool Remove(std::string_view key);
  bool Has(std::string_view key) const;

  // Adds a tensor of shape `ne` (innermost first). Errors: duplicate name, bad
  // rank, row length not a multiple of the type's block size, misaligned or
  // overlapping explicit offset.
  Status AddTensor(std::string_view name, GgmlType type, std::span<const uint64_t> ne, Filler fill,
                   std::optional<uint64_t> offset = std::nullopt);
  // Adds a tensor whose bytes already exist (they must stay alive until Write).
  Status AddTensorBytes(std::string_view name, GgmlType type, std::span<const uint64_t> ne,
                        std::span<const uint8_t> data,
                        std::optional<uint64_t> offset = std::nullopt);

  uint64_t alignment() const;
  // Total size of the file Write() would produce.
  uint64_t FileSize() const;

  Status Write(const std::string& path, const ProgressFn& progress = {}) const;
  Result<std::string> WriteToString() const;

 private:
  struct Entry {
    std::string key;
    std::string encoded;  // u32 type + value bytes
  };
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    uint64_t offset;  // relative to the data section
    uint64_t n_bytes;
    Filler fill;
  };
  class Sink;
  void SetEncoded(std::string_view key, std::string encoded);
  std::string EncodeHeader() const;
  Status WriteTo(Sink& sink, const ProgressFn& progress) const;

  uint32_t version_ = 3;
  std::vector<Entry> entries_;
  std::vector<Tensor> tensors_;
  uint64_t data_end_ = 0;  // end of the last tensor, relative to the data section
};

// A writer holding all of `f`'s metadata and tensors (at their offsets), so that
// Write() reproduces the file. Views `f`'s bytes: `f` must outlive the writer.
Result<GgufWriter> WriterFromFile(const GgufFile& f);

}  // namespace hearth
