// Every attention variant against the scalar reference, over head sizes,
// context lengths, KV types, row strides and misaligned rows; and each
// variant is bit-identical run to run.
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "format/fp16.h"

namespace hearth::kernels {
namespace {

struct Case {
  int head_dim, n_heads, n_pos;
  bool f16;
  int misalign;  // bytes the K/V buffers are shifted by
};

void Fill(const Case& c, std::mt19937& rng, std::vector<uint8_t>* kv, std::vector<float>* q,
          size_t* row_bytes) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int row_elems = c.head_dim * c.n_heads;
  *row_bytes = static_cast<size_t>(row_elems) * (c.f16 ? 2 : 4);
  kv->assign(static_cast<size_t>(c.n_pos) * *row_bytes + c.misalign, 0);
  for (int p = 0; p < c.n_pos; ++p) {
    uint8_t* row = kv->data() + c.misalign + static_cast<size_t>(p) * *row_bytes;
    for (int i = 0; i < row_elems; ++i) {
      const float x = nd(rng) * 2.0f;
      if (c.f16) {
        const uint16_t h = FloatToFp16(x);
        std::memcpy(row + i * 2, &h, 2);
      } else {
        std::memcpy(row + i * 4, &x, 4);
      }
    }
  }
  q->resize(static_cast<size_t>(c.head_dim));
  for (float& x : *q) x = nd(rng);
}

// The K/V rows of a Case and n_q query heads over its second KV head (a GQA
// group): Args() for that group, writing scores and out.
struct GroupInput {
  std::vector<uint8_t> k, v;
  std::vector<float> q;
  size_t row_bytes = 0;
  Case c;
  int n_q;
  GroupInput(const Case& c_in, int n_q_in, std::mt19937& rng) : c(c_in), n_q(n_q_in) {
    std::vector<float> unused;
    Fill(c, rng, &k, &unused, &row_bytes);
    Fill(c, rng, &v, &unused, &row_bytes);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    q.resize(static_cast<size_t>(n_q) * c.head_dim);
    for (float& x : q) x = nd(rng);
  }
  AttnArgs Args(float* scores, float* out) const {
    AttnArgs a;
    a.q = q.data();
    a.k = k.data() + c.misalign;
    a.v = v.data() + c.misalign;
    a.row_bytes = row_bytes;
    a.head_offset = c.head_dim;
    a.head_dim = c.head_dim;
    a.n_pos = c.n_pos;
    a.f16 = c.f16;
    a.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    a.scores = scores;
    a.out = out;
    a.n_q = n_q;
    return a;
  }
};

bool Has(Isa isa) {
  Isa all[8];
  const int n = AvailableIsas(all);
  for (int i = 0; i < n; ++i)
    if (all[i] == isa) return true;
  return false;
}

// One SIMD variant (head_dim % 8 == 0) against AttendHeadRef over the sweep.
void ExpectMatchesReference(void (*variant)(const AttnArgs&)) {
  std::mt19937 rng(7);
  int cases = 0;
  for (int hd : {8, 32, 64, 80, 128}) {
    for (int n_pos : {1, 2, 7, 64, 300, 1025}) {
      for (bool f16 : {false, true}) {
        for (int misalign : {0, 2, 6}) {
          const Case c{hd, 3, n_pos, f16, misalign};
          std::vector<uint8_t> k, v;
          std::vector<float> q;
          size_t row_bytes;
          Fill(c, rng, &k, &q, &row_bytes);
          Fill(c, rng, &v, &q, &row_bytes);
          for (int head = 0; head < c.n_heads; ++head) {
            std::vector<float> s1(n_pos), s2(n_pos), o1(hd), o2(hd), o3(hd);
            AttnArgs a;
            a.q = q.data();
            a.k = k.data() + misalign;
            a.v = v.data() + misalign;
            a.row_bytes = row_bytes;
            a.head_offset = head * hd;
            a.head_dim = hd;
            a.n_pos = n_pos;
            a.f16 = f16;
            a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
            a.scores = s1.data();
            a.out = o1.data();
            AttendHeadRef(a);
            a.scores = s2.data();
            a.out = o2.data();
            variant(a);
            a.out = o3.data();
            variant(a);
            EXPECT_EQ(std::memcmp(o2.data(), o3.data(), o2.size() * 4), 0) << "not deterministic";
            for (int i = 0; i < hd; ++i) {
              // Outputs are convex combinations of V values of magnitude ~2.
              EXPECT_NEAR(o1[i], o2[i], 2e-5f * (1.0f + std::fabs(o1[i])))
                  << "hd " << hd << " n_pos " << n_pos << " f16 " << f16 << " i " << i;
            }
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 5 * 6 * 2 * 3 * 3);
}

TEST(AttentionTest, Avx2MatchesReference) {
  if (!Has(Isa::kAvx2)) GTEST_SKIP() << "this CPU has no AVX2";
  ExpectMatchesReference(&AttendHeadAvx2);
}

TEST(AttentionTest, Avx512MatchesReference) {
  if (!Has(Isa::kAvx512)) GTEST_SKIP() << "this CPU has no AVX-512";
  ExpectMatchesReference(&AttendHeadAvx512);
}

// The AVX-512 variant computes every output value by AVX2's fma chain over the
// positions, 16 values at a time (the last chunk 8 wide when head_dim % 16 is
// 8): the same bits, for groups of every size and both KV types.
TEST(AttentionTest, Avx512GivesAvx2Bits) {
  if (!Has(Isa::kAvx512)) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(5);
  int cases = 0;
  for (int hd : {8, 24, 64, 72, 128}) {
    for (int n_q : {1, 3, 4, 8, 9}) {
      for (int n_pos : {1, 7, 16, 24, 300, 1000}) {
        for (bool f16 : {false, true}) {
          const GroupInput in(Case{hd, 2, n_pos, f16, 6}, n_q, rng);
          const size_t n_out = static_cast<size_t>(n_q) * hd;
          std::vector<float> s1(static_cast<size_t>(n_q) * n_pos), s2(s1.size());
          std::vector<float> o1(n_out, 7.0f), o2(n_out, 7.0f);
          AttendHeadAvx2(in.Args(s1.data(), o1.data()));
          AttendHeadAvx512(in.Args(s2.data(), o2.data()));
          ASSERT_EQ(std::memcmp(o1.data(), o2.data(), n_out * 4), 0)
              << "hd " << hd << " n_q " << n_q << " n_pos " << n_pos << " f16 " << f16;
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 5 * 5 * 6 * 2);
}

TEST(AttentionTest, NeonMatchesReference) {
  if (!Has(Isa::kNeon)) GTEST_SKIP() << "this CPU has no NEON";
  ExpectMatchesReference(&AttendHeadNeon);
}

TEST(AttentionTest, DispatchFallsBackForOddHeadSizes) {
  std::mt19937 rng(3);
  const Case c{6, 1, 5, true, 0};  // not a multiple of 8: the reference runs
  std::vector<uint8_t> k, v;
  std::vector<float> q;
  size_t row_bytes;
  Fill(c, rng, &k, &q, &row_bytes);
  Fill(c, rng, &v, &q, &row_bytes);
  std::vector<float> s(5), o1(6), o2(6);
  AttnArgs a{q.data(), k.data(), v.data(), row_bytes, 0, 6, 5, true, 0.5f, s.data(), o1.data()};
  AttendHeadRef(a);
  a.out = o2.data();
  AttendHead(a, ActiveIsa());
  EXPECT_EQ(std::memcmp(o1.data(), o2.data(), 6 * 4), 0);
}

TEST(AttentionTest, SoftmaxIsStableForLargeScores) {
  // Scores of ±1e4 must not overflow: the max is subtracted before exp.
  const int hd = 8;
  std::vector<float> q(hd, 100.0f);
  std::vector<float> kf(2 * hd), vf(2 * hd);
  for (int i = 0; i < hd; ++i) kf[i] = 12.5f, kf[hd + i] = -12.5f, vf[i] = 1.0f, vf[hd + i] = -1.0f;
  std::vector<float> s(2), o(hd);
  AttnArgs a{q.data(),
             reinterpret_cast<const uint8_t*>(kf.data()),
             reinterpret_cast<const uint8_t*>(vf.data()),
             hd * 4,
             0,
             hd,
             2,
             false,
             1.0f,
             s.data(),
             o.data()};
  for (Isa isa : {Isa::kScalar, ActiveIsa()}) {
    AttendHead(a, isa);
    for (float x : o) EXPECT_FLOAT_EQ(x, 1.0f);
  }
}

// A GQA group (n_q query heads over one KV head) computed together gives
// each head the bits it gets alone, for every variant; and the reference's
// values within tolerance. Group sizes 1-9 cover every head-block split.
TEST(AttentionTest, GroupEqualsHeadsAlone) {
  std::mt19937 rng(11);
  Isa all[8];
  const int n_isa = AvailableIsas(all);
  for (int hd : {8, 64, 80, 128}) {
    for (int n_q : {1, 2, 3, 4, 7, 8, 9}) {
      for (bool f16 : {false, true}) {
        const GroupInput in(Case{hd, 2, 67, f16, 2}, n_q, rng);
        const Case& c = in.c;
        for (int i = 0; i < n_isa; ++i) {
          SCOPED_TRACE(std::string(IsaName(all[i])) + " hd " + std::to_string(hd) + " n_q " +
                       std::to_string(n_q) + (f16 ? " f16" : " f32"));
          std::vector<float> scores(static_cast<size_t>(n_q) * c.n_pos), group(in.q.size());
          const AttnArgs a = in.Args(scores.data(), group.data());
          AttendHead(a, all[i]);
          for (int h = 0; h < n_q; ++h) {
            std::vector<float> s(c.n_pos), alone(hd), ref(hd);
            AttnArgs one = a;
            one.n_q = 1;
            one.q = in.q.data() + h * hd;
            one.scores = s.data();
            one.out = alone.data();
            AttendHead(one, all[i]);
            ASSERT_EQ(std::memcmp(alone.data(), group.data() + h * hd, hd * 4), 0) << "head " << h;
            one.out = ref.data();
            AttendHeadRef(one);
            for (int j = 0; j < hd; ++j)
              ASSERT_NEAR(ref[j], alone[j], 2e-5f * (1.0f + std::fabs(ref[j]))) << "head " << h;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace hearth::kernels
