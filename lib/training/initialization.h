// Deterministic initial values: every parameter marked Init::Normal gets N(0, std²) draws, and
// every Init::FanIn one N(0, 1/fan_in) (fan_in = numel / shape[0]), from its own SplitMix64
// stream (seeded by the run seed and the parameter's index), Box–Muller in double, so the same
// seed gives the same model on every platform.
#pragma once

#include <cmath>

#include "training/parameters.h"
#include "training/random.h"

namespace perceiver::training {

inline constexpr double kInitializerRange = 0.02;  // HF's initializer_range

template <typename T>
void initialize_parameters(ParameterSet<T>& params, uint64_t seed, double std = kInitializerRange) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Init init = params.init_of(i);
    if (init != Init::Normal && init != Init::FanIn) continue;
    SplitMix64 random(mix_seed(seed, i));
    auto& value = params[i].value;
    const double scale = init == Init::Normal ? std
                                              : std::sqrt(static_cast<double>(params[i].shape[0]) /
                                                          static_cast<double>(value.size()));
    for (size_t j = 0; j < value.size(); j += 2) {
      const double u1 = 1.0 - random.uniform(), u2 = random.uniform();  // u1 in (0, 1]
      const double radius = scale * std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * u2;
      value[j] = static_cast<T>(radius * std::cos(angle));
      if (j + 1 < value.size()) value[j + 1] = static_cast<T>(radius * std::sin(angle));
    }
  }
}

}  // namespace perceiver::training
