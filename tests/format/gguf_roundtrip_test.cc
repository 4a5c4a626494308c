// Read -> write -> read over every GGUF in the shared test data: the rewritten
// bytes must equal the original file, and re-reading gives the same structure.
#include <gtest/gtest.h>

#include <cstring>

#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "testing/shared_files.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

void ExpectSameValue(const GgufValue& a, const GgufValue& b, const std::string& key) {
  ASSERT_EQ(a.type(), b.type()) << key;
  if (a.is_string()) {
    EXPECT_EQ(a.string(), b.string()) << key;
  } else if (a.is_array()) {
    ASSERT_EQ(a.elem_type(), b.elem_type()) << key;
    ASSERT_EQ(a.size(), b.size()) << key;
    if (a.elem_type() == GgufValueType::kString) {
      for (uint64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.StringAt(i), b.StringAt(i)) << key;
    } else if (a.elem_type() == GgufValueType::kArray) {
      for (uint64_t i = 0; i < a.size(); ++i) ExpectSameValue(a.ArrayAt(i), b.ArrayAt(i), key);
    } else {
      ASSERT_EQ(a.raw_elements().size(), b.raw_elements().size()) << key;
      EXPECT_EQ(
          0, std::memcmp(a.raw_elements().data(), b.raw_elements().data(), a.raw_elements().size()))
          << key;
    }
  } else {
    EXPECT_EQ(a.scalar_bits(), b.scalar_bits()) << key;
  }
}

TEST(GgufRoundTripTest, EverySharedFileRewritesIdentically) {
  HEARTH_REQUIRE_SHARED();
  auto files = testing::SharedGgufFiles();
  ASSERT_GE(files.size(), 28u) << "expected the models, vocab and golden GGUFs";
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    auto f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    auto w = WriterFromFile(*f);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(w->FileSize(), f->file_size());
    auto bytes = w->WriteToString();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ASSERT_EQ(bytes->size(), f->file_size());
    EXPECT_EQ(0, std::memcmp(bytes->data(), f->bytes().data(), bytes->size()))
        << "rewritten bytes differ";

    auto g = GgufFile::Parse(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    ASSERT_EQ(g->metadata().size(), f->metadata().size());
    for (size_t i = 0; i < f->metadata().size(); ++i) {
      EXPECT_EQ(g->metadata()[i].key, f->metadata()[i].key);
      ExpectSameValue(f->metadata()[i].value, g->metadata()[i].value,
                      std::string(f->metadata()[i].key));
    }
    ASSERT_EQ(g->tensors().size(), f->tensors().size());
    for (size_t i = 0; i < f->tensors().size(); ++i) {
      const auto& a = f->tensors()[i];
      const auto& b = g->tensors()[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.type, b.type);
      EXPECT_EQ(a.ne, b.ne);
      EXPECT_EQ(a.offset, b.offset);
      EXPECT_EQ(a.n_bytes, b.n_bytes);
    }
  }
}

}  // namespace
}  // namespace hearth
