// Rng: the per-request random source of the sampler.
//
// xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/), its 256-bit
// state filled from the 64-bit seed by SplitMix64 as the authors recommend.
// Chosen because it is tiny, fast, fully specified (bit-exact on every
// platform and compiler, unlike std::uniform_real_distribution) and has no
// hidden global state: the same seed always gives the same stream.
//
// Thread safety: none; one Rng per request, used by one thread at a time.
// Cost: a handful of integer operations per draw; no allocation.
#pragma once

#include <cstdint>

namespace hearth::sampling {

class Rng {
 public:
  explicit Rng(uint64_t seed) { Seed(seed); }

  // Restarts the stream as if newly constructed with `seed`.
  void Seed(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& word : s_) word = SplitMix64(&x);
  }

  // The next 64 uniformly distributed bits.
  uint64_t NextU64() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1): the top 53 bits scaled by 2^-53, so every value is an
  // exact multiple of 2^-53 and 1.0 is never returned.
  double NextDouble() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t* x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

}  // namespace hearth::sampling
