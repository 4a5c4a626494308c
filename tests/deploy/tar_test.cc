// Tests for the deterministic ustar writer and the fail-closed reader.
//
// Oracles: exact header bytes from the ustar spec, GNU tar (when installed) in
// both directions, and corrupted variants of a known-good archive built here
// byte by byte (with an independent checksum fix-up).
#include "deploy/tar.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <tuple>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "testing/test_paths.h"

namespace hearth::deploy {
namespace {

namespace fs = std::filesystem;
using hearth::testing::RunCommand;
using hearth::testing::TempDir;

// Deterministic pseudo-random bytes.
std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (char& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok()) << path;
}

std::string ReadAll(const std::string& path) {
  auto r = ReadFileToString(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

bool IsEmptyDir(const std::string& dir) {
  return fs::is_empty(dir);
}

// A path of 135 bytes: needs the ustar prefix field.
const std::string kLongPath =
    "deep/" + std::string(60, 'd') + "/" + std::string(60, 'e') + "/file.txt";

struct Sample {
  std::string path;
  std::string content;
};

std::vector<Sample> SampleFiles() {
  return {{"one.bin", "x"},
          {"empty.bin", ""},
          {"block.bin", Bytes(1024, 1)},
          {"data/nested/odd.bin", Bytes(1000, 2)},
          {kLongPath, "long path\n"}};
}

// Writes the samples as flat source files under `dir` and returns the inputs.
std::vector<TarInput> MakeInputs(const std::string& dir, const std::vector<Sample>& samples) {
  std::vector<TarInput> inputs;
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string src = dir + "/src" + std::to_string(i);
    WriteBytes(src, samples[i].content);
    inputs.push_back({samples[i].path, src});
  }
  return inputs;
}

// Sets the checksum of the header at `h` (unsigned sum, "dddddd\0 ").
void FixChecksum(std::string& tar, size_t h) {
  std::memset(&tar[h + 148], ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += static_cast<uint8_t>(tar[h + i]);
  std::snprintf(&tar[h + 148], 8, "%06o", sum);
}

// Overwrites `len` bytes at header `h` + `off` with `value` (zero-padded), then fixes the checksum.
std::string Patch(std::string tar, size_t h, size_t off, size_t len, std::string_view value) {
  tar.replace(h + off, len, std::string(len, '\0'));
  tar.replace(h + off, value.size(), value);
  FixChecksum(tar, h);
  return tar;
}
std::string SetName(const std::string& tar, size_t h, std::string_view name) {
  return Patch(tar, h, 0, 100, name);
}

class TarTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TempDir(); }

  // A small archive: a.txt (header 0), dir/ (1024), dir/b.bin (1536, data at 2048),
  // end marker at 3072, 4096 bytes in all.
  std::string SmallArchive() {
    WriteBytes(dir_ + "/small/a", "hello");
    WriteBytes(dir_ + "/small/b", Bytes(600, 7));
    const std::string out = dir_ + "/small.tar";
    EXPECT_TRUE(
        WriteTar(out, {{"dir/b.bin", dir_ + "/small/b"}, {"a.txt", dir_ + "/small/a"}}).ok());
    std::string tar = ReadAll(out);
    EXPECT_EQ(tar.size(), 4096u);
    return tar;
  }

  Status ListBytes(const std::string& bytes) {
    const std::string path = dir_ + "/case.tar";
    WriteBytes(path, bytes);
    return ListTar(path).status();
  }

  void ExpectFails(const std::string& bytes, const std::string& reason,
                   std::string_view message_part = {}) {
    Status st = ListBytes(bytes);
    ASSERT_FALSE(st.ok()) << "expected " << reason;
    EXPECT_EQ(st.reason(), reason) << st.ToString();
    EXPECT_EQ(st.code(),
              reason == "tar.bad_path" ? StatusCode::kInvalidArgument : StatusCode::kDataLoss)
        << st.ToString();
    EXPECT_NE(st.message().find(message_part), std::string::npos) << st.ToString();
  }

  std::string dir_;
};

TEST_F(TarTest, DeterministicAcrossInputOrderMtimeAndMode) {
  auto inputs = MakeInputs(dir_, SampleFiles());
  ASSERT_TRUE(WriteTar(dir_ + "/a.tar", inputs).ok());
  for (const TarInput& in : inputs) {
    fs::last_write_time(in.source_path, fs::file_time_type::clock::now() - std::chrono::hours(99));
    ASSERT_EQ(::chmod(in.source_path.c_str(), 0600), 0);
  }
  std::reverse(inputs.begin(), inputs.end());
  ASSERT_TRUE(WriteTar(dir_ + "/b.tar", inputs).ok());
  const std::string a = ReadAll(dir_ + "/a.tar"), b = ReadAll(dir_ + "/b.tar");
  EXPECT_EQ(Sha256Hex(a), Sha256Hex(b));
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.size() % 512, 0u);
}

