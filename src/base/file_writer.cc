#include "base/file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/strings.h"

namespace hearth {
namespace {
constexpr size_t kBufferBytes = size_t{4} << 20;

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

FileWriter::~FileWriter() {
  Abandon();
}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      tmp_path_(std::move(other.tmp_path_)),
      buf_(std::move(other.buf_)),
      written_(other.written_) {
  other.fd_ = -1;
}

FileWriter& FileWriter::operator=(FileWriter&& other) noexcept {
  if (this != &other) {
    Abandon();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    tmp_path_ = std::move(other.tmp_path_);
    buf_ = std::move(other.buf_);
    written_ = other.written_;
    other.fd_ = -1;
  }
  return *this;
}

void FileWriter::Abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
    fd_ = -1;
  }
}

Result<FileWriter> FileWriter::Create(const std::string& path) {
  FileWriter w;
  w.path_ = path;
  w.tmp_path_ = StrFormat("%s.tmp-%d", path.c_str(), static_cast<int>(getpid()));
  w.fd_ = ::open(w.tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return ErrnoError(StrFormat("cannot create '%s'", w.tmp_path_.c_str()), errno);
  w.buf_.reserve(kBufferBytes);
  return w;
}

Status FileWriter::Write(const void* data, size_t size) {
  if (fd_ < 0) return FailedPreconditionError("write to a closed file");
  const char* p = static_cast<const char*>(data);
  written_ += size;
  if (buf_.size() + size <= kBufferBytes) {
    buf_.append(p, size);
    return Status::Ok();
  }
  HEARTH_RETURN_IF_ERROR(Flush());
  if (size >= kBufferBytes) {
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(StrFormat("writing '%s'", path_.c_str()), errno);
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  buf_.append(p, size);
  return Status::Ok();
}

Status FileWriter::WriteZeros(size_t count) {
  static const char kZeros[4096] = {};
  while (count > 0) {
    size_t n = count < sizeof(kZeros) ? count : sizeof(kZeros);
    HEARTH_RETURN_IF_ERROR(Write(kZeros, n));
    count -= n;
  }
  return Status::Ok();
}

Status FileWriter::Flush() {
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(StrFormat("writing '%s'", path_.c_str()), errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buf_.clear();
  return Status::Ok();
}

Status FileWriter::Commit() {
  if (fd_ < 0) return FailedPreconditionError("commit of a closed file");
  Status st = Flush();
  if (st.ok() && ::fsync(fd_) != 0)
    st = ErrnoError(StrFormat("syncing '%s'", path_.c_str()), errno);
  if (!st.ok()) {
    Abandon();
    return st;
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    return ErrnoError(StrFormat("renaming into '%s'", path_.c_str()), err);
  }
  int dfd = ::open(DirName(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace hearth
