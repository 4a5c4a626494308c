// Memory read bandwidth: the ceiling of token generation, which reads every
// weight once per token.
//
// A buffer of whole pages per reader thread is allocated and written once
// (page faults are never timed), then read by all threads at once with wide
// loads, the passes rotating through read patterns (one, two or four streams
// per thread; software prefetch none, 1, 2 or 6 KiB ahead; 16-byte loads or the
// widest the CPU has: which is fastest depends on the machine); a pass is timed
// from the moment all readers start until the last one ends, and the best pass
// counts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace hearth {

struct BandwidthResult {
  double gb_per_s = 0;        // best pass, 1e9 bytes per second
  int threads = 0;            // reader threads used
  uint64_t buffer_bytes = 0;  // bytes read per pass
  int passes = 0;             // timed passes
  double elapsed_ms = 0;      // total, including allocation and first touch
  // How the best pass read, e.g. "1 stream per thread, 64-byte loads, prefetch
  // 1024 B ahead".
  std::string best_pattern;
};

// A buffer that can be measured many times, e.g. between the repetitions of a
// benchmark, so that a ratio to it is taken under the same conditions (a
// shared or virtual machine's bandwidth drifts by 10% within minutes).
class ReadBandwidthProbe {
 public:
  // `buffer_bytes` is rounded down to whole 4 KiB pages per thread (at least
  // one). `huge_pages` false measures 4 KiB pages, as a memory-mapped model
  // file has (about 10% below the huge-page figure).
  static Result<std::unique_ptr<ReadBandwidthProbe>> Create(int threads, uint64_t buffer_bytes,
                                                            bool huge_pages);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
  ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

  // Runs min_passes..max_passes passes: stops starting passes once
  // `max_seconds` (counted from `spent_seconds`) would be exceeded after
  // min_passes, or 2 x `max_seconds` after one. Not thread-safe with respect to
  // other heavy work: run it on an otherwise idle process.
  BandwidthResult Measure(int min_passes, int max_passes, double max_seconds,
                          double spent_seconds = 0) const;

  uint64_t buffer_bytes() const { return chunk_ * static_cast<uint64_t>(threads_); }
  // The read patterns passes rotate through: as many passes try each once.
  static int patterns();
  int threads() const { return threads_; }

 private:
  ReadBandwidthProbe(int threads, uint64_t chunk, uint8_t* base)
      : threads_(threads), chunk_(chunk), base_(base) {}
  int threads_;
  uint64_t chunk_;  // bytes per thread
  uint8_t* base_;
};

// One measurement on a fresh buffer, 3 to 12 passes within ~`max_seconds`:
// `buffer_bytes` 0 means 256 MiB (less if little RAM is available), far above
// the last-level cache of the devices Hearth targets. About 0.1-0.2 s for
// 256 MiB at 20-40 GB/s; the first run in a fresh VM can spend more on page
// faults.
Result<BandwidthResult> MeasureReadBandwidth(int threads, double max_seconds,
                                             uint64_t buffer_bytes = 0, bool huge_pages = true);
// Reads [p, p + n) as a pass of the probe reads a thread's part: `streams` (1,
// 2 or 4) equal pieces side by side, 128 bytes of each in turn, software
// prefetch `ahead` bytes ahead (0: none), loads of `load_bytes` (16, 32 or 64;
// a width the CPU lacks is read with the widest it has); the bytes past the
// last whole round come last. Returns a value that depends on every byte (so
// the reads stay). For benchmarks that compare other reads of the same bytes
// with the probe's.
uint64_t ReadAsStreams(const uint8_t* p, size_t n, int streams, size_t ahead, int load_bytes = 16);

// Convenience: the GB/s of MeasureReadBandwidth, or 0 on failure.
double MeasureReadBandwidthGBs(int threads, double max_seconds);

}  // namespace hearth
