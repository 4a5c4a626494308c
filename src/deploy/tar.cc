// Deterministic ustar writer and fail-closed reader (format: POSIX.1 "ustar
// Interchange Format", plus the GNU magic and GNU base-256 numbers on read).
#include "deploy/tar.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

#include "base/file_writer.h"
#include "base/strings.h"

namespace hearth::deploy {
namespace {

using detail::ByteSource;
using detail::kBlockSize;
using Block = std::array<char, kBlockSize>;

// Header fields: byte offset and length inside the 512-byte header.
struct Field {
  size_t off, len;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChksum{148, 8}, kMagic{257, 6}, kVersion{263, 2}, kUname{265, 32},
    kGname{297, 32}, kDevMajor{329, 8}, kDevMinor{337, 8}, kPrefix{345, 155};
constexpr size_t kTypeflagOff = 156;
constexpr size_t kMaxPrefix = 155, kMaxName = 100;
constexpr uint64_t kOctal11Limit = uint64_t{1} << 33;  // 8^11: 11 octal digits hold < 8 GiB
constexpr size_t kCopyChunk = size_t{1} << 20;         // fixed, never from a header

unsigned long long U(uint64_t v) {
  return static_cast<unsigned long long>(v);
}
uint64_t RoundUpToBlock(uint64_t n) {
  return (n + kBlockSize - 1) / kBlockSize * kBlockSize;
}

std::string_view FieldView(const Block& b, Field f) {
  return {b.data() + f.off, f.len};
}
// A string field's bytes up to its first NUL (the whole field when it has none).
std::string_view CString(const Block& b, Field f) {
  std::string_view v = FieldView(b, f);
  return v.substr(0, v.find('\0'));
}

// Writes `v` as len-1 zero-padded octal digits and a NUL (the caller checks it fits).
void PutOctal(char* field, size_t len, uint64_t v) {
  field[len - 1] = '\0';
  for (size_t i = len - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
}
void PutOctal(Block& b, Field f, uint64_t v) {
  PutOctal(b.data() + f.off, f.len, v);
}
void PutString(Block& b, Field f, std::string_view s) {
  if (!s.empty()) std::memcpy(b.data() + f.off, s.data(), s.size());  // data() may be null
}

// The header checksum: the sum of all 512 bytes with the checksum field read as
// spaces, as unsigned bytes (the standard) and as signed bytes (historic tars).
void HeaderSums(const Block& b, int64_t* unsigned_sum, int64_t* signed_sum) {
  *unsigned_sum = *signed_sum = 0;
  for (size_t i = 0; i < kBlockSize; ++i) {
    const char c = (i >= kChksum.off && i < kChksum.off + kChksum.len) ? ' ' : b[i];
    *unsigned_sum += static_cast<uint8_t>(c);
    *signed_sum += static_cast<int8_t>(c);
  }
}

// Why `path` is not a valid member path, or nullptr.
const char* PathProblem(std::string_view path) {
  if (path.empty()) return "empty";
  if (path.size() > 255) return "longer than 255 bytes";
  if (path[0] == '/') return "absolute (leading '/')";
  for (char ch : path) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x20 || c == 0x7f) return "contains a NUL or control character";
    if (c == '\\') return "contains a backslash";
  }
  for (std::string_view comp : StrSplit(path, '/')) {
    if (comp.empty()) return "has an empty component ('//' or a trailing '/')";
    if (comp == "." || comp == "..") return "has a '.' or '..' component";
  }
  return nullptr;
}

// Splits a header name (directories keep their trailing '/') into the ustar
// prefix and name fields at the first '/' that makes the rest fit in 100 bytes.
bool SplitName(std::string_view full, std::string_view* prefix, std::string_view* name) {
  *prefix = {};
  *name = full;
  if (full.size() <= kMaxName) return true;
  for (size_t i = 1; i < full.size() && i <= kMaxPrefix; ++i) {
    if (full[i] != '/' || full.size() - i - 1 > kMaxName || i + 1 == full.size()) continue;
    *prefix = full.substr(0, i);
    *name = full.substr(i + 1);
    return true;
  }
  return false;
}

Block MakeHeader(std::string_view full, bool is_dir, uint64_t size) {
  Block b{};
  std::string_view prefix, name;
  SplitName(full, &prefix, &name);  // checked by WriteTar before anything is written
  PutString(b, kName, name);
  PutOctal(b, kMode, is_dir ? 0755 : 0644);
  PutOctal(b, kUid, 0);
  PutOctal(b, kGid, 0);
  detail::EncodeSizeField(size, b.data() + kSize.off);
  PutOctal(b, kMtime, 0);
  b[kTypeflagOff] = is_dir ? '5' : '0';
  PutString(b, kMagic, std::string_view("ustar\0", 6));
  PutString(b, kVersion, "00");
  PutString(b, kUname, "root");
  PutString(b, kGname, "root");
  PutOctal(b, kDevMajor, 0);
  PutOctal(b, kDevMinor, 0);
  PutString(b, kPrefix, prefix);
  int64_t sum, signed_sum;
  HeaderSums(b, &sum, &signed_sum);
  std::memset(b.data() + kChksum.off, ' ', kChksum.len);
  PutOctal(b.data() + kChksum.off, 7, static_cast<uint64_t>(sum));  // "dddddd\0 "
  return b;
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Status WriteAll(int fd, const char* p, size_t n, const std::string& what) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return ErrnoError(StrFormat("writing '%s'", what.c_str()), errno);
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Copies exactly `size` bytes of the source file into the archive.
Status CopySource(const std::string& source, uint64_t size, FileWriter& out, std::vector<char>& buf,
                  uint64_t* done, uint64_t total, const TarProgress& on_progress) {
  UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(StrFormat("opening '%s'", source.c_str()), errno);
  const Status changed = FailedPreconditionError(
      StrFormat("tar: source '%s' changed while it was being archived", source.c_str()));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat of '" + source + "'", errno);
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size) return changed;
  for (uint64_t left = size; left > 0;) {
    const ssize_t n = ::read(fd.get(), buf.data(), std::min<uint64_t>(left, buf.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(StrFormat("reading '%s'", source.c_str()), errno);
    if (n == 0) return changed;
    HEARTH_RETURN_IF_ERROR(out.Write(buf.data(), static_cast<size_t>(n)));
    left -= static_cast<uint64_t>(n);
    *done += static_cast<uint64_t>(n);
    if (on_progress) on_progress(*done, total);
  }
  char extra;
  if (::read(fd.get(), &extra, 1) != 0) return changed;  // grew (or failed) after fstat
  return out.WriteZeros(RoundUpToBlock(size) - size);
}

// Reads an archive file with pread; the size is fixed when it is opened.
class FileSource : public ByteSource {
 public:
  static Result<FileSource> Open(const std::string& path) {
    // O_NONBLOCK: opening a FIFO must not hang; it is then refused as not regular.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) return ErrnoError(StrFormat("opening '%s'", path.c_str()), errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat of '" + path + "'", errno);
    if (!S_ISREG(st.st_mode))
      return FailedPreconditionError(StrFormat("tar: '%s' is not a regular file", path.c_str()));
    return FileSource(std::move(fd), static_cast<uint64_t>(st.st_size));
  }
  uint64_t size() const override { return size_; }

 protected:
  Status ReadInRange(uint64_t offset, void* out, size_t n) const override {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
      const ssize_t r = ::pread(fd_.get(), p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoError("reading the archive", errno);
      if (r == 0)
        return DataLossError(
            StrFormat("tar: archive shrank while being read (byte %llu)", U(offset)),
            "tar.truncated");
      p += r;
      n -= static_cast<size_t>(r);
      offset += static_cast<uint64_t>(r);
    }
    return Status::Ok();
  }

 private:
  FileSource(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
  UniqueFd fd_;
  uint64_t size_;
};

// "tar: member 'x' (header at byte N): what", or "tar: header at byte N: what".
Status HeaderError(uint64_t off, std::string_view name, const std::string& what,
                   const char* reason) {
  const std::string who = name.empty() ? StrFormat("header at byte %llu", U(off))
                                       : StrFormat("member '%s' (header at byte %llu)",
                                                   EscapeForDisplay(name, 300).c_str(), U(off));
  return DataLossError("tar: " + who + ": " + what, reason);
}

const char* TypeName(char t) {
  // clang-format off
  static constexpr std::pair<char, const char*> kNames[] = {
      {'1', "hard link"}, {'2', "symbolic link"}, {'3', "character device"},
      {'4', "block device"}, {'6', "fifo"}, {'7', "contiguous file"},
      {'x', "pax extended header"}, {'g', "pax global header"}, {'L', "GNU long name"},
      {'K', "GNU long link name"}, {'S', "GNU sparse file"}, {'V', "GNU volume label"}};
  // clang-format on
  for (const auto& [c, name] : kNames) {
    if (c == t) return name;
  }
  return "unknown type";
}

// Parses and checks one non-zero header at byte `off` of an archive of `total` bytes.
Result<TarMember> ParseHeader(const Block& b, uint64_t off, uint64_t total) {
  const std::string_view raw_name = CString(b, kName);
  const std::string_view magic = FieldView(b, kMagic), version = FieldView(b, kVersion);
  const bool posix = magic == std::string_view("ustar\0", 6) && version == "00";
  const bool gnu = magic == "ustar " && version == std::string_view(" \0", 2);
  if (!posix && !gnu)
    return HeaderError(off, raw_name, "not a ustar header (bad magic)", "tar.bad_magic");
  uint64_t stored;
  if (!detail::DecodeNumericField(FieldView(b, kChksum), false, &stored))
    return HeaderError(off, raw_name, "checksum field is not octal", "tar.bad_checksum");
  int64_t sum, signed_sum;
  HeaderSums(b, &sum, &signed_sum);
  if (static_cast<int64_t>(stored) != sum && static_cast<int64_t>(stored) != signed_sum)
    return HeaderError(off, raw_name,
                       StrFormat("checksum mismatch (stored %llo, computed %llo)", U(stored),
                                 U(static_cast<uint64_t>(sum))),
                       "tar.bad_checksum");

  // The old GNU format keeps other data where ustar has the prefix.
  std::string path(raw_name);
  if (posix && b[kPrefix.off] != '\0') path = std::string(CString(b, kPrefix)) + "/" + path;
  const char type = b[kTypeflagOff];
  if (type != '0' && type != '\0' && type != '5')
    return HeaderError(
        off, path,
        StrFormat("unsupported member type '%s' (%s)",
                  EscapeForDisplay(std::string_view(&type, 1)).c_str(), TypeName(type)),
        "tar.unsupported_type");
  uint64_t ignored, size;
  const std::pair<Field, const char*> numeric[] = {
      {kMode, "mode"}, {kUid, "uid"}, {kGid, "gid"}, {kMtime, "mtime"}};
  for (const auto& [field, label] : numeric) {
    if (!detail::DecodeNumericField(FieldView(b, field), true, &ignored))
      return HeaderError(off, path, StrFormat("%s field is not octal", label), "tar.bad_number");
  }
  if (!detail::DecodeNumericField(FieldView(b, kSize), true, &size))
    return HeaderError(off, path, "size field is not octal", "tar.bad_number");

  TarMember m;
  m.is_dir = type == '5';
  if (m.is_dir && !path.empty() && path.back() == '/') path.pop_back();
  if (m.is_dir && size != 0)
    return HeaderError(off, path, StrFormat("directory with a non-zero size (%llu)", U(size)),
                       "tar.bad_header");
  if (const char* why = PathProblem(path)) {
    return InvalidArgumentError(StrFormat("tar: member '%s' (header at byte %llu): bad path: %s",
                                          EscapeForDisplay(path, 300).c_str(), U(off), why),
                                "tar.bad_path");
  }
  m.path = std::move(path);
  m.data_offset = off + kBlockSize;
  m.size = size;
  if (size > total - m.data_offset)
    return HeaderError(off, m.path,
                       StrFormat("data (%llu bytes at byte %llu) runs past the end of the "
                                 "archive (%llu bytes)",
                                 U(size), U(m.data_offset), U(total)),
                       "tar.truncated");
  return m;
}

// Everything after the end marker must be zero bytes.
Status CheckTrailingZeros(const ByteSource& src, uint64_t marker) {
  std::vector<char> buf(64 << 10);
  for (uint64_t off = marker + kBlockSize; off < src.size();) {
    const size_t n = std::min<uint64_t>(buf.size(), src.size() - off);
    HEARTH_RETURN_IF_ERROR(src.ReadAt(off, buf.data(), n));
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != 0)
        return DataLossError(StrFormat("tar: non-zero byte at %llu after the end-of-archive "
                                       "marker at byte %llu",
                                       U(off + i), U(marker)),
                             "tar.trailing_data");
    }
    off += n;
  }
  return Status::Ok();
}

Status DestError(const std::string& what, const char* reason) {
  return FailedPreconditionError("tar: " + what, reason);
}

// Opens the directory made of the first `count` components of `comps` under
// `root`, creating missing ones (0755; the parent is fsynced when `sync`) and
// refusing any component that is a symlink or not a directory.
Result<UniqueFd> OpenDirUnder(int root, const std::vector<std::string_view>& comps, size_t count,
                              bool sync) {
  UniqueFd cur(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (cur.get() < 0) return ErrnoError("dup", errno);
  std::string rel;
  for (size_t i = 0; i < count; ++i) {
    const std::string comp(comps[i]);
    rel += (rel.empty() ? "" : "/") + comp;
    struct stat st;
    bool created = false;
    if (::fstatat(cur.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISLNK(st.st_mode))
        return DestError("'" + rel + "' in the destination is a symlink", "tar.unsafe_dest");
      if (!S_ISDIR(st.st_mode))
        return DestError("'" + rel + "' in the destination is not a directory", "tar.unsafe_dest");
    } else if (errno == ENOENT) {
      if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST)
        return ErrnoError("creating directory '" + rel + "'", errno);
      if (sync && ::fsync(cur.get()) != 0) return ErrnoError("syncing a directory", errno);
      created = true;
    } else {
      return ErrnoError("stat of '" + rel + "'", errno);
    }
    UniqueFd next(
        ::openat(cur.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0 && (errno == ELOOP || errno == ENOTDIR))
      return DestError("'" + rel + "' in the destination is not a plain directory",
                       "tar.unsafe_dest");
    if (next.get() < 0) return ErrnoError("opening directory '" + rel + "'", errno);
    if (created && ::fchmod(next.get(), 0755) != 0)
      return ErrnoError("chmod of '" + rel + "'", errno);
    cur = std::move(next);
  }
  return cur;
}

Status ExtractFile(const ByteSource& src, const TarMember& m, int parent, std::string_view leaf,
                   bool sync, std::vector<char>& buf, uint64_t* done, uint64_t total,
                   const TarProgress& on_progress) {
  const std::string name(leaf);
  UniqueFd fd(
      ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (fd.get() < 0 && errno == EEXIST)
    return DestError("'" + m.path + "' already exists in the destination", "tar.unsafe_dest");
  if (fd.get() < 0) return ErrnoError("creating '" + m.path + "'", errno);
  if (::fchmod(fd.get(), 0644) != 0) return ErrnoError("chmod of '" + m.path + "'", errno);
  for (uint64_t pos = 0; pos < m.size;) {
    const size_t n = std::min<uint64_t>(buf.size(), m.size - pos);
    HEARTH_RETURN_IF_ERROR(src.ReadAt(m.data_offset + pos, buf.data(), n));
    HEARTH_RETURN_IF_ERROR(WriteAll(fd.get(), buf.data(), n, m.path));
    pos += n;
    *done += n;
    if (on_progress) on_progress(*done, total);
  }
  // close() errors on a local file system only follow a failed write or fsync.
  if (sync && (::fsync(fd.get()) != 0 || ::fsync(parent) != 0))
    return ErrnoError("syncing '" + m.path + "'", errno);
  return Status::Ok();
}

}  // namespace

Status ValidateMemberPath(std::string_view path) {
  if (const char* why = PathProblem(path)) {
    return InvalidArgumentError(
        StrFormat("tar: bad member path '%s': %s", EscapeForDisplay(path, 300).c_str(), why),
        "tar.bad_path");
  }
  return Status::Ok();
}

Status WriteTar(const std::string& out_path, std::vector<TarInput> inputs,
                const TarProgress& on_progress) {
  std::sort(inputs.begin(), inputs.end(),
            [](const TarInput& a, const TarInput& b) { return a.path < b.path; });
  std::set<std::string> files;
  for (const TarInput& in : inputs) {
    HEARTH_RETURN_IF_ERROR(ValidateMemberPath(in.path));
    if (!files.insert(in.path).second)
      return InvalidArgumentError("tar: duplicate member path '" + in.path + "'", "tar.duplicate");
  }
  // The plan: header names ("dir/" for directories) with their files' sizes.
  struct Entry {
    std::string name;
    const TarInput* input;  // null for a directory
    uint64_t size;
  };
  std::vector<Entry> plan;
  auto add = [&plan](std::string name, const TarInput* input, uint64_t size) {
    std::string_view prefix, field;
    if (!SplitName(name, &prefix, &field))
      return InvalidArgumentError("tar: path '" + name + "' does not fit the ustar name fields " +
                                      "(prefix <= 155 and name <= 100 bytes, split at a '/')",
                                  "tar.bad_path");
    plan.push_back({std::move(name), input, size});
    return Status::Ok();
  };
  std::set<std::string> dirs;
  uint64_t total = 0;
  for (const TarInput& in : inputs) {
    for (size_t slash = in.path.find('/'); slash != std::string::npos;
         slash = in.path.find('/', slash + 1)) {
      std::string dir = in.path.substr(0, slash);
      if (files.count(dir) != 0)
        return InvalidArgumentError(
            "tar: '" + dir + "' is both a file and the parent of '" + in.path + "'",
            "tar.conflict");
      if (dirs.insert(dir).second) HEARTH_RETURN_IF_ERROR(add(dir + "/", nullptr, 0));
    }
    struct stat st;
    if (::stat(in.source_path.c_str(), &st) != 0)
      return ErrnoError(StrFormat("stat of '%s'", in.source_path.c_str()), errno);
    if (!S_ISREG(st.st_mode))
      return FailedPreconditionError("tar: source '" + in.source_path + "' is not a regular file");
    HEARTH_RETURN_IF_ERROR(add(in.path, &in, static_cast<uint64_t>(st.st_size)));
    total += static_cast<uint64_t>(st.st_size);
  }
  HEARTH_ASSIGN_OR_RETURN(FileWriter out, FileWriter::Create(out_path));
  std::vector<char> buf(kCopyChunk);
  uint64_t done = 0;
  if (on_progress) on_progress(0, total);
  for (const Entry& e : plan) {
    const Block header = MakeHeader(e.name, e.input == nullptr, e.size);
    HEARTH_RETURN_IF_ERROR(out.Write(header.data(), header.size()));
    if (e.input != nullptr) {
      HEARTH_RETURN_IF_ERROR(
          CopySource(e.input->source_path, e.size, out, buf, &done, total, on_progress));
    }
  }
  HEARTH_RETURN_IF_ERROR(out.WriteZeros(2 * kBlockSize));  // end-of-archive marker
  return out.Commit();
}

Result<std::vector<TarMember>> ListTar(const std::string& tar_path) {
  const std::string context = StrFormat("reading '%s'", tar_path.c_str());
  auto src = FileSource::Open(tar_path);
  if (!src.ok()) return std::move(src).status().WithContext(context);
  auto members = detail::ListTarFrom(*src);
  if (!members.ok()) return std::move(members).status().WithContext(context);
  return members;
}

Status ExtractTar(const std::string& tar_path, const std::string& dest_dir,
                  const TarProgress& on_progress) {
  const std::string context = StrFormat("extracting '%s'", tar_path.c_str());
  auto src = FileSource::Open(tar_path);
  if (!src.ok()) return std::move(src).status().WithContext(context);
  return detail::ExtractTarFrom(*src, dest_dir, on_progress).WithContext(context);
}

namespace detail {

Status ByteSource::ReadAt(uint64_t offset, void* out, size_t n) const {
  if (offset > size() || n > size() - offset)
    return DataLossError(StrFormat("tar: read past the end of the archive at byte %llu", U(offset)),
                         "tar.truncated");
  return ReadInRange(offset, out, n);
}

void EncodeSizeField(uint64_t value, char field[12]) {
  if (value < kOctal11Limit) return PutOctal(field, 12, value);
  field[0] = static_cast<char>(0x80);
  for (size_t i = 11; i >= 1; --i, value >>= 8) field[i] = static_cast<char>(value & 0xff);
}

bool DecodeNumericField(std::string_view f, bool allow_base256, uint64_t* out) {
  if (f.empty()) return false;
  if (static_cast<uint8_t>(f[0]) & 0x80) {
    if (!allow_base256 || static_cast<uint8_t>(f[0]) != 0x80) return false;
    uint64_t v = 0;
    for (size_t i = 1; i < f.size(); ++i) {
      if (v >> 56) return false;  // more than 64 bits
      v = (v << 8) | static_cast<uint8_t>(f[i]);
    }
    *out = v;
    return true;
  }
  size_t i = 0;
  while (i < f.size() && f[i] == ' ') ++i;
  const size_t first_digit = i;
  uint64_t v = 0;
  for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v >> 61) return false;  // more than 64 bits
    v = v * 8 + static_cast<uint64_t>(f[i] - '0');
  }
  if (i == first_digit) return false;
  for (; i < f.size(); ++i) {
    if (f[i] != '\0' && f[i] != ' ') return false;
  }
  *out = v;
  return true;
}

Result<std::vector<TarMember>> ListTarFrom(const ByteSource& src) {
  const uint64_t total = src.size();
  if (total == 0) return DataLossError("tar: archive is empty (0 bytes)", "tar.empty");
  std::vector<TarMember> members;
  std::vector<uint64_t> header_at;                  // parallel to members
  std::unordered_map<std::string, size_t> by_path;  // path -> index in members
  Block b;
  for (uint64_t off = 0;;) {
    if (off >= total || total - off < kBlockSize) {
      return DataLossError(StrFormat("tar: archive ends at byte %llu without an end-of-archive "
                                     "marker (expected a header or zero block at byte %llu)",
                                     U(total), U(off)),
                           "tar.truncated");
    }
    HEARTH_RETURN_IF_ERROR(src.ReadAt(off, b.data(), kBlockSize));
    if (std::all_of(b.begin(), b.end(), [](char c) { return c == 0; })) {
      HEARTH_RETURN_IF_ERROR(CheckTrailingZeros(src, off));
      break;
    }
    HEARTH_ASSIGN_OR_RETURN(TarMember m, ParseHeader(b, off, total));
    if (!by_path.emplace(m.path, members.size()).second) {
      return HeaderError(
          off, m.path,
          StrFormat("duplicate path (first at byte %llu)", U(header_at[by_path[m.path]])),
          "tar.duplicate");
    }
    const uint64_t next = m.data_offset + RoundUpToBlock(m.size);  // no overflow: size <= total
    members.push_back(std::move(m));
    header_at.push_back(off);
    off = next;
  }
  // A regular file may not also be the parent directory of another member.
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string& p = members[i].path;
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      auto it = by_path.find(p.substr(0, slash));
      if (it == by_path.end() || members[it->second].is_dir) continue;
      return HeaderError(header_at[it->second], members[it->second].path,
                         StrFormat("is a file but member '%s' (header at byte %llu) needs it to "
                                   "be a directory",
                                   EscapeForDisplay(p, 300).c_str(), U(header_at[i])),
                         "tar.conflict");
    }
  }
  return members;
}

Status ExtractTarFrom(const ByteSource& src, const std::string& dest_dir,
                      const TarProgress& on_progress, bool sync) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<TarMember> members, ListTarFrom(src));
  UniqueFd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0)
    return DestError(StrFormat("destination '%s' is not an existing directory: %s",
                               dest_dir.c_str(), std::strerror(errno)),
                     "tar.no_dest");
  {  // The destination must be empty.
    DIR* d = ::fdopendir(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
    if (d == nullptr) return ErrnoError("listing '" + dest_dir + "'", errno);
    bool empty = true;
    while (const dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    }
    ::closedir(d);
    if (!empty)
      return DestError("destination '" + dest_dir + "' is not empty", "tar.dest_not_empty");
  }
  uint64_t total = 0, done = 0;
  for (const TarMember& m : members) total += m.size;
  if (on_progress) on_progress(0, total);
  std::vector<char> buf(kCopyChunk);
  for (const TarMember& m : members) {
    HEARTH_RETURN_IF_ERROR(ValidateMemberPath(m.path));
    const std::vector<std::string_view> comps = StrSplit(m.path, '/');
    const size_t parents = m.is_dir ? comps.size() : comps.size() - 1;
    HEARTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenDirUnder(root.get(), comps, parents, sync));
    if (m.is_dir) continue;
    HEARTH_RETURN_IF_ERROR(
        ExtractFile(src, m, dir.get(), comps.back(), sync, buf, &done, total, on_progress));
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace hearth::deploy
