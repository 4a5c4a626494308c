// SHA-256 (FIPS 180-4): streaming hasher and one-shot helpers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hearth {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Finishes the hash; the object must be Reset() before reuse.
  std::array<uint8_t, 32> Final();
  void Reset();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Lower-case hex of any bytes, and of a 32-byte digest.
std::string HexEncode(const void* data, size_t size);
inline std::string ToHex(const std::array<uint8_t, 32>& digest) {
  return HexEncode(digest.data(), digest.size());
}
std::string Sha256Hex(std::string_view data);
// Hashes a file in 1 MiB reads (files of any size; no mapping).
Result<std::string> Sha256FileHex(const std::string& path);

}  // namespace hearth
