// AdamW (decoupled weight decay, Loshchilov & Hutter) with a linear warm-up + cosine learning
// rate, and gradient clipping by global norm.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "training/model/parameters.h"

namespace perceiver::training {

struct OptimizerSettings {
  double learning_rate = 1e-3;   // peak
  double min_learning_rate = 0;  // the cosine's floor
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weight_decay = 0.01;    // on matrices only (Parameter::weight_decay)
  double clip_norm = 1.0;        // 0: no clipping
};

// Step s (0-based): s+1/warmup · peak during warm-up, then cosine from peak to the floor at
// total_steps; constant at the floor after that.
inline double learning_rate_at(const OptimizerSettings& settings, int64_t step) {
  if (step < settings.warmup_steps)
    return settings.learning_rate * static_cast<double>(step + 1) / static_cast<double>(settings.warmup_steps);
  const int64_t decay_steps = std::max<int64_t>(1, settings.total_steps - settings.warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - settings.warmup_steps) / static_cast<double>(decay_steps));
  return settings.min_learning_rate +
         0.5 * (settings.learning_rate - settings.min_learning_rate) * (1.0 + std::cos(M_PI * progress));
}

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
template <typename T>
double clip_gradients(ParameterSet<T>& params, double max_norm) {
  double squares = 0;
  for (size_t i = 0; i < params.size(); ++i)
    for (T g : params[i].grad) squares += static_cast<double>(g) * static_cast<double>(g);
  const double norm = std::sqrt(squares);
  if (max_norm > 0 && norm > max_norm) {
    const T scale = static_cast<T>(max_norm / (norm + 1e-6));
    for (size_t i = 0; i < params.size(); ++i)
      for (T& g : params[i].grad) g *= scale;
  }
  return norm;
}

// Adam's moment estimates for every parameter (same order and sizes as the ParameterSet).
template <typename T>
struct AdamState {
  int64_t step = 0;  // updates done
  std::vector<std::vector<T>> first_moment, second_moment;
};

template <typename T>
void adamw_update(ParameterSet<T>& params, AdamState<T>& state, const OptimizerSettings& settings, double learning_rate) {
  if (state.first_moment.size() != params.size()) {
    state.first_moment.resize(params.size());
    state.second_moment.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      state.first_moment[i].assign(params[i].value.size(), static_cast<T>(0));
      state.second_moment[i].assign(params[i].value.size(), static_cast<T>(0));
    }
  }
  ++state.step;
  const double correction1 = 1.0 - std::pow(settings.beta1, static_cast<double>(state.step));
  const double correction2 = 1.0 - std::pow(settings.beta2, static_cast<double>(state.step));
  const T lr = static_cast<T>(learning_rate), b1 = static_cast<T>(settings.beta1), b2 = static_cast<T>(settings.beta2);
  const T step_size = static_cast<T>(learning_rate / correction1);
  const T inv_sqrt_c2 = static_cast<T>(1.0 / std::sqrt(correction2)), eps = static_cast<T>(settings.epsilon);
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter<T>& p = params[i];
    std::vector<T>& m = state.first_moment[i];
    std::vector<T>& v = state.second_moment[i];
    const T decay = p.weight_decay ? static_cast<T>(1) - lr * static_cast<T>(settings.weight_decay) : static_cast<T>(1);
    const int64_t count = p.numel();
#pragma omp parallel for schedule(static) if (count >= 4096)
    for (int64_t j = 0; j < count; ++j) {
      const T g = p.grad[j];
      m[j] = b1 * m[j] + (static_cast<T>(1) - b1) * g;
      v[j] = b2 * v[j] + (static_cast<T>(1) - b2) * g * g;
      p.value[j] = p.value[j] * decay - step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_c2 + eps);
    }
  }
}

}  // namespace perceiver::training
