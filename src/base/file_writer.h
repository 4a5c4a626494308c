// Crash-safe file creation: data goes to "<path>.tmp-<pid>" in the same
// directory; Commit() fsyncs it, renames it over `path` and fsyncs the
// directory. Destroying an uncommitted writer removes the temporary, so a
// failed or interrupted write never leaves a partial file at `path`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace hearth {

class FileWriter {
 public:
  FileWriter() = default;
  ~FileWriter();
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&& other) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  static Result<FileWriter> Create(const std::string& path);

  // Appends bytes (buffered). Errors (disk full) name the file.
  Status Write(const void* data, size_t size);
  Status WriteZeros(size_t count);
  uint64_t bytes_written() const { return written_; }

  // Flushes, fsyncs, renames into place, fsyncs the directory.
  Status Commit();

 private:
  Status Flush();
  void Abandon();

  int fd_ = -1;
  std::string path_;
  std::string tmp_path_;
  std::string buf_;
  uint64_t written_ = 0;
};

}  // namespace hearth