TEST_F(TarTest, HeaderBytesFollowTheSpec) {
  const std::string tar = SmallArchive();
  // a.txt: a regular file header at 0.
  EXPECT_EQ(tar.substr(0, 6), std::string("a.txt\0", 6));
  EXPECT_EQ(tar.substr(100, 8), std::string("0000644\0", 8));  // mode
  EXPECT_EQ(tar.substr(108, 16), std::string("0000000\0"
                                             "0000000\0",
                                             16));                   // uid, gid
  EXPECT_EQ(tar.substr(124, 12), std::string("00000000005\0", 12));  // size
  EXPECT_EQ(tar.substr(136, 12), std::string("00000000000\0", 12));  // mtime
  EXPECT_EQ(tar[156], '0');
  EXPECT_EQ(tar.substr(257, 8), std::string("ustar\0"
                                            "00",
                                            8));
  EXPECT_EQ(tar.substr(265, 5), std::string("root\0", 5));
  EXPECT_EQ(tar.substr(297, 5), std::string("root\0", 5));
  std::string fixed = tar;
  FixChecksum(fixed, 0);  // the stored checksum is what an independent sum gives
  EXPECT_EQ(fixed.substr(0, 512), tar.substr(0, 512));
  EXPECT_EQ(tar.substr(512, 5), "hello");
  EXPECT_EQ(tar.substr(517, 507), std::string(507, '\0'));  // padding
  // dir/: a directory header at 1024.
  EXPECT_EQ(tar.substr(1024, 5), std::string("dir/\0", 5));
  EXPECT_EQ(tar.substr(1024 + 100, 8), std::string("0000755\0", 8));
  EXPECT_EQ(tar[1024 + 156], '5');
  // Two zero blocks end it.
  EXPECT_EQ(tar.substr(3072), std::string(1024, '\0'));
}

