// LayerNorm over the last axis (biased variance), as every Perceiver layer uses it (eps 1e-5).
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace perceiver::kernels {

// The eps of every Perceiver LayerNorm, inference and training: PyTorch's default, as HF builds
// them; config.layer_norm_eps is never read. Double, for the trainer's double-precision checks;
// the float kernels use it rounded to float (exactly 1e-5f).
inline constexpr double kLayerNormEps = 1e-5;
static_assert(static_cast<float>(kLayerNormEps) == 1e-5f);

class LayerNorm {
 public:
  LayerNorm() = default;
  LayerNorm(const Tensor& weight, const Tensor& bias, float eps = static_cast<float>(kLayerNormEps));

  int64_t dim() const { return dim_; }
  // y[rows, dim] = (x − mean)/sqrt(var + eps)·weight + bias, row by row; y may alias x.
  void forward(const float* x, int64_t rows, float* y) const;
  Tensor operator()(const Tensor& x) const;

 private:
  int64_t dim_ = 0;
  float eps_ = static_cast<float>(kLayerNormEps);
  Tensor weight_, bias_;  // [dim], F32
};

}  // namespace perceiver::kernels
