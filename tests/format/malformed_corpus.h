// A corpus of malformed GGUF files and the exact error the reader must give
// for each, built deterministically from one small valid file.
//
// The committed copy lives in tests/data/malformed/ (written by
// tools/gen_malformed); malformed_test opens every committed file and checks its
// error, and regenerates the corpus in memory to check that the committed bytes
// have not drifted. The valid variants are edge cases the reader must accept;
// they also seed the fuzzer (fuzz/corpus/gguf/).
//
// Every mutation is placed at an offset found by parsing the valid base file
// (GgufKv::file_offset, GgufTensorInfo::info_offset, GgufFile::data_offset),
// never at a hand-counted position.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hearth::testing {

struct MalformedCase {
  std::string name;      // file name, e.g. "truncated-at-key.test.u8.gguf"
  std::string bytes;     // file contents
  std::string reason;    // expected Status::reason(), e.g. "gguf.truncated"
  std::string fragment;  // must occur in the message, e.g. "at byte offset 312"
};

struct NamedFile {
  std::string name;
  std::string bytes;
};

// The valid base file: 12 metadata keys (string, u8, i16, u32, u64, f32, f64,
// bool, a string array, an i32 array, a nested array, general.alignment = 64)
// and 3 tensors (F32 [4,2], F16 [8,2], Q8_0 [32,2]); 1024 bytes.
Result<std::string> BuildBaseGguf();

// Every malformed case, in a fixed order.
Result<std::vector<MalformedCase>> BuildMalformedCorpus();

// The part of the corpus that cuts `base` (a file from BuildBaseGguf) at every
// structural boundary and in the middle of every field (malformed_truncation.cc).
Result<std::vector<MalformedCase>> BuildTruncationCases(const std::string& base);

// Valid edge cases the reader must accept (base, v2, no tensors, gaps,
// out-of-order tensors, zero-size tensor, nesting depth 8, ...).
Result<std::vector<NamedFile>> BuildValidVariants();

// Names of malformed cases that also seed the fuzzer.
std::vector<std::string_view> FuzzSeedMalformedNames();

// The index file of the corpus directory.
inline constexpr char kExpectedIndexName[] = "EXPECTED.tsv";

struct IndexEntry {
  std::string name;
  std::string reason;
  std::string fragment;
};
// "name<TAB>reason<TAB>fragment" lines after a '#' comment header.
std::string FormatExpectedIndex(const std::vector<MalformedCase>& cases);
Result<std::vector<IndexEntry>> ParseExpectedIndex(std::string_view text);

}  // namespace hearth::testing
