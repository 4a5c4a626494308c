// Golden logits (shared/testdata/golden, README there): loading a case and
// comparing a runtime's logits and greedy ids with the README's tolerance table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace hearth::testing {

struct GoldenCase {
  std::string name;         // "synth-llama-d256-q4_0.once"
  std::string model_path;   // absolute path of the GGUF
  std::string weight_type;  // "F32", "Q4_K_M", ...
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> greedy_ids;
  std::vector<double> greedy_margins;
  int n_vocab = 0;
  int n_positions = 0;
  std::vector<float> logits;      // [n_positions][n_vocab]
  std::vector<float> ref_logits;  // same shape, or empty (the independent fp32 reference)
  // The sequence fed to produce every stored row: prompt ++ greedy, first n_positions ids.
  std::vector<int32_t> Sequence() const;
};

// Case names listed in index.json; empty without shared data.
std::vector<std::string> GoldenCaseNames();
Result<GoldenCase> LoadGoldenCase(const std::string& name);

// The README's "Recommended thresholds for tests", by weight type of the file.
struct Tolerance {
  double max_abs, mean_abs, kl_mean, kl_max, top1;
  double greedy_margin;  // greedy ids must match up to the first step with a smaller margin
};
Tolerance ToleranceFor(const std::string& weight_type);

struct LogitsReport {
  double max_abs = 0, mean_abs = 0, kl_mean = 0, kl_max = 0, top1 = 0;
  bool ok = false;
  std::string failure;  // which limit was exceeded
  std::string Summary() const;
};
// `logits` has the golden's shape. A row's argmax may equal the golden's or, when a
// .ref.f32 exists, the reference's.
LogitsReport CompareLogits(const GoldenCase& c, const std::vector<float>& logits,
                           const Tolerance& tol);

struct GreedyReport {
  int first_divergence = -1;  // -1: all equal
  int allowed_from = 0;       // first step whose margin is below the tolerance
  bool ok = false;
  std::string Summary() const;
};
GreedyReport CompareGreedy(const GoldenCase& c, const std::vector<int32_t>& ids,
                           const Tolerance& tol);

}  // namespace hearth::testing