TEST_F(TarTest, RoundTripListAndExtract) {
  const auto samples = SampleFiles();
  const std::string tar_path = dir_ + "/out.tar";
  ASSERT_TRUE(WriteTar(tar_path, MakeInputs(dir_, samples)).ok());
  auto members = ListTar(tar_path);
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  const std::string d1 = "deep/" + std::string(60, 'd');
  const std::vector<std::pair<std::string, bool>> expected = {
      {"block.bin", false},
      {"data", true},
      {"data/nested", true},
      {"data/nested/odd.bin", false},
      {"deep", true},
      {d1, true},
      {d1 + "/" + std::string(60, 'e'), true},
      {kLongPath, false},
      {"empty.bin", false},
      {"one.bin", false}};
  ASSERT_EQ(members->size(), expected.size());
  const std::string tar = ReadAll(tar_path);
  std::map<std::string, std::string> contents;
  for (const Sample& s : samples) contents[s.path] = s.content;
  for (size_t i = 0; i < expected.size(); ++i) {
    const TarMember& m = (*members)[i];
    EXPECT_EQ(m.path, expected[i].first);
    EXPECT_EQ(m.is_dir, expected[i].second) << m.path;
    EXPECT_EQ(m.data_offset % 512, 0u);
    const std::string want = m.is_dir ? "" : contents.at(m.path);
    EXPECT_EQ(m.size, want.size()) << m.path;
    EXPECT_EQ(tar.substr(m.data_offset, m.size), want) << m.path;
  }
  EXPECT_EQ((*members)[0].data_offset, 512u);
  EXPECT_EQ((*members)[3].data_offset, 3072u);
  EXPECT_EQ(tar.size(), 9216u);  // 10 headers + 6 data blocks + 2 end blocks

  const std::string out = dir_ + "/x";
  fs::create_directory(out);
  ASSERT_TRUE(ExtractTar(tar_path, out).ok());
  for (const Sample& s : samples) {
    EXPECT_EQ(ReadAll(out + "/" + s.path), s.content) << s.path;
    struct stat st;
    ASSERT_EQ(::stat((out + "/" + s.path).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
  }
  struct stat st;
  ASSERT_EQ(::stat((out + "/data/nested").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(TarTest, ProgressIsMonotonicAndEndsAtTotal) {
  auto inputs = MakeInputs(dir_, {{"a", Bytes(3 << 20, 3)}, {"b", ""}, {"c", "xyz"}});
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto record = [&calls](uint64_t done, uint64_t total) { calls.push_back({done, total}); };
  const uint64_t total = (3 << 20) + 3;
  for (int pass = 0; pass < 2; ++pass) {
    calls.clear();
    if (pass == 0) {
      ASSERT_TRUE(WriteTar(dir_ + "/p.tar", inputs, record).ok());
    } else {
      fs::create_directory(dir_ + "/px");
      ASSERT_TRUE(ExtractTar(dir_ + "/p.tar", dir_ + "/px", record).ok());
    }
    ASSERT_GE(calls.size(), 4u);  // start, three 1 MiB chunks, ...
    EXPECT_EQ(calls.front(), std::make_pair(uint64_t{0}, total));
    EXPECT_EQ(calls.back(), std::make_pair(total, total));
    for (size_t i = 1; i < calls.size(); ++i) EXPECT_LE(calls[i - 1].first, calls[i].first);
  }
}

TEST_F(TarTest, WriteRefusesBadInputsBeforeWriting) {
  WriteBytes(dir_ + "/f", "f");
  const std::string out = dir_ + "/bad.tar";
  auto expect = [&](std::vector<TarInput> inputs, const char* reason, StatusCode code) {
    Status st = WriteTar(out, std::move(inputs));
    EXPECT_EQ(st.code(), code) << st.ToString();
    EXPECT_EQ(st.reason(), reason) << st.ToString();
    EXPECT_FALSE(fs::exists(out));
  };
  const auto kInvalid = StatusCode::kInvalidArgument;
  expect({{"ok", dir_ + "/f"}, {"../evil", dir_ + "/f"}}, "tar.bad_path", kInvalid);
  expect({{"a", dir_ + "/f"}, {"a", dir_ + "/f"}}, "tar.duplicate", kInvalid);
  expect({{"a", dir_ + "/f"}, {"a/b", dir_ + "/f"}}, "tar.conflict", kInvalid);
  expect({{std::string(101, 'n'), dir_ + "/f"}}, "tar.bad_path", kInvalid);  // no '/' to split
  expect({{std::string(156, 'p') + "/x", dir_ + "/f"}}, "tar.bad_path", kInvalid);
  expect({{std::string(256, 'p'), dir_ + "/f"}}, "tar.bad_path", kInvalid);
  Status st = WriteTar(out, {{"a", dir_ + "/missing"}});
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  st = WriteTar(out, {{"a", dir_}});
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_FALSE(fs::exists(out));
  // A path of exactly 255 bytes whose directories fit too is fine.
  const std::string p255 =
      std::string(99, 'p') + "/" + std::string(54, 'q') + "/" + std::string(100, 'n');
  ASSERT_TRUE(WriteTar(out, {{p255, dir_ + "/f"}}).ok());
  auto m = ListTar(out);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->back().path, p255);
}

bool HaveGnuTar() {
  return ::access("/usr/bin/tar", X_OK) == 0;
}

TEST_F(TarTest, GnuTarReadsOurArchives) {
  if (!HaveGnuTar()) GTEST_SKIP() << "/usr/bin/tar not installed; no independent oracle";
  const auto samples = SampleFiles();
  const std::string tar_path = dir_ + "/out.tar";
  ASSERT_TRUE(WriteTar(tar_path, MakeInputs(dir_, samples)).ok());
  auto members = ListTar(tar_path);
  ASSERT_TRUE(members.ok());
  auto listed = RunCommand("TZ=UTC /usr/bin/tar -tvf '" + tar_path + "'", true);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  std::istringstream lines(listed.output);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string perms, owner, size, date, time, name;
    f >> perms >> owner >> size >> date >> time >> name;
    ASSERT_LT(i, members->size()) << line;
    const TarMember& m = (*members)[i++];
    EXPECT_EQ(name, m.is_dir ? m.path + "/" : m.path);
    EXPECT_EQ(size, std::to_string(m.size));
    EXPECT_EQ(perms, m.is_dir ? "drwxr-xr-x" : "-rw-r--r--");
    EXPECT_EQ(owner, "root/root");
    EXPECT_EQ(date + " " + time, "1970-01-01 00:00");
  }
  EXPECT_EQ(i, members->size());
  const std::string out = dir_ + "/gx";
  fs::create_directory(out);
  auto x = RunCommand("/usr/bin/tar -xf '" + tar_path + "' -C '" + out + "'", true);
  ASSERT_EQ(x.exit_code, 0) << x.output;
  EXPECT_EQ(x.output, "");
  for (const Sample& s : samples) EXPECT_EQ(ReadAll(out + "/" + s.path), s.content) << s.path;
}

TEST_F(TarTest, GnuTarAgreesOnBase256Size) {
  if (!HaveGnuTar()) GTEST_SKIP() << "/usr/bin/tar not installed; no independent oracle";
  std::string field(12, '\0');
  field[0] = static_cast<char>(0x80);  // base-256 marker, value 5 big-endian
  field[11] = 5;
  const std::string tar = Patch(SmallArchive(), 0, 124, 12, field);
  ASSERT_TRUE(ListBytes(tar).ok());
  auto members = ListTar(dir_ + "/case.tar");
  EXPECT_EQ((*members)[0].size, 5u);
  auto listed = RunCommand("/usr/bin/tar -tvf '" + dir_ + "/case.tar'", true);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  std::istringstream first_line(listed.output);
  std::string perms, owner, size;
  first_line >> perms >> owner >> size;
  EXPECT_EQ(size, "5") << listed.output;
}

// Lists `src` recursively as path -> (is_dir, contents).
std::map<std::string, std::pair<bool, std::string>> Tree(const std::string& src) {
  std::map<std::string, std::pair<bool, std::string>> tree;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    const std::string rel = fs::relative(e.path(), src).string();
    tree[rel] = {e.is_directory(), e.is_directory() ? "" : ReadAll(e.path().string())};
  }
  return tree;
}

TEST_F(TarTest, ReadsArchivesMadeByGnuTar) {
  if (!HaveGnuTar()) GTEST_SKIP() << "/usr/bin/tar not installed; no independent oracle";
  const std::string long_rel = "sub/" + std::string(70, 'l') + "/" + std::string(60, 'm') + ".txt";
  const std::string src = dir_ + "/in";
  WriteBytes(src + "/a.txt", "alpha\n");
  WriteBytes(src + "/sub/b.bin", Bytes(700, 9));
  WriteBytes(src + "/sub/empty", "");
  WriteBytes(src + "/" + long_rel, "long\n");
  for (const char* format : {"ustar", "gnu"}) {
    SCOPED_TRACE(format);
    if (std::string(format) == "gnu") fs::remove_all(src + "/sub/" + std::string(70, 'l'));
    const std::string tar = dir_ + "/" + format + ".tar";
    auto made = RunCommand(StrFormat("/usr/bin/tar --format=%s -cf '%s' -C '%s' a.txt sub", format,
                                     tar.c_str(), src.c_str()),
                           true);
    ASSERT_EQ(made.exit_code, 0) << made.output;
    auto members = ListTar(tar);
    ASSERT_TRUE(members.ok()) << members.status().ToString();
    const auto tree = Tree(src);
    ASSERT_EQ(members->size(), tree.size());
    for (const TarMember& m : *members) {
      ASSERT_EQ(tree.count(m.path), 1u) << m.path;
      EXPECT_EQ(m.is_dir, tree.at(m.path).first) << m.path;
      EXPECT_EQ(m.size, tree.at(m.path).second.size()) << m.path;
    }
    const std::string out = dir_ + "/out-" + format;
    fs::create_directory(out);
    ASSERT_TRUE(ExtractTar(tar, out).ok());
    EXPECT_EQ(Tree(out), tree);
  }
  // v7 archives have no ustar magic: refused.
  auto made = RunCommand(StrFormat("/usr/bin/tar --format=v7 -cf '%s/v7.tar' -C '%s' a.txt",
                                   dir_.c_str(), src.c_str()));
  ASSERT_EQ(made.exit_code, 0);
  EXPECT_EQ(ListTar(dir_ + "/v7.tar").status().reason(), "tar.bad_magic");
}

TEST_F(TarTest, CorruptHeadersAreRefused) {
  const std::string good = SmallArchive();
  ASSERT_TRUE(ListBytes(good).ok());
  std::string t = good;
  t[148] ^= 1;  // a checksum digit
  ExpectFails(t, "tar.bad_checksum", "member 'a.txt' (header at byte 0)");
  t = good;
  t[1536 + 1] ^= 0x20;  // a name byte of dir/b.bin, checksum not fixed
  ExpectFails(t, "tar.bad_checksum", "(header at byte 1536)");
  ExpectFails(Patch(good, 0, 124, 12, "00000000009"), "tar.bad_number",
              "tar: member 'a.txt' (header at byte 0): size field is not octal");
  ExpectFails(Patch(good, 0, 124, 12, "\xff"), "tar.bad_number", "size field");
  ExpectFails(Patch(good, 1536, 100, 8, "abc"), "tar.bad_number", "mode field is not octal");
  ExpectFails(Patch(good, 0, 124, 12, "77777777777"), "tar.truncated", "runs past the end");
  ExpectFails(Patch(good, 0, 257, 8,
                    std::string("ustar\0"
                                "01",
                                8)),
              "tar.bad_magic");
  ExpectFails(Patch(good, 1024, 124, 12, "1"), "tar.bad_header", "member 'dir'");
  const std::string types = "123467xgLKSV";  // all but 0 and 5
  for (char type : types) {
    SCOPED_TRACE(std::string("typeflag ") + type);
    ExpectFails(Patch(good, 0, 156, 1, std::string(1, type)), "tar.unsupported_type",
                "member 'a.txt' (header at byte 0): unsupported member type");
  }
  // Accepted variants: GNU magic, a signed (historic) checksum, '\0' typeflag,
  // space-led octal, base-256 size.
  EXPECT_TRUE(ListBytes(Patch(good, 0, 257, 8, "ustar  ")).ok());
  EXPECT_TRUE(ListBytes(Patch(good, 0, 156, 1, "")).ok());
  EXPECT_TRUE(ListBytes(Patch(good, 0, 124, 12, "         5 ")).ok());
  t = SetName(good, 0, "caf\xc3\xa9");
  int sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<int8_t>(t[i]);
  std::snprintf(&t[148], 8, "%06o", sum);
  EXPECT_TRUE(ListBytes(t).ok()) << ListBytes(t).ToString();
}

TEST_F(TarTest, BadPathsDuplicatesAndConflictsAreRefused) {
  const std::string good = SmallArchive();
  for (const char* bad : {"../evil", "/abs", "a/../b", "a//b", "./a", "a\\b", "a\x01"}) {
    SCOPED_TRACE(bad);
    ExpectFails(SetName(good, 0, bad), "tar.bad_path", "(header at byte 0): bad path");
  }
  // The prefix field is part of the path too.
  ExpectFails(Patch(good, 0, 345, 155, ".."), "tar.bad_path", "'../a.txt'");
  ExpectFails(SetName(good, 1536, "a.txt"), "tar.duplicate", "(header at byte 1536)");
  ExpectFails(SetName(good, 1024, "a.txt/"), "tar.duplicate", "member 'a.txt'");
  ExpectFails(SetName(SetName(good, 0, "x"), 1536, "x/b.bin"), "tar.conflict",
              "member 'x' (header at byte 0): is a file");
}

TEST_F(TarTest, TruncationAndEndMarker) {
  const std::string good = SmallArchive();
  ExpectFails("", "tar.empty");
  for (size_t cut = 512; cut < good.size() - 512; cut += 512) {
    SCOPED_TRACE(cut);
    ExpectFails(good.substr(0, cut), "tar.truncated");
  }
  for (size_t cut : {100, 515, 1500, 2048 + 100, 2048 + 600, 3000}) {
    SCOPED_TRACE(cut);
    ExpectFails(good.substr(0, cut), "tar.truncated");
  }
  // One zero block is enough; trailing zeros of any length are fine.
  EXPECT_TRUE(ListBytes(good.substr(0, good.size() - 512)).ok());
  EXPECT_TRUE(ListBytes(good + std::string(9000, '\0')).ok());
  ExpectFails(good + std::string(700, '\0') + "x", "tar.trailing_data", "at 4796");
  std::string hidden = good;
  hidden.replace(3584, 512, good.substr(0, 512));  // a header after the end marker
  ExpectFails(hidden, "tar.trailing_data");
  ExpectFails(std::string(4096, 'A'), "tar.bad_magic");
  ExpectFails(Bytes(3000, 5), "tar.bad_magic");
  std::string garbage = Bytes(1024, 6);
  garbage.replace(257, 8,
                  std::string("ustar\0"
                              "00",
                              8));
  ExpectFails(garbage, "tar.bad_checksum");
}

TEST_F(TarTest, ExtractValidatesEverythingFirst) {
  const std::string good = SmallArchive();
  WriteBytes(dir_ + "/bad.tar", SetName(good, 1536, "../evil"));
  fs::create_directory(dir_ + "/x");
  Status st = ExtractTar(dir_ + "/bad.tar", dir_ + "/x");
  EXPECT_EQ(st.reason(), "tar.bad_path") << st.ToString();
  EXPECT_TRUE(IsEmptyDir(dir_ + "/x"));  // a.txt comes first but was not written
  EXPECT_FALSE(fs::exists(dir_ + "/evil"));
}

TEST_F(TarTest, ExtractNeedsAnEmptyExistingDestination) {
  SmallArchive();
  const std::string tar = dir_ + "/small.tar";
  EXPECT_EQ(ExtractTar(tar, dir_ + "/missing").reason(), "tar.no_dest");
  WriteBytes(dir_ + "/full/keep", "k");
  Status st = ExtractTar(tar, dir_ + "/full");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "tar.dest_not_empty");
  EXPECT_FALSE(fs::exists(dir_ + "/full/a.txt"));
  // A planted symlink pointing outside makes the destination non-empty.
  fs::create_directory(dir_ + "/outside");
  fs::create_directory(dir_ + "/planted");
  fs::create_directory_symlink(dir_ + "/outside", dir_ + "/planted/dir");
  EXPECT_EQ(ExtractTar(tar, dir_ + "/planted").reason(), "tar.dest_not_empty");
  EXPECT_TRUE(IsEmptyDir(dir_ + "/outside"));
}

TEST_F(TarTest, SymlinksPlantedDuringExtractionAreNotFollowed) {
  SmallArchive();
  const std::string tar = dir_ + "/small.tar", outside = dir_ + "/outside";
  fs::create_directory(outside);
  // After a.txt is written, dir/ becomes a symlink to outside.
  fs::create_directory(dir_ + "/x1");
  Status st = ExtractTar(tar, dir_ + "/x1", [&](uint64_t done, uint64_t) {
    if (done == 5) fs::create_directory_symlink(outside, dir_ + "/x1/dir");
  });
  EXPECT_EQ(st.reason(), "tar.unsafe_dest") << st.ToString();
  EXPECT_EQ(ReadAll(dir_ + "/x1/a.txt"), "hello");
  // Before anything is written, a.txt becomes a dangling symlink into outside.
  fs::create_directory(dir_ + "/x2");
  st = ExtractTar(tar, dir_ + "/x2", [&](uint64_t done, uint64_t) {
    if (done == 0) fs::create_symlink(outside + "/pwned", dir_ + "/x2/a.txt");
  });
  EXPECT_EQ(st.reason(), "tar.unsafe_dest") << st.ToString();
  EXPECT_TRUE(IsEmptyDir(outside));
}

TEST(TarPathTest, ValidateMemberPath) {
  const std::string p255(255, 'p'), p256(256, 'p');
  const std::vector<std::pair<std::string, bool>> cases = {
      {"a", true},       {"a/b/c.gguf", true},  {"...", true},
      {"a..b/.c", true}, {"caf\xc3\xa9", true}, {p255, true},
      {"", false},       {p256, false},         {"/abs", false},
      {"a/", false},     {"a//b", false},       {".", false},
      {"..", false},     {"./a", false},        {"a/./b", false},
      {"a/..", false},   {"../evil", false},    {"a\\b", false},
      {"a\tb", false},   {"a\x7f", false},      {std::string("a\0b", 3), false}};
  for (const auto& [path, ok] : cases) {
    Status st = ValidateMemberPath(path);
    EXPECT_EQ(st.ok(), ok) << EscapeForDisplay(path) << ": " << st.ToString();
    if (!ok) {
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(st.reason(), "tar.bad_path");
      EXPECT_NE(st.message().find("bad member path"), std::string::npos);
    }
  }
}

TEST(TarNumberTest, SizeFieldEncodeDecode) {
  char field[12];
  uint64_t v = 0;
  const uint64_t k8GiB = uint64_t{1} << 33;
  detail::EncodeSizeField(k8GiB - 1, field);
  EXPECT_EQ(std::string(field, 12), std::string("77777777777\0", 12));
  for (uint64_t value : {uint64_t{0}, uint64_t{5}, k8GiB - 1, k8GiB, k8GiB * 1000, ~uint64_t{0}}) {
    detail::EncodeSizeField(value, field);
    EXPECT_EQ(static_cast<uint8_t>(field[0]) == 0x80, value >= k8GiB) << value;
    ASSERT_TRUE(detail::DecodeNumericField({field, 12}, true, &v)) << value;
    EXPECT_EQ(v, value);
  }
  detail::EncodeSizeField(k8GiB, field);
  EXPECT_EQ(std::string(field, 12), std::string("\x80\0\0\0\0\0\0\x02\0\0\0\0", 12));
  EXPECT_FALSE(detail::DecodeNumericField({field, 12}, false, &v));  // base-256 not allowed
  using Case = std::pair<std::string, uint64_t>;
  for (const auto& [text, want] : {Case{"0000644\0", 0644}, Case{"  644 \0\0", 0644},
                                   Case{"777777777777", 0777777777777ull}, Case{"1", 1}}) {
    ASSERT_TRUE(detail::DecodeNumericField(text, false, &v)) << text;
    EXPECT_EQ(v, want);
  }
  for (const std::string& bad :
       {std::string(""), std::string(8, '\0'), std::string("8"), std::string("12 34"),
        std::string("  \0", 3), std::string("-1"), std::string("\xff\xff\xff\xff", 4),
        std::string("\x80\x01\0\0\0\0\0\0\0\0\0\0", 12), std::string(23, '7')}) {
    EXPECT_FALSE(detail::DecodeNumericField(bad, true, &v)) << EscapeForDisplay(bad);
  }
}

TEST_F(TarTest, MemorySourceMatchesFileReader) {
  // The fuzz target reads from memory: it must see what the file reader sees.
  const std::string good = SmallArchive();
  auto from_file = ListTar(dir_ + "/small.tar");
  detail::MemorySource mem(good.data(), good.size());
  auto from_mem = detail::ListTarFrom(mem);
  ASSERT_TRUE(from_file.ok() && from_mem.ok());
  ASSERT_EQ(from_mem->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const TarMember &a = (*from_file)[i], &b = (*from_mem)[i];
    EXPECT_EQ(std::tie(a.path, a.is_dir, a.data_offset, a.size),
              std::tie(b.path, b.is_dir, b.data_offset, b.size));
  }
  const std::string bad = Patch(good, 1536, 124, 12, "9");
  detail::MemorySource bad_mem(bad.data(), bad.size());
  Status st = detail::ListTarFrom(bad_mem).status();
  EXPECT_EQ(st.message(), "tar: member 'dir/b.bin' (header at byte 1536): size field is not octal");
  EXPECT_EQ(ListBytes(bad).message(), "reading '" + dir_ + "/case.tar': " + st.message());
  detail::MemorySource nothing(nullptr, 0);
  EXPECT_EQ(detail::ListTarFrom(nothing).status().reason(), "tar.empty");
  char byte;
  EXPECT_EQ(mem.ReadAt(good.size(), &byte, 1).reason(), "tar.truncated");
  EXPECT_EQ(mem.ReadAt(~uint64_t{0}, &byte, 1).reason(), "tar.truncated");
  EXPECT_TRUE(mem.ReadAt(good.size() - 1, &byte, 1).ok());
}

}  // namespace
}  // namespace hearth::deploy
