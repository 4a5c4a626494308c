#include "base/file_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "base/mapped_file.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

TEST(FileWriterTest, CommitPublishesWholeFile) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/out.bin";
  auto w = FileWriter::Create(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::string big(10 << 20, 'z');  // larger than the internal buffer
  ASSERT_TRUE(w->Write("head", 4).ok());
  ASSERT_TRUE(w->Write(big.data(), big.size()).ok());
  ASSERT_TRUE(w->WriteZeros(3).ok());
  EXPECT_FALSE(std::filesystem::exists(path)) << "visible before commit";
  ASSERT_TRUE(w->Commit().ok());
  auto data = ReadFileToString(path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->size(), 4 + big.size() + 3);
  EXPECT_EQ(data->substr(0, 4), "head");
  EXPECT_EQ(data->back(), '\0');
  // No temporary left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

TEST(FileWriterTest, AbandonedWriterLeavesNothing) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/out.bin";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  {
    auto w = FileWriter::Create(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Write("new", 3).ok());
  }  // destroyed without Commit
  EXPECT_EQ(*ReadFileToString(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

TEST(FileWriterTest, CreateFailureNamesTheFile) {
  auto w = FileWriter::Create("/proc/hearth-cannot-create/x");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("cannot create"), std::string::npos);
}

TEST(MappedFileTest, ErrorsNameThePath) {
  auto m = MappedFile::Open("/nonexistent/hearth.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("/nonexistent/hearth.gguf"), std::string::npos);
  auto d = MappedFile::Open("/tmp");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("not a regular file"), std::string::npos);
}

TEST(MappedFileTest, EmptyFileMapsToEmptySpan) {
  std::string path = testing::TempDir() + "/empty";
  ASSERT_TRUE(WriteFileAtomic(path, "").ok());
  auto m = MappedFile::Open(path);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 0u);
}

TEST(MappedFileTest, ReadIntoMemoryHoldsTheSameBytes) {
  const std::string path = testing::TempDir() + "/data";
  std::string bytes(5 * 1024 * 1024 + 123, '\0');  // several huge pages and a ragged end
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  auto mapped = MappedFile::Open(path);
  auto loaded = MappedFile::ReadIntoMemory(path);
  ASSERT_TRUE(mapped.ok() && loaded.ok());
  EXPECT_FALSE(mapped->in_memory());
  EXPECT_TRUE(loaded->in_memory());
  ASSERT_EQ(loaded->size(), bytes.size());
  EXPECT_EQ(std::memcmp(loaded->data(), mapped->data(), bytes.size()), 0);
  // Moving keeps the memory valid; the moved-from object is empty.
  MappedFile moved = std::move(loaded).value();
  EXPECT_EQ(std::memcmp(moved.data(), bytes.data(), bytes.size()), 0);
  // Errors and empty files behave like Open.
  EXPECT_EQ(MappedFile::ReadIntoMemory("/nonexistent/x").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(MappedFile::ReadIntoMemory("/tmp").ok());
  const std::string empty = testing::TempDir() + "/empty";
  ASSERT_TRUE(WriteFileAtomic(empty, "").ok());
  auto e = MappedFile::ReadIntoMemory(empty);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 0u);
}

}  // namespace
}  // namespace hearth
