// Results are never NaN or infinite: a non-finite value anywhere in a model's output means the
// weights hold one (inputs are checked where they are read), so the input fails with a message
// that names the weights file instead of printing NaN probabilities, [PAD] fills or black frames.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "tensor/tensor.h"

namespace perceiver {

// Error(Input) "the model's <what> are not finite (NaN or infinity): <weights_source> is the
// likely cause" when any of the `count` floats is NaN or infinite.
inline void require_finite_output(const float* values, int64_t count, const std::string& what,
                                  const std::string& weights_source) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i]))
      fail(ErrorKind::Input, "the model's " + what + " are not finite (NaN or infinity): a non-finite weight in " +
                                 weights_source + " is the likely cause");
}

inline void require_finite_output(const Tensor& output, const std::string& what, const std::string& weights_source) {
  require_finite_output(output.data<float>(), output.numel(), what, weights_source);
}

}  // namespace perceiver
