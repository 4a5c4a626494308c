#include "model/model.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "base/strings.h"
#include "kernels/matmul.h"

namespace hearth {
namespace {

Status MissingTensor(const std::string& name) {
  return NotFoundError("tensor '" + name + "' is missing", "model.missing_tensor");
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::Load(const std::string& path,
                                                 const ModelLoadOptions& opts) {
  HEARTH_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(path, opts.in_memory));
  std::shared_ptr<Model> m(new Model());
  m->file_ = std::move(f);
  Status st = m->Bind();
  if (!st.ok()) return st.WithContext("loading '" + path + "'");
  // The repack is only for speed: if the memory cannot be made writable, the
  // weights stay as they are (repacked_matrices() says 0).
  if (opts.in_memory && opts.repack) (void)m->Repack();
  if (opts.mlock) HEARTH_RETURN_IF_ERROR(m->file_.Lock());
  return std::shared_ptr<const Model>(std::move(m));
}

Status Model::Bind() {
  hp_ = ReadHParams(file_);
  if (hp_.arch != "llama" && hp_.arch != "qwen2") {
    return UnimplementedError(
        "architecture '" + hp_.arch + "' is not supported yet (supported: llama, qwen2)",
        "model.unsupported_arch");
  }
  if (!hp_.missing.empty()) {
    return InvalidArgumentError("metadata key '" + hp_.missing[0] + "' is missing",
                                "model.missing_key");
  }
  if (hp_.n_head == 0 || hp_.n_head_kv == 0 || hp_.n_head % hp_.n_head_kv != 0 ||
      hp_.head_dim == 0 || hp_.head_dim % 2 != 0 || hp_.rope_dims > hp_.head_dim) {
    return InvalidArgumentError(
        StrFormat("inconsistent attention shape: %llu heads, %llu KV heads, head_dim %llu",
                  (unsigned long long)hp_.n_head, (unsigned long long)hp_.n_head_kv,
                  (unsigned long long)hp_.head_dim),
        "model.bad_hparams");
  }
  HEARTH_RETURN_IF_ERROR(file_.CheckEngineSupport());

  auto matrix = [&](const std::string& name, uint64_t n_in, uint64_t n_out, Matrix* m) -> Status {
    const GgufTensorInfo* t = file_.FindTensor(name);
    if (t == nullptr) return MissingTensor(name);
    if (t->n_dims != 2 || t->ne[0] != n_in || t->ne[1] != n_out) {
      return InvalidArgumentError(
          StrFormat("tensor '%s' has shape [%llu, %llu], expected [%llu, %llu]", name.c_str(),
                    (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                    (unsigned long long)n_in, (unsigned long long)n_out),
          "model.bad_shape");
    }
    const GgmlTypeInfo& info = GetGgmlTypeInfo(t->type);
    m->type = t->type;
    m->data = file_.TensorData(*t).data();
    m->row_bytes = n_in / info.block_size * info.type_size;
    m->n_in = static_cast<int64_t>(n_in);
    m->n_out = static_cast<int64_t>(n_out);
    m->name = name;
    return Status::Ok();
  };
  auto vector = [&](const std::string& name, uint64_t n, const float** out,
                    bool optional = false) -> Status {
    const GgufTensorInfo* t = file_.FindTensor(name);
    if (t == nullptr) return optional ? Status::Ok() : MissingTensor(name);
    if (t->type != GgmlType::kF32 || t->n_elements != n) {
      return InvalidArgumentError(StrFormat("tensor '%s' must be F32 with %llu values",
                                            name.c_str(), (unsigned long long)n),
                                  "model.bad_shape");
    }
    if (reinterpret_cast<uintptr_t>(file_.TensorData(*t).data()) % 4 != 0) {
      return InvalidArgumentError("tensor '" + name + "' is not 4-byte aligned", "model.bad_shape");
    }
    *out = reinterpret_cast<const float*>(file_.TensorData(*t).data());
    return Status::Ok();
  };

  const uint64_t e = hp_.n_embd, q_dim = hp_.n_head * hp_.head_dim;
  const uint64_t kv_dim = hp_.n_head_kv * hp_.head_dim;
  HEARTH_RETURN_IF_ERROR(matrix("token_embd.weight", e, hp_.n_vocab, &token_embd_));
  layers_.resize(hp_.n_layer);
  for (uint64_t l = 0; l < hp_.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    LayerWeights& L = layers_[l];
    HEARTH_RETURN_IF_ERROR(vector(b + "attn_norm.weight", e, &L.attn_norm));
    HEARTH_RETURN_IF_ERROR(matrix(b + "attn_q.weight", e, q_dim, &L.wq));
    HEARTH_RETURN_IF_ERROR(matrix(b + "attn_k.weight", e, kv_dim, &L.wk));
    HEARTH_RETURN_IF_ERROR(matrix(b + "attn_v.weight", e, kv_dim, &L.wv));
    HEARTH_RETURN_IF_ERROR(matrix(b + "attn_output.weight", q_dim, e, &L.wo));
    HEARTH_RETURN_IF_ERROR(vector(b + "attn_q.bias", q_dim, &L.bq, true));
    HEARTH_RETURN_IF_ERROR(vector(b + "attn_k.bias", kv_dim, &L.bk, true));
    HEARTH_RETURN_IF_ERROR(vector(b + "attn_v.bias", kv_dim, &L.bv, true));
    if ((L.bq == nullptr) != (L.bk == nullptr) || (L.bk == nullptr) != (L.bv == nullptr)) {
      return InvalidArgumentError(b + "attn_{q,k,v}.bias must be all present or all absent",
                                  "model.bad_shape");
    }
    HEARTH_RETURN_IF_ERROR(vector(b + "ffn_norm.weight", e, &L.ffn_norm));
    HEARTH_RETURN_IF_ERROR(matrix(b + "ffn_gate.weight", e, hp_.n_ff, &L.w_gate));
    HEARTH_RETURN_IF_ERROR(matrix(b + "ffn_up.weight", e, hp_.n_ff, &L.w_up));
    HEARTH_RETURN_IF_ERROR(matrix(b + "ffn_down.weight", hp_.n_ff, e, &L.w_down));
  }
  HEARTH_RETURN_IF_ERROR(vector("output_norm.weight", e, &output_norm_));
  if (file_.FindTensor("output.weight") != nullptr) {
    HEARTH_RETURN_IF_ERROR(matrix("output.weight", e, hp_.n_vocab, &output_));
  } else {
    output_ = token_embd_;
  }
  HEARTH_RETURN_IF_ERROR(vector("rope_freqs.weight", hp_.rope_dims / 2, &rope_factors_, true));
  for (const auto& t : file_.tensors()) weight_bytes_ += t.n_bytes;
  return Status::Ok();
}

Status Model::Repack() {
  // The product matrices that have a faster layout on this CPU.
  const kernels::Isa isa = kernels::ActiveIsa();
  std::vector<Matrix*> ms;
  auto consider = [&](Matrix* m) {
    if (kernels::PreferredLayout(m->type, isa) != kernels::WeightLayout::kGguf) ms.push_back(m);
  };
  for (LayerWeights& L : layers_) {
    for (Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) consider(m);
  }
  if (output_.data != token_embd_.data) consider(&output_);
  if (ms.empty()) return Status::Ok();
  // Matrices are taken in turn by every core (a 1.1B Q4_0 model: ~150 ms on one).
  HEARTH_RETURN_IF_ERROR(file_.RewriteInMemory([&](std::span<uint8_t> bytes) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < ms.size();) {
        Matrix* m = ms[i];
        const kernels::WeightLayout layout = kernels::PreferredLayout(m->type, isa);
        uint8_t* data = bytes.data() + (m->data - file_.bytes().data());
        kernels::RepackRows(m->type, layout, data, m->n_out, m->row_bytes, m->n_in);
        m->layout = layout;
      }
    };
    std::vector<std::thread> threads;
    const size_t helpers =
        std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()) - 1, ms.size());
    threads.reserve(helpers);
    try {
      while (threads.size() < helpers) threads.emplace_back(work);
    } catch (...) {
      // No more threads to be had: the ones started and this one do it all.
    }
    work();
    for (std::thread& t : threads) t.join();
  }));
  repacked_matrices_ = static_cast<int>(ms.size());
  return Status::Ok();
}

}  // namespace hearth
