// Read-only memory map of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace hearth {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` read-only (MAP_PRIVATE). A regular file is required; an empty
  // file maps to an empty span. Errors name the path and the OS reason.
  static Result<MappedFile> Open(const std::string& path);
  // Reads `path` whole into private anonymous memory (read-only afterwards)
  // instead of mapping it: the bytes no longer depend on the page cache (which
  // the kernel may evict under memory pressure, stalling the next token), and
  // with `huge_pages` the memory is advised as transparent huge pages (fewer
  // TLB misses when streaming weights). No file mapping is kept, so resident
  // memory is the file's size, not twice it.
  static Result<MappedFile> ReadIntoMemory(const std::string& path, bool huge_pages = true);
  bool in_memory() const { return in_memory_; }

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Locks the pages in RAM (mlock). Fails with the OS reason (often RLIMIT_MEMLOCK).
  Status Lock();
  // Memory from ReadIntoMemory only: writable while `fn` runs (e.g. to repack
  // weights in place), read-only again afterwards. A file mapping is refused
  // (writing would copy its pages and keep the file's besides).
  Status Rewrite(const std::function<void(std::span<uint8_t>)>& fn);

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t map_size_ = 0;  // bytes mapped (size_ rounded up for anonymous memory)
  bool in_memory_ = false;
  std::string path_;
};

// Reads a whole file into a string (for small text files: JSON, templates).
// Refuses files larger than `max_bytes`.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = size_t{1} << 31);

// Writes `data` to `path` atomically: a temporary file in the same directory,
// fsync, rename over `path`, fsync of the directory. On failure nothing is
// left at `path` that was not there before, and the temporary is removed.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// The entry names of a directory ("." and ".." left out), sorted bytewise.
// Errors name the directory and the OS reason.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);

}  // namespace hearth
