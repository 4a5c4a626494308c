// Run records (book §4.5): everything needed to reproduce a generation —
// model sha256, Hearth version, seed and sampling parameters, prompt and its
// hash, prompt and output ids — as JSON (schema "hearth.run/v1").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/hparams.h"
#include "sampling/sampling_params.h"

namespace hearth::cli {

struct RunRecord {
  std::string model_path;
  std::string model_sha256;
  std::string prompt;
  sampling::SamplingParams sampling;
  int64_t max_tokens = 0;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  int threads = 0;
  int n_ctx = 0;
  KvType kv_type = KvType::kF16;
  std::string isa;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> output_ids;
  std::string stop_reason;
};

Status WriteRunRecord(const std::string& path, const RunRecord& r);
Result<RunRecord> ReadRunRecord(const std::string& path);

}  // namespace hearth::cli
