#include "base/mapped_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/file_writer.h"
#include "base/strings.h"

namespace hearth {

MappedFile::~MappedFile() {
  if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), map_size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_),
      size_(other.size_),
      map_size_(other.map_size_),
      in_memory_(other.in_memory_),
      path_(std::move(other.path_)) {
  other.data_ = nullptr;
  other.size_ = other.map_size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), map_size_);
    data_ = other.data_;
    size_ = other.size_;
    map_size_ = other.map_size_;
    in_memory_ = other.in_memory_;
    path_ = std::move(other.path_);
    other.data_ = nullptr;
    other.size_ = other.map_size_ = 0;
  }
  return *this;
}

Result<MappedFile> MappedFile::ReadIntoMemory(const std::string& path, bool huge_pages) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(StrFormat("cannot open '%s'", path.c_str()), errno);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    if (err == 0 || S_ISREG(st.st_mode) == 0)
      return InvalidArgumentError(StrFormat("'%s' is not a regular file", path.c_str()),
                                  "os.not_a_file");
    return ErrnoError(StrFormat("cannot stat '%s'", path.c_str()), err);
  }
  MappedFile mf;
  mf.path_ = path;
  mf.size_ = static_cast<size_t>(st.st_size);
  mf.in_memory_ = true;
  if (mf.size_ == 0) {
    ::close(fd);
    return mf;
  }
  constexpr size_t kHuge = size_t{2} << 20;
  mf.map_size_ = (mf.size_ + kHuge - 1) / kHuge * kHuge;
  void* p = mmap(nullptr, mf.map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(
        StrFormat("cannot allocate %s for '%s'", HumanBytes(mf.map_size_).c_str(), path.c_str()),
        err);
  }
  if (huge_pages) madvise(p, mf.map_size_, MADV_HUGEPAGE);
  auto* dst = static_cast<uint8_t*>(p);
  size_t done = 0;
  while (done < mf.size_) {
    const ssize_t n = ::pread(fd, dst + done, std::min<size_t>(mf.size_ - done, size_t{8} << 20),
                              static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      munmap(p, mf.map_size_);
      return ErrnoError(StrFormat("cannot read '%s'", path.c_str()), err);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  mprotect(p, mf.map_size_, PROT_READ);  // read-only from here on, like a mapping
  mf.data_ = dst;
  return mf;
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(StrFormat("cannot open '%s'", path.c_str()), errno);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError(StrFormat("cannot stat '%s'", path.c_str()), err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(StrFormat("'%s' is not a regular file", path.c_str()),
                                "os.not_a_file");
  }
  MappedFile mf;
  mf.path_ = path;
  mf.size_ = static_cast<size_t>(st.st_size);
  if (mf.size_ > 0) {
    void* p = mmap(nullptr, mf.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      mf.size_ = 0;
      return ErrnoError(StrFormat("cannot map '%s'", path.c_str()), err);
    }
    mf.data_ = static_cast<const uint8_t*>(p);
    mf.map_size_ = mf.size_;
  }
  ::close(fd);
  return mf;
}

Status MappedFile::Lock() {
  if (size_ == 0) return Status::Ok();
  if (mlock(data_, size_) != 0) {
    return ErrnoError(StrFormat("cannot lock %s of '%s' in memory (see ulimit -l)",
                                HumanBytes(size_).c_str(), path_.c_str()),
                      errno);
  }
  return Status::Ok();
}

Status MappedFile::Rewrite(const std::function<void(std::span<uint8_t>)>& fn) {
  if (!in_memory_) {
    return FailedPreconditionError(
        StrFormat("'%s' is mapped, not read into memory: it cannot be rewritten", path_.c_str()));
  }
  if (size_ == 0) return Status::Ok();
  auto* p = const_cast<uint8_t*>(data_);
  if (mprotect(p, map_size_, PROT_READ | PROT_WRITE) != 0)
    return ErrnoError(StrFormat("cannot make the memory of '%s' writable", path_.c_str()), errno);
  fn({p, size_});
  // If this fails the bytes stay writable: still the right bytes, so it is
  // not an error worth failing a load for.
  (void)mprotect(p, map_size_, PROT_READ);
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  HEARTH_ASSIGN_OR_RETURN(MappedFile mf, MappedFile::Open(path));
  if (mf.size() > max_bytes) {
    return ResourceExhaustedError(StrFormat("'%s' is %s, more than the limit of %s", path.c_str(),
                                            HumanBytes(mf.size()).c_str(),
                                            HumanBytes(max_bytes).c_str()));
  }
  return std::string(reinterpret_cast<const char*>(mf.data()), mf.size());
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  HEARTH_ASSIGN_OR_RETURN(FileWriter w, FileWriter::Create(path));
  HEARTH_RETURN_IF_ERROR(w.Write(data.data(), data.size()));
  return w.Commit();
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError(StrFormat("cannot list '%s'", dir.c_str()), errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      names.push_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace hearth
