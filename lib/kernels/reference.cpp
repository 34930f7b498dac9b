#include "kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace perceiver::kernels::reference {

void linear(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias, int64_t out, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(x[r * in + i]) * weight[o * in + i];
      y[r * out + o] = static_cast<float>(acc);
    }
}

void layer_norm(const float* x, int64_t rows, int64_t dim, const float* weight, const float* bias, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * dim;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < dim; ++i) mean += in[i];
    mean /= dim;
    for (int64_t i = 0; i < dim; ++i) var += (in[i] - mean) * (in[i] - mean);
    var /= dim;
    for (int64_t i = 0; i < dim; ++i)
      y[r * dim + i] = static_cast<float>((in[i] - mean) / std::sqrt(var + eps) * weight[i] + bias[i]);
  }
}

float gelu(float x) { return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)))); }

void softmax(const float* x, int64_t n, float* y) {
  const float peak = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - peak);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - peak) / sum);
}

void attention(const float* q, int64_t nq, const float* k, const float* v, int64_t nk, int64_t heads, int64_t qk,
               int64_t vc, const float* mask_bias, float* ctx) {
  const int64_t dqk = qk / heads, dv = vc / heads;
  std::vector<float> scores(nk), probs(nk);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < nq; ++i) {
      for (int64_t j = 0; j < nk; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < dqk; ++c) dot += static_cast<double>(q[i * qk + h * dqk + c]) * k[j * qk + h * dqk + c];
        scores[j] = static_cast<float>(dot / std::sqrt(static_cast<double>(dqk)));
        if (mask_bias) scores[j] += mask_bias[j];
      }
      softmax(scores.data(), nk, probs.data());
      for (int64_t c = 0; c < dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < nk; ++j) acc += static_cast<double>(probs[j]) * v[j * vc + h * dv + c];
        ctx[i * vc + h * dv + c] = static_cast<float>(acc);
      }
    }
}

}  // namespace perceiver::kernels::reference
