// A tiny deterministic random generator for training (masking, shuffling, initialisation):
// SplitMix64 (Steele, Lea & Flood 2014). Written out here rather than taken from <random> so that
// every draw — and hence every mask, batch order and initial weight — is the same on every
// platform and standard library for a given seed.
#pragma once

#include <cstdint>

namespace perceiver::training {

// SplitMix64's output function: a bijective 64-bit mix (0 maps to 0).
inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  static constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio, odd

  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  // The next 64 random bits. Seed 0 starts 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, ...
  uint64_t next() {
    state_ += kGamma;
    return splitmix64_mix(state_);
  }

  // A double in [0, 1): the top 53 bits of next() times 2^-53.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // A uniform integer in [0, n), exactly unbiased: draws below 2^64 mod n are rejected so the
  // rest split evenly into n residues (at most one retry in two, usually none). n = 0 gives 0.
  uint64_t below(uint64_t n) {
    if (n == 0) return 0;
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  uint64_t state_;
};

// A seed derived from two numbers (e.g. a run's seed and a step or example index), so that
// related streams are independent: the first output of SplitMix64(first output of
// SplitMix64(a) XOR b). Not symmetric: mix_seed(a, b) != mix_seed(b, a) in general.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return SplitMix64(SplitMix64(a).next() ^ b).next(); }

}  // namespace perceiver::training
