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
    // Two passes (mean, then squared deviations) in float, as PyTorch computes it; the simd
    // reductions keep 16 partial sums, which is also what makes them exact enough.
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += in[i];
    const float mean_f = sum / static_cast<float>(n);
    float squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = 0; i < n; ++i) squares += (in[i] - mean_f) * (in[i] - mean_f);
    const float inv_std = 1.f / std::sqrt(squares / static_cast<float>(n) + eps_);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = (in[i] - mean_f) * inv_std * gamma[i] + beta[i];
  }
}

Tensor LayerNorm::operator()(const Tensor& x) const {
  if (x.rank() == 0 || x.shape().back() != dim_)
    fail(ErrorKind::Internal, "LayerNorm expects [..., " + std::to_string(dim_) + "], got " + shape_to_string(x.shape()));
  Tensor y = Tensor::f32_uninitialized(x.shape());
  forward(x.data<float>(), x.numel() / dim_, y.mutable_data<float>());
  return y;
}

}  // namespace perceiver::kernels
