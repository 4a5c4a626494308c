// `hearth synth` models: deterministic, of the requested shapes, readable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "base/mapped_file.h"
#include "format/gguf.h"
#include "format/quant_ref.h"
#include "model/hparams.h"
#include "model/synth.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

SynthOptions Small(GgmlType type) {
  SynthOptions o;
  o.dims = *SynthPreset("tiny");
  EXPECT_TRUE(
      ApplyDimsOverrides("n_embd=64,n_ff=128,n_layer=2,n_head=4,n_head_kv=2", &o.dims).ok());
  o.type = type;
  o.seed = 42;
  return o;
}

TEST(SynthTest, SameSeedSameBytesAnyThreadCount) {
  std::string dir = testing::TempDir();
  SynthOptions a = Small(GgmlType::kQ8_0);
  a.threads = 1;
  SynthOptions b = a;
  b.threads = 3;
  ASSERT_TRUE(WriteSynthModel(a, dir + "/a.gguf").ok());
  ASSERT_TRUE(WriteSynthModel(b, dir + "/b.gguf").ok());
  EXPECT_EQ(*ReadFileToString(dir + "/a.gguf"), *ReadFileToString(dir + "/b.gguf"));
  SynthOptions c = a;
  c.seed = 43;
  ASSERT_TRUE(WriteSynthModel(c, dir + "/c.gguf").ok());
  EXPECT_NE(*ReadFileToString(dir + "/a.gguf"), *ReadFileToString(dir + "/c.gguf"));
}

TEST(SynthTest, ShapesAndStatistics) {
  std::string path = testing::TempDir() + "/m.gguf";
  SynthOptions o = Small(GgmlType::kF32);
  ASSERT_TRUE(WriteSynthModel(o, path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  HParams hp = ReadHParams(*f);
  EXPECT_EQ(hp.arch, "llama");
  EXPECT_EQ(hp.n_embd, 64u);
  EXPECT_EQ(hp.n_ff, 128u);
  EXPECT_EQ(hp.n_layer, 2u);
  EXPECT_EQ(hp.n_head_kv, 2u);
  EXPECT_EQ(hp.n_vocab, 512u);
  EXPECT_TRUE(hp.missing.empty());
  EXPECT_EQ(f->tensors().size(), 1 + 2 * 9 + 2u);
  const GgufTensorInfo* q = f->FindTensor("blk.1.attn_k.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ne[0], 64u);
  EXPECT_EQ(q->ne[1], 2u * 16);
  // q/k/v weights have standard deviation 1.2/sqrt(n_embd); norms lie in [0.8, 1.2].
  std::vector<float> w(q->n_elements);
  std::memcpy(w.data(), f->TensorData(*q).data(), q->n_bytes);
  double sum = 0, sq = 0;
  for (float v : w) sum += v, sq += v * v;
  double mean = sum / w.size(), sd = std::sqrt(sq / w.size() - mean * mean);
  EXPECT_NEAR(sd, 1.2 / 8.0, 0.015);
  EXPECT_NEAR(mean, 0.0, 0.02);
  const GgufTensorInfo* n = f->FindTensor("output_norm.weight");
  const float* nv = reinterpret_cast<const float*>(f->TensorData(*n).data());
  for (uint64_t i = 0; i < n->n_elements; ++i) {
    EXPECT_GE(nv[i], 0.8f);
    EXPECT_LE(nv[i], 1.2f);
  }
  TokenizerSummary tok = ReadTokenizerSummary(*f);
  EXPECT_EQ(tok.model, "llama");
  EXPECT_EQ(tok.n_tokens, 512u);
}

TEST(SynthTest, QuantizedTypesDecodeCloseToF32) {
  std::string dir = testing::TempDir();
  ASSERT_TRUE(WriteSynthModel(Small(GgmlType::kF32), dir + "/f32.gguf").ok());
  for (GgmlType t : {GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0}) {
    ASSERT_TRUE(WriteSynthModel(Small(t), dir + "/q.gguf").ok());
    auto a = GgufFile::Open(dir + "/f32.gguf");
    auto b = GgufFile::Open(dir + "/q.gguf");
    ASSERT_TRUE(a.ok() && b.ok());
    const GgufTensorInfo* ta = a->FindTensor("blk.0.ffn_up.weight");
    const GgufTensorInfo* tb = b->FindTensor("blk.0.ffn_up.weight");
    ASSERT_EQ(tb->type, t);
    std::vector<float> x(ta->n_elements), y(tb->n_elements);
    ASSERT_TRUE(
        DequantizeRowRef(GgmlType::kF32, a->TensorData(*ta).data(), x.size(), x.data()).ok());
    ASSERT_TRUE(DequantizeRowRef(t, b->TensorData(*tb).data(), y.size(), y.data()).ok());
    double max_err = 0;
    for (size_t i = 0; i < x.size(); ++i)
      max_err = std::max(max_err, double(std::fabs(x[i] - y[i])));
    EXPECT_LT(max_err, 0.01) << GetGgmlTypeInfo(t).name;  // weights ~ N(0, 1/8)
    EXPECT_GT(max_err, 0.0);
    // 1-D tensors stay F32.
    EXPECT_EQ(b->FindTensor("blk.0.ffn_norm.weight")->type, GgmlType::kF32);
  }
}

TEST(SynthTest, PresetsHaveRealShapes) {
  auto t = SynthPreset("tinyllama-1.1b");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->n_embd, 2048u);
  EXPECT_EQ(t->n_layer, 22u);
  EXPECT_EQ(t->n_head_kv, 4u);
  EXPECT_EQ(t->n_ff, 5632u);
  auto q = SynthPreset("qwen2.5-0.5b");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->arch, "qwen2");
  EXPECT_TRUE(q->qkv_bias);
  EXPECT_TRUE(q->tied_output);
  EXPECT_FALSE(SynthPreset("gpt-5").has_value());
}

TEST(SynthTest, Llama3PresetCarriesRopeFactors) {
  SynthOptions o;
  o.dims = *SynthPreset("llama3.2-1b");
  // Same rope layout, tiny dimensions so the test stays fast.
  ASSERT_TRUE(
      ApplyDimsOverrides("n_embd=128,n_ff=256,n_layer=1,n_head=2,n_head_kv=1,n_vocab=300", &o.dims)
          .ok());
  std::string path = testing::TempDir() + "/l3.gguf";
  ASSERT_TRUE(WriteSynthModel(o, path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok());
  const GgufTensorInfo* r = f->FindTensor("rope_freqs.weight");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->n_elements, 32u);  // head_dim 64 / 2
  const float* v = reinterpret_cast<const float*>(f->TensorData(*r).data());
  EXPECT_EQ(v[0], 1.0f);    // high frequencies unscaled
  EXPECT_EQ(v[31], 32.0f);  // low frequencies scaled by the factor
  EXPECT_TRUE(ReadHParams(*f).tied_output);
}

TEST(SynthTest, VocabIsCopiedAndPadded) {
  HEARTH_REQUIRE_SHARED();
  SynthOptions o = Small(GgmlType::kF32);
  o.vocab_from = testing::SharedDir() + "/models/aidreams260K/aidreams260K-f32.gguf";
  ASSERT_TRUE(ApplyDimsOverrides("n_vocab=600", &o.dims).ok());
  std::string path = testing::TempDir() + "/v.gguf";
  ASSERT_TRUE(WriteSynthModel(o, path).ok());
  auto f = GgufFile::Open(path);
  auto src = GgufFile::Open(o.vocab_from);
  ASSERT_TRUE(f.ok() && src.ok());
  const GgufValue* toks = f->Find("tokenizer.ggml.tokens");
  ASSERT_EQ(toks->size(), 600u);
  EXPECT_EQ(toks->StringAt(300), src->Find("tokenizer.ggml.tokens")->StringAt(300));
  EXPECT_EQ(f->Find("tokenizer.ggml.token_type")->IntAt(599), 5);  // unused
  EXPECT_EQ(f->FindTensor("token_embd.weight")->ne[1], 600u);
  Status bad = WriteSynthModel(
      [&] {
        SynthOptions b = o;
        b.vocab_from = "/nonexistent.gguf";
        return b;
      }(),
      path);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("vocab-from"), std::string::npos);
}

}  // namespace
}  // namespace hearth

