// LayerNorm over the last axis (biased variance), as every Perceiver layer uses it (eps 1e-5).
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace perceiver::kernels {

constexpr float kLayerNormEps = 1e-5f;  // PyTorch's default; config.layer_norm_eps is never read

class LayerNorm {
 public:
  LayerNorm() = default;
  LayerNorm(const Tensor& weight, const Tensor& bias, float eps = kLayerNormEps);

  int64_t dim() const { return dim_; }
  // y[rows, dim] = (x − mean)/sqrt(var + eps)·weight + bias, row by row; y may alias x.
  void forward(const float* x, int64_t rows, float* y) const;
  Tensor operator()(const Tensor& x) const;

 private:
  int64_t dim_ = 0;
  float eps_ = kLayerNormEps;
  Tensor weight_, bias_;  // [dim], F32
};

}  // namespace perceiver::kernels
