#include "base/sha256.h"

#include <gtest/gtest.h>

#include "base/mapped_file.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

// FIPS 180-4 / NIST example vectors.
TEST(Sha256Test, StandardVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, StreamingEqualsOneShotForEverySplit) {
  std::string data;
  for (int i = 0; i < 300; ++i) data += static_cast<char>(i * 7);
  const std::string want = Sha256Hex(data);
  for (size_t split = 0; split <= data.size(); split += 13) {
    Sha256 h;
    h.Update(data.substr(0, split));
    h.Update(data.substr(split));
    EXPECT_EQ(ToHex(h.Final()), want) << split;
  }
}

TEST(Sha256Test, FilesMatchTheProvenanceTable) {
  HEARTH_REQUIRE_SHARED();
  // shared/models/PROVENANCE.md lists these digests.
  auto d = Sha256FileHex(testing::SharedDir() + "/models/aidreams260K/aidreams260K-f32.gguf");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "4bce04b23b28ddcca4c273812eaf5e32a0a301411912c9663597de5e1f67e0e3");
  EXPECT_FALSE(Sha256FileHex("/nonexistent").ok());
}

}  // namespace
}  // namespace hearth
