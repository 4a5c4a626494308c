// Reader and writer behaviour on files built in memory.
#include <gtest/gtest.h>

#include <cstring>

#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(GgufWriterTest, EveryValueTypeSurvives) {
  GgufWriter w;
  w.SetUint8("u8", 200);
  w.SetInt8("i8", -100);
  w.SetUint16("u16", 60000);
  w.SetInt16("i16", -30000);
  w.SetUint32("u32", 4000000000u);
  w.SetInt32("i32", -2000000000);
  w.SetUint64("u64", 18000000000000000000ull);
  w.SetInt64("i64", -9000000000000000000ll);
  w.SetFloat32("f32", 0.25f);
  w.SetFloat64("f64", -1e300);
  w.SetBool("b", true);
  w.SetString("s", std::string("a\0b", 3));
  w.SetStringArray("sa", {"x", "", "zz"});
  std::vector<float> fa = {1.5f, -2.0f};
  w.SetFloat32Array("fa", fa);
  std::vector<int32_t> ia = {7, -8, 9};
  w.SetInt32Array("ia", ia);
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::Parse(Bytes(*bytes));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(*f->Find("u8")->ToUint(), 200u);
  EXPECT_EQ(*f->Find("i8")->ToInt(), -100);
  EXPECT_EQ(*f->Find("u16")->ToUint(), 60000u);
  EXPECT_EQ(*f->Find("i16")->ToInt(), -30000);
  EXPECT_EQ(*f->Find("u32")->ToUint(), 4000000000u);
  EXPECT_EQ(*f->Find("i32")->ToInt(), -2000000000);
  EXPECT_EQ(*f->Find("u64")->ToUint(), 18000000000000000000ull);
  EXPECT_FALSE(f->Find("u64")->ToInt().ok()) << "u64 above INT64_MAX must not wrap";
  EXPECT_EQ(*f->Find("i64")->ToInt(), -9000000000000000000ll);
  EXPECT_FALSE(f->Find("i8")->ToUint().ok()) << "negative to unsigned must fail";
  EXPECT_EQ(*f->Find("f32")->ToDouble(), 0.25);
  EXPECT_EQ(*f->Find("f64")->ToDouble(), -1e300);
  EXPECT_TRUE(*f->Find("b")->ToBool());
  EXPECT_EQ(f->Find("s")->string(), std::string("a\0b", 3));
  const GgufValue* sa = f->Find("sa");
  ASSERT_TRUE(sa->is_array());
  EXPECT_EQ(sa->size(), 3u);
  EXPECT_EQ(sa->StringAt(2), "zz");
  EXPECT_EQ(f->Find("fa")->DoubleAt(0), 1.5);
  EXPECT_EQ(f->Find("ia")->IntAt(1), -8);
  EXPECT_FALSE(f->Find("s")->ToInt().ok());
  EXPECT_EQ(f->Find("missing"), nullptr);
  auto missing = f->GetUint("missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "gguf.missing_key");
  auto wrong = f->GetUint("s");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("key 's'"), std::string::npos);
}

TEST(GgufWriterTest, ReplacingAKeyKeepsItsPosition) {
  GgufWriter w;
  w.SetUint32("a", 1);
  w.SetUint32("b", 2);
  w.SetString("a", "now a string");
  auto bytes = w.WriteToString();  // must outlive the parsed views
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::Parse(Bytes(*bytes));
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].key, "a");
  EXPECT_EQ(f->metadata()[0].value.string(), "now a string");
  EXPECT_TRUE(w.Remove("b"));
  EXPECT_FALSE(w.Has("b"));
}

TEST(GgufWriterTest, TensorsAreAlignedAndReadBack) {
  GgufWriter w;
  w.SetUint32("general.alignment", 64);
  std::vector<float> a = {1, 2, 3};
  std::vector<uint64_t> shape_a = {3};
  ASSERT_TRUE(w.AddTensorBytes("a", GgmlType::kF32, shape_a,
                               {reinterpret_cast<const uint8_t*>(a.data()), 12})
                  .ok());
  std::vector<uint64_t> shape_b = {32, 2};
  ASSERT_TRUE(w.AddTensor("b", GgmlType::kQ8_0, shape_b, [](std::span<uint8_t> out) {
                 for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i);
                 return Status::Ok();
               }).ok());
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), w.FileSize());
  EXPECT_EQ(bytes->size() % 64, 0u);
  auto f = GgufFile::Parse(Bytes(*bytes));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  const GgufTensorInfo* b = f->FindTensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->offset, 64u);
  EXPECT_EQ(b->n_bytes, 68u);
  EXPECT_EQ(b->n_elements, 64u);
  auto data = f->TensorData(*b);
  EXPECT_EQ(data[67], 67);
  float got[3];
  std::memcpy(got, f->TensorData(*f->FindTensor("a")).data(), 12);
  EXPECT_EQ(got[2], 3.0f);
}

