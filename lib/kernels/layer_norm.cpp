#include "kernels/layer_norm.h"

#include <cmath>

#include "common/error.h"

namespace perceiver::kernels {

LayerNorm::LayerNorm(const Tensor& weight, const Tensor& bias, float eps)
    : dim_(weight.numel()), eps_(eps), weight_(weight.to_f32()), bias_(bias.to_f32()) {
  if (bias.numel() != dim_) fail(ErrorKind::Internal, "LayerNorm weight and bias differ in size");
}

void LayerNorm::forward(const float* x, int64_t rows, float* y) const {
  const float* gamma = weight_.data<float>();
  const float* beta = bias_.data<float>();
  const int64_t n = dim_;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * n;
    float* out = y + r * n;
    // Two passes in double: exact enough that the statistics never limit agreement with PyTorch.
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += in[i];
    const double mean = sum / n;
    double squares = 0;
    for (int64_t i = 0; i < n; ++i) squares += (in[i] - mean) * (in[i] - mean);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(squares / n + eps_));
    const float mean_f = static_cast<float>(mean);
    for (int64_t i = 0; i < n; ++i) out[i] = (in[i] - mean_f) * inv_std * gamma[i] + beta[i];
  }
}

Tensor LayerNorm::operator()(const Tensor& x) const {
  if (x.rank() == 0 || x.shape().back() != dim_)
    fail(ErrorKind::Internal, "LayerNorm expects [..., " + std::to_string(dim_) + "], got " + shape_to_string(x.shape()));
  Tensor y = Tensor::f32(x.shape());
  forward(x.data<float>(), x.numel() / dim_, y.mutable_data<float>());
  return y;
}

}  // namespace perceiver::kernels
