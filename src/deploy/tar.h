// Deterministic POSIX ustar archives (writer) and a fail-closed reader.
//
// Model bundles ship as tar files. The writer is deterministic: the same
// member paths and file bytes always give the same archive, whatever the
// input order or the source files' mtimes, modes and owners. The reader treats
// every archive as untrusted: it validates all headers before anything is
// extracted, never allocates from a header's size, reads in bounded chunks,
// and never writes outside the destination directory.
//
// Archive layout written (and the subset read back):
//   [512-byte header][data padded to 512] ... [zero block][zero block]
// Only regular files (typeflag '0', or '\0' when reading) and directories
// ('5') exist; links, devices, fifos and pax/GNU extension headers are refused.
// Also accepted on read: the GNU magic "ustar  \0" (whose prefix area holds
// other data, so it is ignored), the historic signed-byte checksum, octal
// fields led by spaces, and GNU base-256 numbers (positive only). Refused: a
// directory entry with a non-zero size ("tar.bad_header").
//
// End-of-archive policy (reader): the archive must contain an end marker, a
// zero block, after the last member; an archive that simply stops after a
// member's data (even on a block boundary) is refused as "tar.truncated", so a
// cut at any member boundary is detected. One zero block is enough (the writer
// emits two; losing the second loses no data). Every byte after the end
// marker must be zero (GNU tar pads to 10240 bytes with zeros); a non-zero
// byte there is refused as "tar.trailing_data", since it may be a second
// archive whose members other tools would see and we would not.
//
// Error reasons (Status::reason()): "tar.bad_path" (InvalidArgument), and as
// DataLoss: "tar.empty", "tar.truncated", "tar.bad_magic", "tar.bad_checksum",
// "tar.bad_number", "tar.bad_header", "tar.unsupported_type", "tar.duplicate",
// "tar.conflict" (a path is both a file and a directory), "tar.trailing_data".
// ExtractTar adds, as FailedPrecondition, "tar.no_dest", "tar.dest_not_empty"
// and "tar.unsafe_dest".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hearth::deploy {

// Called as file data is copied with (bytes_done, bytes_total) over the data
// of all regular files; first with (0, total), last with (total, total).
using TarProgress = std::function<void(uint64_t, uint64_t)>;

struct TarInput {
  std::string path;         // member name inside the archive, relative, '/' separated
  std::string source_path;  // regular file on disk whose bytes are stored
};

// Writes a deterministic ustar archive at `out_path` atomically (FileWriter:
// nothing appears at out_path unless the whole archive was written and synced).
// Members are sorted bytewise by path; the directories implied by the paths
// are emitted once each as typeflag '5' entries ("dir/") right before their
// first member. Files get mode 0644, directories 0755; uid/gid 0, uname/gname
// "root", mtime 0. Names longer than 100 bytes use the ustar prefix field.
// File sizes >= 8 GiB use the GNU base-256 size encoding. The archive ends
// with two zero blocks; it is not padded to a 10240-byte record.
// Errors: InvalidArgument "tar.bad_path" (ValidateMemberPath, or a name that
// cannot be split into prefix + name), "tar.duplicate", "tar.conflict" (a path
// is both a file and a parent directory) — all checked before anything is
// written; FailedPrecondition when a source is not a regular file or changes
// size while being copied; I/O errors name the file.
Status WriteTar(const std::string& out_path, std::vector<TarInput> inputs,
                const TarProgress& on_progress = {});

struct TarMember {
  std::string path;  // normalized (no trailing '/')
  bool is_dir = false;
  uint64_t data_offset = 0;  // byte offset of the member's data in the tar file
  uint64_t size = 0;         // 0 for directories
};

// Lists an archive's members in archive order after validating all of it
// (headers, checksums, paths, duplicates, bounds, end marker; see above).
// Errors name the member (when known) and the byte offset of its header, e.g.
//   "reading 'b.tar': tar: member 'model.gguf' (header at byte 1536): size field is not octal"
Result<std::vector<TarMember>> ListTar(const std::string& tar_path);

// Validates the archive (as ListTar), then extracts it into `dest_dir`, which
// must exist and be empty (else FailedPrecondition "tar.no_dest" /
// "tar.dest_not_empty").
// Directories are created 0755 and files 0644 (independent of the umask);
// each file and each directory that gained entries is fsynced. Nothing is
// written outside dest_dir: paths are re-validated, every component is opened
// relative to its parent with O_NOFOLLOW, files are created with O_EXCL, and a
// component that exists as a symlink is refused ("tar.unsafe_dest").
// On failure partway, dest_dir is left with whatever was extracted so far:
// the caller deletes it (extract into a fresh staging directory).
Status ExtractTar(const std::string& tar_path, const std::string& dest_dir,
                  const TarProgress& on_progress = {});

// A member path is valid when: non-empty, at most 255 bytes, relative (no
// leading '/'), '/'-separated components that are each non-empty (no "//", no
// trailing '/'), not "." and not "..", with no NUL or control characters
// (< 0x20, 0x7f) and no backslash. (The reader strips one trailing '/' from
// directory names before validating.) Error: InvalidArgument "tar.bad_path"
// naming the path and why.
Status ValidateMemberPath(std::string_view path);

// Internals exposed for tests and the fuzz target.
namespace detail {

inline constexpr size_t kBlockSize = 512;

// Random-access read-only bytes: an open file (pread) or a memory buffer.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly `n` bytes at `offset`. Fails with DataLoss "tar.truncated"
  // if the range is not inside the source (or a file shrank), IoError if the
  // OS refuses.
  Status ReadAt(uint64_t offset, void* out, size_t n) const;

 protected:
  // Called only with a range inside [0, size()).
  virtual Status ReadInRange(uint64_t offset, void* out, size_t n) const = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const void* data, size_t size)
      : data_(static_cast<const uint8_t*>(data)), size_(size) {}
  uint64_t size() const override { return size_; }

 protected:
  Status ReadInRange(uint64_t offset, void* out, size_t n) const override {
    if (n > 0) std::memcpy(out, data_ + offset, n);
    return Status::Ok();
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

// ListTar / ExtractTar over any source. `sync` = false skips the fsyncs (fuzzing).
Result<std::vector<TarMember>> ListTarFrom(const ByteSource& src);
Status ExtractTarFrom(const ByteSource& src, const std::string& dest_dir,
                      const TarProgress& on_progress, bool sync = true);

// Encodes `value` into a 12-byte size field: 11 octal digits + NUL when
// value < 8 GiB, else GNU base-256 (0x80, then the value big-endian).
void EncodeSizeField(uint64_t value, char field[12]);

// Decodes a numeric header field: octal digits, optionally led by spaces and
// ended by NUL or space (the digits may also fill the field), or GNU base-256
// when `allow_base256` (first byte 0x80; negative values are refused). False
// on anything else, including an empty field or a value over 64 bits.
bool DecodeNumericField(std::string_view field, bool allow_base256, uint64_t* out);

}  // namespace detail
}  // namespace hearth::deploy
