#include "model/kv_cache.h"

#include "base/strings.h"
#include "base/sysinfo.h"

namespace hearth {

uint64_t KvCache::BytesFor(const HParams& hp, int n_ctx, KvType type) {
  return 2 * hp.n_head_kv * hp.head_dim * (type == KvType::kF32 ? 4 : 2) * hp.n_layer *
         static_cast<uint64_t>(n_ctx);
}

Result<KvCache> KvCache::Create(const HParams& hp, int n_ctx, KvType type) {
  if (type == KvType::kQ8_0) {
    return UnimplementedError("--kv-type q8_0 is not supported by the engine yet (use f16 or f32)",
                              "cli.bad_value");
  }
  if (n_ctx <= 0) return InvalidArgumentError("context length must be positive", "cli.bad_value");
  KvCache c;
  c.type_ = type;
  c.n_ctx_ = n_ctx;
  c.n_head_kv_ = static_cast<int>(hp.n_head_kv);
  c.head_dim_ = static_cast<int>(hp.head_dim);
  c.head_bytes_ = static_cast<size_t>(hp.head_dim) * (type == KvType::kF32 ? 4 : 2);
  const size_t bytes = c.head_bytes_ * hp.n_head_kv * hp.n_layer * static_cast<size_t>(n_ctx);
  // Refuse up front what the machine cannot hold, naming the numbers (DESIGN §4),
  // rather than failing inside the allocator.
  if (auto mem = GetMemoryInfo(); mem.ok() && 2 * bytes > mem->EffectiveAvailableBytes()) {
    return ResourceExhaustedError(
        StrFormat("the KV cache for %d positions needs %s (K and V, %s), but only %s of memory is "
                  "available; lower --ctx",
                  n_ctx, HumanBytes(2 * bytes).c_str(), KvTypeName(type),
                  HumanBytes(mem->EffectiveAvailableBytes()).c_str()),
        "oom_kv_cache");
  }
  c.k_.resize(bytes);
  c.v_.resize(bytes);
  return c;
}

}  // namespace hearth
