// libFuzzer target for the tar reader (src/deploy/tar.h; see docs/fuzzing.md).
//
// The input is read from memory (detail::MemorySource), so no temporary file
// is needed to list it. Any input must either be refused with a "tar.*"
// status (DataLoss, or InvalidArgument for "tar.bad_path") and a "tar: ..."
// message, or list into members that keep the reader's promises: valid unique
// paths, no file that is also a parent, data inside the input on block
// boundaries and in increasing order. A listed archive with little data is
// then extracted (without fsync) into a fresh directory under this process's
// scratch directory in /tmp: extraction must succeed, every file must hold
// exactly its bytes from the input, the tree must hold nothing else, and
// nothing may appear beside it. Violations abort.
//
// Random mutations almost always break a header checksum, which hides the
// checks behind it; so each input is also tried with the checksum of every
// block that carries the "ustar" magic recomputed.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "base/mapped_file.h"
#include "deploy/tar.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

constexpr uint64_t kMaxExtractBytes = 1 << 20;
constexpr size_t kMaxExtractMembers = 256;

// This process's scratch directory, removed at exit.
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/hearth-tar-fuzz-XXXXXX";
    FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(ScratchDir(), ec);
    });
    return new std::string(tmpl);
  }();
  return *dir;
}

// The members' paths and all their ancestors: what extraction must create.
std::set<std::string> ExpectedTree(const std::vector<TarMember>& members) {
  std::set<std::string> tree;
  for (const TarMember& m : members) {
    for (size_t s = m.path.find('/'); s != std::string::npos; s = m.path.find('/', s + 1)) {
      tree.insert(m.path.substr(0, s));
    }
    tree.insert(m.path);
  }
  return tree;
}

void CheckMembers(size_t size, const std::vector<TarMember>& members) {
  std::set<std::string> paths, files;
  uint64_t next_free = detail::kBlockSize;  // data starts after at least one header
  for (const TarMember& m : members) {
    FUZZ_CHECK(ValidateMemberPath(m.path).ok());
    FUZZ_CHECK(paths.insert(m.path).second);
    if (!m.is_dir) files.insert(m.path);
    FUZZ_CHECK(!m.is_dir || m.size == 0);
    FUZZ_CHECK(m.data_offset % detail::kBlockSize == 0);
    FUZZ_CHECK(m.data_offset >= next_free);
    FUZZ_CHECK(m.data_offset <= size && m.size <= size - m.data_offset);
    next_free = m.data_offset + m.size + detail::kBlockSize;  // + the next header
  }
  for (const std::string& p : ExpectedTree(members)) {
    if (paths.count(p) == 0) continue;
    for (size_t s = p.find('/'); s != std::string::npos; s = p.find('/', s + 1)) {
      FUZZ_CHECK(files.count(p.substr(0, s)) == 0);
    }
  }
}

void ExtractAndCompare(const detail::ByteSource& src, const uint8_t* data,
                       const std::vector<TarMember>& members) {
  const std::string dest = ScratchDir() + "/x";
  std::error_code ec;
  fs::remove_all(dest, ec);
  FUZZ_CHECK(fs::create_directory(dest, ec) && !ec);
  Status st = detail::ExtractTarFrom(src, dest, {}, /*sync=*/false);
  if (!st.ok()) std::fprintf(stderr, "extract: %s\n", st.ToString().c_str());
  FUZZ_CHECK(st.ok());
  for (const TarMember& m : members) {
    const std::string path = dest + "/" + m.path;
    struct stat sb;
    FUZZ_CHECK(::lstat(path.c_str(), &sb) == 0);
    FUZZ_CHECK(m.is_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
    if (m.is_dir) continue;
    auto bytes = ReadFileToString(path);
    FUZZ_CHECK(bytes.ok() && bytes->size() == m.size);
    FUZZ_CHECK(bytes->compare(0, m.size, reinterpret_cast<const char*>(data + m.data_offset),
                              m.size) == 0);
  }
  // Exactly the expected tree, and nothing beside it.
  std::set<std::string> found;
  for (auto it = fs::recursive_directory_iterator(dest, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    FUZZ_CHECK(!it->is_symlink());
    found.insert(fs::relative(it->path(), dest, ec).string());
  }
  FUZZ_CHECK(!ec);
  FUZZ_CHECK(found == ExpectedTree(members));
  size_t beside = 0;
  for (auto it = fs::directory_iterator(ScratchDir(), ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    ++beside;
  }
  FUZZ_CHECK(!ec && beside == 1);
  fs::remove_all(dest, ec);
}

// Recomputes the checksum ("dddddd\0 ", unsigned sum) of every block with the
// ustar magic; true if anything changed.
bool FixChecksums(std::vector<uint8_t>& tar) {
  bool changed = false;
  for (size_t h = 0; h + detail::kBlockSize <= tar.size(); h += detail::kBlockSize) {
    if (std::memcmp(&tar[h + 257], "ustar", 5) != 0) continue;
    char field[8];
    std::memset(field, ' ', sizeof(field));
    unsigned sum = 0;
    for (size_t i = 0; i < detail::kBlockSize; ++i) {
      sum += (i >= 148 && i < 156) ? ' ' : tar[h + i];
    }
    std::snprintf(field, 7, "%06o", sum & 0777777);
    field[6] = '\0';
    changed = changed || std::memcmp(&tar[h + 148], field, sizeof(field)) != 0;
    std::memcpy(&tar[h + 148], field, sizeof(field));
  }
  return changed;
}

void CheckInput(const uint8_t* data, size_t size) {
  const detail::MemorySource src(data, size);
  auto listed = detail::ListTarFrom(src);
  if (!listed.ok()) {
    const Status& st = listed.status();
    FUZZ_CHECK(st.reason().rfind("tar.", 0) == 0);
    FUZZ_CHECK(st.code() == (st.reason() == "tar.bad_path" ? StatusCode::kInvalidArgument
                                                           : StatusCode::kDataLoss));
    FUZZ_CHECK(st.message().rfind("tar: ", 0) == 0);
    return;
  }
  const std::vector<TarMember>& members = *listed;
  CheckMembers(size, members);
  uint64_t total = 0;
  for (const TarMember& m : members) total += m.size;
  if (total <= kMaxExtractBytes && members.size() <= kMaxExtractMembers) {
    ExtractAndCompare(src, data, members);
  }
}

}  // namespace
}  // namespace hearth::deploy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearth::deploy;
  CheckInput(data, size);
  std::vector<uint8_t> fixed(data, data + size);
  if (FixChecksums(fixed)) CheckInput(fixed.data(), fixed.size());
  return 0;
}
