// Hyper-parameters and tokenizer facts of every shared GGUF, checked against the
// tables in shared/testdata/golden/README.md, shared/testdata/vocab/README.md and
// shared/models/PROVENANCE.md (transcribed below), and against the tensor type
// counts of shared/testdata/golden/index.json.
#include <gtest/gtest.h>

#include <map>

#include "base/json.h"
#include "base/mapped_file.h"
#include "format/gguf.h"
#include "model/hparams.h"
#include "testing/shared_files.h"
#include "testing/test_paths.h"

namespace hearth {
namespace {

struct ModelRow {
  const char* prefix;  // file stem prefix
  const char* arch;
  uint64_t n_embd, n_ff, n_layer, n_head, n_head_kv, head_dim, n_vocab, n_ctx;
  bool tied;
  RopeType rope;
  double rope_base, eps;
  bool qkv_bias;
  int64_t bos;
};

// golden/README.md "Models" table.
const ModelRow kModels[] = {
    {"aidreams260K-f32", "llama", 64, 172, 4, 4, 4, 16, 512, 128, false, RopeType::kNorm, 10000,
     1e-5, false, 1},
    {"stories260K-f32", "llama", 64, 172, 5, 8, 4, 8, 512, 128, false, RopeType::kNorm, 10000, 1e-5,
     false, 1},
    {"synth-llama-d256-", "llama", 256, 768, 4, 8, 2, 32, 512, 512, false, RopeType::kNorm, 10000,
     1e-5, false, 1},
    {"synth-qwen2-d256-", "qwen2", 256, 768, 3, 8, 4, 32, 50257, 512, true, RopeType::kNeox, 1e6,
     1e-6, true, 50256},
    {"synth-llama-spm-d256-", "llama", 256, 768, 2, 4, 4, 64, 32000, 512, true, RopeType::kNorm,
     10000, 1e-5, false, 1},
};

struct VocabRow {
  const char* file;
  const char* arch;
  const char* model;
  const char* pre;
  uint64_t n_vocab;
  bool has_merges;
};

// vocab/README.md table ("default" pre-tokenizer is stored as the string "default").
const VocabRow kVocabs[] = {
    {"ggml-vocab-llama-spm.gguf", "llama", "llama", "default", 32000, false},
    {"ggml-vocab-phi-3.gguf", "phi3", "llama", "default", 32064, false},
    {"ggml-vocab-gpt-2.gguf", "gpt2", "gpt2", "gpt-2", 50257, true},
    {"ggml-vocab-deepseek-coder.gguf", "llama", "gpt2", "deepseek-coder", 32256, true},
    {"ggml-vocab-deepseek-llm.gguf", "llama", "gpt2", "deepseek-llm", 102400, true},
    {"ggml-vocab-falcon.gguf", "falcon", "gpt2", "falcon", 65024, true},
    {"ggml-vocab-mpt.gguf", "mpt", "gpt2", "mpt", 50432, true},
    {"ggml-vocab-refact.gguf", "refact", "gpt2", "refact", 49216, true},
    {"ggml-vocab-starcoder.gguf", "starcoder2", "gpt2", "starcoder", 49152, true},
    {"ggml-vocab-bert-bge.gguf", "bert", "bert", "bert-bge", 30522, false},
};

std::string Stem(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  return base.substr(0, base.size() - 5);
}

TEST(HParamsTest, ModelsMatchGoldenReadme) {
  HEARTH_REQUIRE_SHARED();
  int checked = 0;
  for (const std::string& path : testing::SharedGgufFiles()) {
    const std::string stem = Stem(path);
    const ModelRow* row = nullptr;
    for (const auto& r : kModels) {
      if (stem.rfind(r.prefix, 0) == 0) row = &r;
    }
    if (row == nullptr) continue;
    SCOPED_TRACE(path);
    auto f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    HParams hp = ReadHParams(*f);
    EXPECT_EQ(hp.arch, row->arch);
    EXPECT_EQ(hp.n_embd, row->n_embd);
    EXPECT_EQ(hp.n_ff, row->n_ff);
    EXPECT_EQ(hp.n_layer, row->n_layer);
    EXPECT_EQ(hp.n_head, row->n_head);
    EXPECT_EQ(hp.n_head_kv, row->n_head_kv);
    EXPECT_EQ(hp.head_dim, row->head_dim);
    EXPECT_EQ(hp.rope_dims, row->head_dim);
    EXPECT_EQ(hp.n_vocab, row->n_vocab);
    EXPECT_EQ(hp.n_ctx_train, row->n_ctx);
    EXPECT_EQ(hp.tied_output, row->tied);
    EXPECT_EQ(hp.rope_type, row->rope);
    EXPECT_DOUBLE_EQ(hp.rope_freq_base, row->rope_base);
    EXPECT_NEAR(hp.norm_eps, row->eps, row->eps * 1e-6);
    EXPECT_EQ(hp.has_qkv_bias, row->qkv_bias);
    EXPECT_TRUE(hp.missing.empty());
    TokenizerSummary tok = ReadTokenizerSummary(*f);
    ASSERT_FALSE(tok.specials.empty());
    EXPECT_EQ(tok.specials[0].role, "bos");
    EXPECT_EQ(tok.specials[0].id, row->bos);
    ++checked;
  }
  EXPECT_EQ(checked, 18) << "every golden model should have been checked";
}

TEST(HParamsTest, VocabFilesMatchVocabReadme) {
  HEARTH_REQUIRE_SHARED();
  for (const auto& row : kVocabs) {
    const std::string path = testing::SharedDir() + "/testdata/vocab/" + row.file;
    SCOPED_TRACE(path);
    auto f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_TRUE(f->tensors().empty());
    HParams hp = ReadHParams(*f);
    EXPECT_EQ(hp.arch, row.arch);
    EXPECT_EQ(hp.n_vocab, row.n_vocab);
    TokenizerSummary tok = ReadTokenizerSummary(*f);
    EXPECT_EQ(tok.model, row.model);
    EXPECT_EQ(tok.pre, row.pre);
    EXPECT_EQ(tok.n_tokens, row.n_vocab);
    EXPECT_EQ(tok.n_merges > 0, row.has_merges);
  }
}

TEST(HParamsTest, TensorTypeCountsMatchGoldenIndex) {
  HEARTH_REQUIRE_SHARED();
  const std::string dir = testing::SharedDir() + "/testdata/golden";
  auto text = ReadFileToString(dir + "/index.json");
  ASSERT_TRUE(text.ok());
  auto index = json::Parse(*text);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  const json::Value* models = index->Find("models");
  ASSERT_NE(models, nullptr);
  ASSERT_EQ(models->as_object().size(), 18u);
  for (const auto& [name, m] : models->as_object()) {
    SCOPED_TRACE(name);
    auto f = GgufFile::Open(dir + "/" + m.Find("model")->as_string());
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->file_size(), static_cast<uint64_t>(m.Find("bytes")->as_int()));
    std::map<std::string, int64_t> counts;
    for (const auto& t : f->tensors()) ++counts[std::string(GetGgmlTypeInfo(t.type).name)];
    std::map<std::string, int64_t> expected;
    for (const auto& [type, n] : m.Find("tensor_type_counts")->as_object())
      expected[type] = n.as_int();
    EXPECT_EQ(counts, expected);
    EXPECT_EQ(ReadHParams(*f).arch, m.Find("arch")->as_string());
    EXPECT_TRUE(f->CheckEngineSupport().ok());
  }
}

TEST(MemoryPlanTest, KvUsesKvHeadsNotAttentionHeads) {
  HEARTH_REQUIRE_SHARED();
  // stories260K: 5 layers, 4 KV heads (8 attention heads), head_dim 8.
  auto f = GgufFile::Open(testing::SharedDir() + "/models/stories260K/stories260K-f32.gguf");
  ASSERT_TRUE(f.ok());
  HParams hp = ReadHParams(*f);
  MemoryPlan p16 = PlanMemory(*f, hp, 256, 2, KvType::kF16);
  EXPECT_EQ(p16.kv_bytes_per_token, 2u * 5 * 4 * 8 * 2);
  EXPECT_EQ(p16.kv_bytes, p16.kv_bytes_per_token * 256 * 2);
  EXPECT_EQ(p16.weight_bytes, 1185376u - f->data_offset());  // F32 tensors packed to the end
  EXPECT_EQ(p16.total_bytes, p16.weight_bytes + p16.kv_bytes + p16.scratch_bytes);
  MemoryPlan p32 = PlanMemory(*f, hp, 0, 1, KvType::kF32);
  EXPECT_EQ(p32.n_ctx, 128u) << "0 means the training context";
  EXPECT_EQ(p32.kv_bytes_per_token, 2u * 5 * 4 * 8 * 4);
  // Q8_0: 34 bytes per 32 elements; a 32-element K row per layer.
  MemoryPlan pq = PlanMemory(*f, hp, 128, 1, KvType::kQ8_0);
  EXPECT_EQ(pq.kv_bytes_per_token, 5u * 2 * 34);
}

}  // namespace
}  // namespace hearth
