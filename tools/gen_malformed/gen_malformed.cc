// gen_malformed: writes the malformed-GGUF corpus or the fuzzer's seed corpus.
//
//   gen_malformed --out tests/data/malformed   every malformed case + EXPECTED.tsv;
//                                              stale *.gguf files in the directory are removed
//   gen_malformed --seeds fuzz/corpus/gguf     valid edge cases + a few malformed cases
//
// The output is deterministic: malformed_test fails if the committed corpus
// differs from what this tool writes.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "format/malformed_corpus.h"

namespace hearth {
namespace {

Status WriteAll(const std::string& dir, const std::vector<testing::NamedFile>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create '" + dir + "': " + ec.message());
  for (const testing::NamedFile& f : files) {
    HEARTH_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + f.name, f.bytes));
  }
  return Status::Ok();
}

Status WriteCorpus(const std::string& dir) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<testing::MalformedCase> cases,
                          testing::BuildMalformedCorpus());
  std::vector<testing::NamedFile> files;
  std::set<std::string> names;
  for (const testing::MalformedCase& c : cases) {
    files.push_back({c.name, c.bytes});
    names.insert(c.name);
  }
  files.push_back({testing::kExpectedIndexName, testing::FormatExpectedIndex(cases)});
  HEARTH_RETURN_IF_ERROR(WriteAll(dir, files));
  // Remove cases that no longer exist, so the directory is exactly the index.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".gguf" && names.count(name) == 0) {
      std::filesystem::remove(entry.path(), ec);
      std::printf("removed stale %s\n", name.c_str());
    }
  }
  if (ec) return IoError("cannot list '" + dir + "': " + ec.message());
  std::printf("wrote %zu malformed files and %s to %s\n", cases.size(), testing::kExpectedIndexName,
              dir.c_str());
  return Status::Ok();
}

Status WriteSeeds(const std::string& dir) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<testing::NamedFile> files, testing::BuildValidVariants());
  const size_t n_valid = files.size();
  HEARTH_ASSIGN_OR_RETURN(std::vector<testing::MalformedCase> cases,
                          testing::BuildMalformedCorpus());
  for (std::string_view name : testing::FuzzSeedMalformedNames()) {
    bool found = false;
    for (const testing::MalformedCase& c : cases) {
      if (c.name == name) {
        files.push_back({"malformed-" + c.name, c.bytes});
        found = true;
      }
    }
    if (!found) return InternalError("no malformed case named " + std::string(name));
  }
  HEARTH_RETURN_IF_ERROR(WriteAll(dir, files));
  std::printf("wrote %zu valid and %zu malformed seeds to %s\n", n_valid, files.size() - n_valid,
              dir.c_str());
  return Status::Ok();
}

int Main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "--out") != 0 && std::strcmp(argv[1], "--seeds") != 0)) {
    std::fprintf(stderr,
                 "usage: gen_malformed --out DIR     (the malformed corpus + %s)\n"
                 "       gen_malformed --seeds DIR   (the fuzzer's seed corpus)\n",
                 testing::kExpectedIndexName);
    return 2;
  }
  Status st = std::strcmp(argv[1], "--out") == 0 ? WriteCorpus(argv[2]) : WriteSeeds(argv[2]);
  if (!st.ok()) {
    std::fprintf(stderr, "gen_malformed: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace hearth

int main(int argc, char** argv) {
  return hearth::Main(argc, argv);
}
