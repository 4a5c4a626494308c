// Chooses how far ahead a decode step's kernels prefetch the weights, for the
// machine it runs on, while it decodes.
//
// A decode step streams every weight once, and how much of the memory's
// bandwidth it gets depends on how many cache lines are in flight: on a Xeon
// 2 KiB ahead was best and 4 KiB 5-10% slower; on an AMD Zen 5 VM 6 KiB ahead
// streamed 5-10% faster than 2 KiB when the memory was not contended
// (docs/engine.md). No fixed distance suits both, so the tuner measures:
//   explore  `rounds` rounds, each running every candidate for one step, in an
//            order that rotates from round to round; within a round each
//            step's time is divided by the round's mean (the rounds' steps are
//            consecutive, so a slow drift of the step time with the context
//            length or of the machine cancels), and a candidate's score is the
//            median of its ratios;
//   exploit  the best candidate for `exploit_steps` steps, then explore again.
// The incumbent is replaced only by a candidate at least `min_gain` faster,
// so noise does not make it wander. The distance never changes a result's
// bits (the kernels' contract), only the time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hearth {

class PrefetchTuner {
 public:
  struct Options {
    std::vector<int64_t> candidates = {2048, 1024, 4096, 6144};  // [0]: the first incumbent
    int rounds = 4;
    int exploit_steps = 512;
    double min_gain = 0.02;
  };

  PrefetchTuner();
  // Candidates must be non-empty, rounds >= 1, exploit_steps >= 1 (else the
  // defaults are used for the invalid fields).
  explicit PrefetchTuner(Options o);

  // The distance for the next step.
  int64_t Next() const;
  // The step run with Next()'s distance took `seconds`. A time that is not
  // positive and finite is ignored (that step is run again).
  void Report(double seconds);

  // The current choice (what exploiting steps use).
  int64_t chosen() const { return opts_.candidates[static_cast<size_t>(incumbent_)]; }
  bool exploring() const { return exploring_; }
  // Completed explorations.
  int explorations() const { return explorations_; }

 private:
  void Decide();

  Options opts_;
  int incumbent_ = 0;
  bool exploring_ = true;
  int round_ = 0, slot_ = 0;
  int exploit_left_ = 0;
  int explorations_ = 0;
  std::vector<double> times_;  // [rounds][candidates]
};

}  // namespace hearth
