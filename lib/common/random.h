// The project's one deterministic random generator: SplitMix64 (Steele, Lea & Flood 2014), and
// the one Box–Muller transform that turns its draws into normal values. Written out here rather
// than taken from <random> so that every draw — every mask, batch order and initial weight of
// perceiver-train, every random_weights() tensor, every fuzz mutation — is the same on every
// platform and standard library for a given seed.
#pragma once

#include <cmath>
#include <cstdint>

namespace perceiver {

// SplitMix64's output function: a bijective 64-bit mix (0 maps to 0).
inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Box–Muller (1958): for u1 in (0, 1] and u2 in [0, 1), radius = scale·√(−2 ln u1) and
// angle = 2π·u2 give first() = radius·cos(angle) and second() = radius·sin(angle), two
// independent N(0, scale²) values; a caller that wants one takes first() only.
inline constexpr double kTwoPi = 6.283185307179586;  // 2π rounded to double
#ifdef M_PI
static_assert(kTwoPi == 2.0 * M_PI, "2π as the trainer has always computed it");
#endif

struct BoxMuller {
  double radius, angle;
  BoxMuller(double u1, double u2, double scale = 1.0)
      : radius(scale * std::sqrt(-2.0 * std::log(u1))), angle(kTwoPi * u2) {}
  double first() const { return radius * std::cos(angle); }
  double second() const { return radius * std::sin(angle); }
};

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

  // Box–Muller over two draws, u1 = 1 − uniform() (in (0, 1]) first, then u2 = uniform().
  BoxMuller box_muller(double scale = 1.0) {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return BoxMuller(u1, u2, scale);
  }
  // One N(0, std²) value: the cosine of box_muller(std), so two draws per value.
  double normal(double std = 1.0) { return box_muller(std).first(); }

 private:
  uint64_t state_;
};

// A seed derived from two numbers (e.g. a run's seed and a step or example index), so that
// related streams are independent: the first output of SplitMix64(first output of
// SplitMix64(a) XOR b). Not symmetric: mix_seed(a, b) != mix_seed(b, a) in general.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return SplitMix64(SplitMix64(a).next() ^ b).next(); }

}  // namespace perceiver
