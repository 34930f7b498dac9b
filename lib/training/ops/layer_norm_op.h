// LayerNorm over the last dimension (kernels::kLayerNormEps, as HF's nn.LayerNorm), forward
// keeping the per-row mean and 1/σ that the backward needs:
//   x̂ = (x − μ)·r,  r = 1/√(var + eps),  y = γ·x̂ + β
//   dx = r·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·dy;  dγ += Σ dy·x̂;  dβ += Σ dy.
// The forward is the reference loop (kernels/reference.h) on both back ends.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/layer_norm.h"
#include "kernels/reference.h"

namespace perceiver::training {

template <typename T>
struct LayerNormStats {
  std::vector<T> mean, rstd;  // [rows]
};

template <typename T>
void layer_norm_forward(const T* x, int64_t rows, int64_t dim, const T* gamma, const T* beta, T* y,
                        LayerNormStats<T>& stats) {
  stats.mean.resize(rows);
  stats.rstd.resize(rows);
  kernels::reference::layer_norm_rows(x, rows, dim, gamma, beta, kernels::kLayerNormEps, y, stats.mean.data(),
                                      stats.rstd.data());
}

// dx is written, or added to with `dx_accumulate` (an input that also feeds a residual).
template <typename T>
void layer_norm_backward(const T* x, int64_t rows, int64_t dim, const T* gamma, const LayerNormStats<T>& stats,
                         const T* dy, T* dx, bool dx_accumulate, T* gamma_grad, T* beta_grad) {
  // dγ and dβ sum over rows: a pass split by columns, each column summed in row order (the same
  // sums for any number of threads). It comes first because dx may be dy itself. Then dx, whose
  // rows are independent.
  constexpr int64_t kColumnBlock = 16;
  const int64_t blocks = (dim + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t first = block * kColumnBlock, last = std::min(dim, first + kColumnBlock);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * dim;
      const T* g_row = dy + r * dim;
      const T mean = stats.mean[r], rstd = stats.rstd[r];
      for (int64_t i = first; i < last; ++i) {
        gamma_grad[i] += g_row[i] * ((row[i] - mean) * rstd);
        beta_grad[i] += g_row[i];
      }
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * dim;
    const T* g_row = dy + r * dim;
    const T mean = stats.mean[r], rstd = stats.rstd[r];
    T sum_g = 0, sum_g_xhat = 0;
    for (int64_t i = 0; i < dim; ++i) {
      const T xhat = (row[i] - mean) * rstd;
      const T g = g_row[i] * gamma[i];
      sum_g += g;
      sum_g_xhat += g * xhat;
    }
    const T mean_g = sum_g / static_cast<T>(dim), mean_g_xhat = sum_g_xhat / static_cast<T>(dim);
    T* out = dx + r * dim;
    for (int64_t i = 0; i < dim; ++i) {
      const T xhat = (row[i] - mean) * rstd;
      const T value = rstd * (g_row[i] * gamma[i] - mean_g - xhat * mean_g_xhat);
      out[i] = dx_accumulate ? out[i] + value : value;
    }
  }
}

}  // namespace perceiver::training
