// Deterministic initial values: every parameter marked Init::Normal gets N(0, std²) draws, and
// every Init::FanIn one N(0, 1/fan_in) (fan_in = numel / shape[0]), from its own SplitMix64
// stream (seeded by the run seed and the parameter's index), both values of each Box–Muller pair
// in double (common/random.h), so the same seed gives the same model on every platform.
#pragma once

#include <cmath>

#include "common/random.h"
#include "training/model/parameters.h"

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
      const BoxMuller pair = random.box_muller(scale);
      value[j] = static_cast<T>(pair.first());
      if (j + 1 < value.size()) value[j + 1] = static_cast<T>(pair.second());
    }
  }
}

}  // namespace perceiver::training
