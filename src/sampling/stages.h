// Sampler stages: small pure functions over a candidate list.
//
// A Candidates list starts as every token (id, logit) in id order. Stages
// shrink or rescale it; none allocates (they shrink the vector in place and
// keep its capacity). Every ordering is a strict total order: higher logit
// first, ties broken by lower id, so results never depend on sort stability
// or on anything but the inputs.
//
// Probabilities are softmax(logits) over the candidates that remain: exp in
// float, sums in double. A -inf logit means probability 0.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/sampling_params.h"

namespace hearth::sampling {

struct Candidate {
  int32_t id;
  float logit;
};

struct Candidates {
  std::vector<Candidate> items;
  // True when `items` is in Before() order (a stage that sorts sets it; a
  // stage that changes logits non-monotonically would clear it).
  bool sorted = false;
};

// The order every sorting stage uses: higher logit first, then lower id.
inline bool Before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Refills `c` with ids 0..logits.size()-1 in id order (no allocation once
// `c.items` has the capacity).
void FillCandidates(std::span<const float> logits, Candidates& c);

// Adds each bias to its token's logit. Needs `c` in id order as filled
// (candidate index == id); ids must be in range (ValidateSamplingParams).
void ApplyLogitBias(std::span<const LogitBias> biases, Candidates& c);

// Penalizes every token that occurs in `window` (the last N previous tokens):
//   logit = logit > 0 ? logit / repetition : logit * repetition   (llama.cpp / CTRL)
//   logit -= count * frequency + (count > 0 ? presence : 0)      (OpenAI)
// `counts` is scratch of size n_vocab, all zero on entry and on exit. Needs
// `c` in id order; window ids must be in [0, c.items.size()).
void ApplyPenalties(float repetition, float frequency, float presence,
                    std::span<const int32_t> window, std::span<int32_t> counts, Candidates& c);

// Drops candidates whose logit is -inf (probability 0), keeping the order.
void DropImpossible(Candidates& c);

// Keeps the k best in Before() order (nth_element + sort of k: O(n + k log k)).
// k <= 0 or k >= size is a no-op.
void TopK(int32_t k, Candidates& c);

// Nucleus: keeps the smallest Before()-ordered prefix whose cumulative
// probability is >= p, sorted. p >= 1 is a no-op. Unsorted input is first
// narrowed by a quickselect on probability mass (expected O(n)), so only the
// kept set (plus at most a few hundred) is sorted.
void TopP(float p, Candidates& c);

// Keeps candidates with probability >= min_p * max probability, i.e.
// logit >= max_logit + log(min_p); keeps the order. min_p <= 0 is a no-op.
void MinP(float min_p, Candidates& c);

// logit = (logit - max_logit) / t for t > 0: the distribution of
// softmax(logit / t), shifted so the best logit is 0 (cannot overflow).
void Temperature(float t, Candidates& c);

// The highest logit; ties to the lowest id. `c` must be non-empty.
int32_t Argmax(const Candidates& c);

// Draws from softmax(logits) with u in [0, 1): walks the candidates in their
// current order and returns the first whose cumulative probability exceeds
// u. Zero-probability candidates are never returned. `c` must be non-empty
// with at least one finite logit.
int32_t DrawFromSoftmax(const Candidates& c, double u);

// softmax over the candidates in their current order (for tests and tools).
std::vector<double> Probabilities(const Candidates& c);

}  // namespace hearth::sampling