TEST(GgufWriterTest, RejectsBadTensors) {
  GgufWriter w;
  std::vector<uint64_t> bad_row = {33};
  EXPECT_EQ(w.AddTensor("q", GgmlType::kQ8_0, bad_row, nullptr).reason(),
            "gguf.bad_block_multiple");
  std::vector<uint64_t> five = {1, 1, 1, 1, 1};
  EXPECT_EQ(w.AddTensor("five", GgmlType::kF32, five, nullptr).reason(), "gguf.bad_n_dims");
  std::vector<uint64_t> ok = {4};
  ASSERT_TRUE(w.AddTensor("t", GgmlType::kF32, ok, nullptr).ok());
  EXPECT_EQ(w.AddTensor("t", GgmlType::kF32, ok, nullptr).reason(), "gguf.duplicate_tensor");
  EXPECT_EQ(w.AddTensor("u", GgmlType::kF32, ok, nullptr, uint64_t{8}).reason(), "gguf.bad_offset");
}

TEST(GgufWriterTest, WriteFailsCleanlyOnBadDirectory) {
  GgufWriter w;
  w.SetUint32("x", 1);
  Status st = w.Write("/nonexistent-dir/out.gguf");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent-dir/out.gguf"), std::string::npos);
}

TEST(GgufWriterTest, WriteToFileMatchesWriteToString) {
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  std::vector<uint64_t> shape = {8, 2};
  ASSERT_TRUE(w.AddTensor("t", GgmlType::kF16, shape, [](std::span<uint8_t> out) {
                 std::memset(out.data(), 0x3c, out.size());
                 return Status::Ok();
               }).ok());
  std::string path = testing::TempDir() + "/w.gguf";
  ASSERT_TRUE(w.Write(path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto s = w.WriteToString();
  ASSERT_EQ(f->file_size(), s->size());
  EXPECT_EQ(0, std::memcmp(f->bytes().data(), s->data(), s->size()));
  EXPECT_EQ(f->path(), path);
}

TEST(GgufReaderTest, EngineSupportNamesTheTensor) {
  GgufWriter w;
  std::vector<uint64_t> shape = {256};
  ASSERT_TRUE(w.AddTensor("blk.3.ffn_down.weight", GgmlType::kQ2_K, shape, nullptr).ok());
  auto bytes = w.WriteToString();
  auto f = GgufFile::Parse(Bytes(*bytes));
  ASSERT_TRUE(f.ok());
  Status st = f->CheckEngineSupport();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("blk.3.ffn_down.weight"), std::string::npos);
  EXPECT_NE(st.message().find("Q2_K"), std::string::npos);
}

TEST(GgufReaderTest, OpenErrorsCarryThePath) {
  std::string path = testing::TempDir() + "/junk.gguf";
  GgufWriter w;
  ASSERT_TRUE(WriteFileAtomic(path, std::string("GGUF\x03\x00\x00\x00", 8)).ok());
  auto f = GgufFile::Open(path);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().reason(), "gguf.truncated");
  EXPECT_NE(f.status().message().find(path), std::string::npos);
  EXPECT_NE(f.status().message().find("byte offset 8"), std::string::npos);
}

TEST(GgmlTypesTest, TableIsConsistent) {
  uint32_t known = 0;
  for (uint32_t id = 0; id < kGgmlTypeIdLimit + 5; ++id) {
    auto info = LookupGgmlType(id);
    if (!info) continue;
    ++known;
    EXPECT_EQ(static_cast<uint32_t>(info->type), id);
    EXPECT_EQ(ParseGgmlType(info->name), info->type);
    EXPECT_GT(info->type_size, 0u);
  }
  EXPECT_EQ(known, 32u);
  // Block layouts (bytes per block) as defined by the GGUF format.
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ4_0).type_size, 18u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ4_1).type_size, 20u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ5_0).type_size, 22u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ5_1).type_size, 24u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ8_0).type_size, 34u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ2_K).type_size, 84u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ3_K).type_size, 110u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ4_K).type_size, 144u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ5_K).type_size, 176u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ6_K).type_size, 210u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kQ8_K).type_size, 292u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kIQ4_XS).type_size, 136u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kTQ1_0).type_size, 54u);
  EXPECT_EQ(GetGgmlTypeInfo(GgmlType::kMXFP4).type_size, 17u);
  EXPECT_EQ(GgmlTypeIdName(4), "Q4_2 (removed)");
  EXPECT_EQ(GgmlTypeIdName(99), "unknown");
  EXPECT_TRUE(GetGgmlTypeInfo(GgmlType::kQ6_K).engine_supported);
  EXPECT_FALSE(GetGgmlTypeInfo(GgmlType::kIQ2_XXS).engine_supported);
}

}  // namespace
}  // namespace hearth
