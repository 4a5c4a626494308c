#include "model/kv_cache.h"

#include <gtest/gtest.h>

namespace hearth {
namespace {

HParams Shape(uint64_t layers, uint64_t kv_heads, uint64_t head_dim) {
  HParams hp;
  hp.n_layer = layers;
  hp.n_head_kv = kv_heads;
  hp.head_dim = head_dim;
  return hp;
}

TEST(KvCacheTest, SizesFollowTheKvHeads) {
  auto c = KvCache::Create(Shape(5, 4, 8), 128, KvType::kF16);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->row_elems(), 32);
  EXPECT_EQ(c->bytes(), 2u * 5 * 128 * 32 * 2);
  EXPECT_EQ(c->head_bytes(), 8u * 2);
  // Head-major: [layer][kv head][position][head_dim].
  EXPECT_EQ(c->k(0, 0, 1) - c->k(0, 0, 0), 16);
  EXPECT_EQ(c->k(0, 1, 0) - c->k(0, 0, 0), 128 * 16);
  EXPECT_EQ(c->k(1, 2, 3) - c->k(0, 0, 0), static_cast<ptrdiff_t>(((4 + 2) * 128 + 3) * 16));
  EXPECT_EQ(c->v(1, 2, 3) - c->v(0, 0, 0), c->k(1, 2, 3) - c->k(0, 0, 0));
}

TEST(KvCacheTest, RefusesWhatTheMachineCannotHold) {
  // 4096 layers x 2^20 positions x 8192 values x 2 bytes x 2 = 128 TiB.
  auto c = KvCache::Create(Shape(4096, 64, 128), 1 << 20, KvType::kF16);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().reason(), "oom_kv_cache");
  EXPECT_NE(c.status().message().find("lower --ctx"), std::string::npos) << c.status().message();
  EXPECT_EQ(KvCache::Create(Shape(1, 1, 32), 16, KvType::kQ8_0).status().code(),
            StatusCode::kUnimplemented);
  EXPECT_FALSE(KvCache::Create(Shape(1, 1, 32), 0, KvType::kF32).ok());
}

}  // namespace
}  // namespace hearth
