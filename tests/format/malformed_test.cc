// The malformed-GGUF corpus (tests/data/malformed/): every committed file fails
// with its indexed error, the committed bytes match the generator, and sweeps of
// cuts and byte flips over the base file never crash the reader.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "format/gguf.h"
#include "format/malformed_corpus.h"
#include "testing/test_paths.h"

namespace hearth::testing {
// The largest single allocation since the last reset, to check that counts in a
// file do not size allocations before the entries they count are parsed.
std::atomic<size_t> g_largest_allocation{0};
}  // namespace hearth::testing

// Counts every allocation of this test binary (gtest's included); aborts when out
// of memory, as Hearth throws nothing.

void* operator new(size_t n) {
  size_t seen = hearth::testing::g_largest_allocation.load(std::memory_order_relaxed);
  while (n > seen && !hearth::testing::g_largest_allocation.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  std::abort();
}
// malloc/free pairs are consistent here; GCC flags the free() in a replaced delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace hearth::testing {
namespace {

std::string CorpusDir() {
  return SourceDir() + "/tests/data/malformed";
}

std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<IndexEntry> CommittedIndex() {
  auto text = ReadFileToString(CorpusDir() + "/" + kExpectedIndexName);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return {};
  auto index = ParseExpectedIndex(*text);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return index.ok() ? *index : std::vector<IndexEntry>{};
}

void ExpectError(const Status& st, const std::string& reason, const std::string& fragment) {
  ASSERT_FALSE(st.ok()) << "the reader accepted the file";
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_EQ(st.reason(), reason) << st.ToString();
  EXPECT_NE(st.message().find(fragment), std::string::npos)
      << "message: " << st.message() << "\nexpected fragment: " << fragment;
}

TEST(MalformedCorpusTest, EveryCommittedFileFailsWithItsError) {
  std::vector<IndexEntry> index = CommittedIndex();
  ASSERT_GT(index.size(), 200u);
  for (const IndexEntry& e : index) {
    SCOPED_TRACE(e.name);
    const std::string path = CorpusDir() + "/" + e.name;
    auto f = GgufFile::Open(path);
    ExpectError(f.status(), e.reason, e.fragment);
    if (!f.ok()) {
      EXPECT_NE(f.status().message().find(path), std::string::npos) << "no path in the message";
    }
  }
}

TEST(MalformedCorpusTest, CommittedFilesMatchTheGenerator) {
  auto cases = BuildMalformedCorpus();
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  auto index = ReadFileToString(CorpusDir() + "/" + kExpectedIndexName);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(*index, FormatExpectedIndex(*cases))
      << "tests/data/malformed/EXPECTED.tsv is stale; rerun gen_malformed (docs/fuzzing.md)";
  std::set<std::string> expected_names = {kExpectedIndexName};
  for (const MalformedCase& c : *cases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(expected_names.insert(c.name).second) << "duplicate case name";
    auto committed = ReadFileToString(CorpusDir() + "/" + c.name);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_TRUE(*committed == c.bytes) << "committed bytes differ from the generator's";
  }
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    on_disk.insert(entry.path().filename().string());
  }
  EXPECT_EQ(on_disk, expected_names) << "stray or missing files in tests/data/malformed";
}

TEST(MalformedCorpusTest, GeneratedCasesFailInMemoryWithTheirError) {
  auto cases = BuildMalformedCorpus();
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  for (const MalformedCase& c : *cases) {
    SCOPED_TRACE(c.name);
    ExpectError(GgufFile::Parse(AsBytes(c.bytes)).status(), c.reason, c.fragment);
  }
}

TEST(MalformedCorpusTest, CoversEveryErrorKind) {
  auto cases = BuildMalformedCorpus();
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  std::set<std::string> reasons;
  for (const MalformedCase& c : *cases) reasons.insert(c.reason);
  for (const char* kind : {"empty",
                           "bad_magic",
                           "big_endian",
                           "unsupported_version",
                           "truncated",
                           "count_too_large",
                           "string_past_eof",
                           "bad_value_type",
                           "nesting_too_deep",
                           "duplicate_key",
                           "bad_alignment",
                           "bad_n_dims",
                           "bad_dims",
                           "bad_tensor_type",
                           "removed_tensor_type",
                           "shape_overflow",
                           "bad_block_multiple",
                           "duplicate_tensor",
                           "misaligned_tensor",
                           "data_past_eof",
                           "tensor_overlap"}) {
    EXPECT_EQ(reasons.count(std::string("gguf.") + kind), 1u) << kind;
  }
}

TEST(MalformedCorpusTest, BaseFileHasTheDocumentedShape) {
  auto base = BuildBaseGguf();
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  auto f = GgufFile::Parse(AsBytes(*base));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(base->size(), 1024u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->metadata().size(), 12u);
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->tensors()[0].type, GgmlType::kF32);
  EXPECT_EQ(f->tensors()[1].type, GgmlType::kF16);
  EXPECT_EQ(f->tensors()[2].type, GgmlType::kQ8_0);
  const GgufValue* nested = f->Find("test.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ(nested->ArrayAt(0).IntAt(1), 8);
  EXPECT_EQ(nested->ArrayAt(1).StringAt(0), "x");
}

TEST(MalformedCorpusTest, ValidVariantsParse) {
  auto variants = BuildValidVariants();
  ASSERT_TRUE(variants.ok()) << variants.status().ToString();
  for (const NamedFile& v : *variants) {
    SCOPED_TRACE(v.name);
    auto f = GgufFile::Parse(AsBytes(v.bytes));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    for (const GgufTensorInfo& t : f->tensors()) {
      EXPECT_EQ(f->TensorData(t).size(), t.n_bytes);
    }
  }
}

// Every cut of the base file fails cleanly, except those that only drop trailing padding.
TEST(MalformedCorpusTest, EveryPrefixFailsUnlessOnlyPaddingIsCut) {
  auto base = BuildBaseGguf();
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  auto full = GgufFile::Parse(AsBytes(*base));
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  const GgufTensorInfo& last = full->tensors().back();
  const size_t data_end = full->data_offset() + last.offset + last.n_bytes;
  for (size_t n = 0; n < base->size(); ++n) {
    // An exact-size heap buffer, so that ASan sees any read past the cut.
    std::vector<uint8_t> exact(base->begin(), base->begin() + static_cast<ptrdiff_t>(n));
    auto f = GgufFile::Parse(exact);
    if (n >= data_end) {
      EXPECT_TRUE(f.ok()) << n << ": " << f.status().ToString();
    } else {
      ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes accepted";
      EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << n;
      EXPECT_EQ(f.status().reason().rfind("gguf.", 0), 0u) << n << ": " << f.status().ToString();
    }
  }
}

// Any single corrupted byte either parses or fails with a gguf.* DataLoss error
// (under ASan this also checks that no read leaves the buffer).
TEST(MalformedCorpusTest, SingleByteCorruptionsFailCleanly) {
  auto base = BuildBaseGguf();
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  for (size_t i = 0; i < base->size(); ++i) {
    for (unsigned char v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      std::string bytes = *base;
      bytes[i] = static_cast<char>(v);
      // Copy to an exact-size heap buffer so ASan sees reads past the end.
      std::vector<uint8_t> exact(bytes.begin(), bytes.end());
      auto f = GgufFile::Parse(exact);
      if (!f.ok()) {
        EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << i;
        EXPECT_EQ(f.status().reason().rfind("gguf.", 0), 0u) << i << ": " << f.status().ToString();
      }
    }
  }
}

template <typename T>
void Put(std::string* s, T v) {
  s->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::string Header(uint64_t n_tensors, uint64_t n_kv) {
  std::string s;
  Put<uint32_t>(&s, kGgufMagic);
  Put<uint32_t>(&s, 3);
  Put<uint64_t>(&s, n_tensors);
  Put<uint64_t>(&s, n_kv);
  return s;
}

// Regression: the reader sized its metadata, tensor and nested-array vectors from
// the counts in the file, about 10x (nested arrays: up to 70x) the file size
// before reading a single entry, so a corrupt count in a multi-GB model asked
// for tens of GB.
TEST(GgufReaderRegressionTest, CountsDoNotSizeAllocationsUpFront) {
  constexpr size_t kSize = 8 << 20;
  std::string claims_many_kvs = Header(0, (kSize - 24) / 13);  // then zeros: duplicate empty keys
  claims_many_kvs.resize(kSize, '\0');
  std::string claims_many_tensors = Header((kSize - 24) / 32, 0);  // then zeros: 0 dimensions
  claims_many_tensors.resize(kSize, '\0');
  std::string claims_many_arrays = Header(0, 1);
  Put<uint64_t>(&claims_many_arrays, 1);
  claims_many_arrays += "k";
  Put<uint32_t>(&claims_many_arrays, 9);
  for (int depth = 0; depth < 8; ++depth) {
    Put<uint32_t>(&claims_many_arrays, 9);
    Put<uint64_t>(&claims_many_arrays, (kSize - claims_many_arrays.size()) / 16);
  }
  claims_many_arrays.resize(kSize, '\xff');
  for (const std::string* bytes : {&claims_many_kvs, &claims_many_tensors, &claims_many_arrays}) {
    g_largest_allocation = 0;
    auto f = GgufFile::Parse(AsBytes(*bytes));
    const size_t largest = g_largest_allocation;
    EXPECT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << f.status().ToString();
    EXPECT_LT(largest, size_t{1} << 20) << f.status().ToString();
  }
}

// Regression: every array element's description copied the whole key, so a long
// key over a long array took time quadratic in the file size (a 512 KiB file
// took 13 s to parse, a few MB would take hours).
TEST(GgufReaderRegressionTest, LongKeyOverLongArrayParsesInLinearTime) {
  constexpr size_t kKeyBytes = 1 << 20, kElements = 1 << 17;
  std::string s = Header(0, 1);
  Put<uint64_t>(&s, kKeyBytes);
  s.append(kKeyBytes, 'k');
  Put<uint32_t>(&s, 9);  // array
  Put<uint32_t>(&s, 8);  // of strings
  Put<uint64_t>(&s, kElements);
  for (size_t i = 0; i < kElements; ++i) Put<uint64_t>(&s, 0);  // all empty
  const auto start = std::chrono::steady_clock::now();
  auto f = GgufFile::Parse(AsBytes(s));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->metadata()[0].value.size(), kElements);
  // Linear: milliseconds (under ASan well under a second); quadratic: many minutes.
  EXPECT_LT(seconds, 10.0);
}

}  // namespace
}  // namespace hearth::testing