namespace hearth {
namespace {

TEST(SynthTest, Q4KMMixtureAndBlockFallback) {
  SynthOptions o;
  o.dims = *SynthPreset("tiny");  // 4 layers, n_embd 256, n_ff 768
  ASSERT_TRUE(ApplyDimsOverrides("n_vocab=512", &o.dims).ok());
  o.type = *ParseSynthType("Q4_K_M");
  std::string path = testing::TempDir() + "/km.gguf";
  ASSERT_TRUE(WriteSynthModel(o, path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->FindTensor("output.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ(f->FindTensor("blk.0.attn_q.weight")->type, GgmlType::kQ4_K);
  // The golden README's Q4_K_M file: Q6_K for attn_v / ffn_down of layers 2-3.
  EXPECT_EQ(f->FindTensor("blk.1.attn_v.weight")->type, GgmlType::kQ4_K);
  EXPECT_EQ(f->FindTensor("blk.2.attn_v.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ(f->FindTensor("blk.3.ffn_down.weight")->type, GgmlType::kQ6_K);
  // ffn_down rows have n_ff = 768 = 3 x 256 elements: a whole number of super-blocks.
  EXPECT_EQ(f->FindTensor("blk.0.ffn_down.weight")->type, GgmlType::kQ4_K);

  SynthOptions k = o;
  k.type = GgmlType::kQ4_K;
  ASSERT_TRUE(ApplyDimsOverrides("n_embd=96,n_head=3,n_head_kv=1,n_ff=256", &k.dims).ok());
  ASSERT_TRUE(WriteSynthModel(k, path).ok());
  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok());
  // 96-element rows cannot hold 256-element super-blocks: they fall back to Q5_0.
  EXPECT_EQ(g->FindTensor("blk.0.attn_q.weight")->type, GgmlType::kQ5_0);
  EXPECT_EQ(g->FindTensor("blk.0.ffn_down.weight")->type, GgmlType::kQ4_K);
  EXPECT_FALSE(ParseSynthType("iq2_xxs").has_value());
}

}  // namespace
}  // namespace hearth
