// Linear layer forward and backward, HF weight layout W [out, in]:
//   y = x·Wᵀ + b;   dx = dy·W;   dW += dyᵀ·x;   db += Σ_rows dy.
#pragma once

#include "training/ops/gemm.h"

namespace perceiver::training {

// x [rows, in] → y [rows, out]; with `accumulate`, y += x·Wᵀ + b (the residual connections).
template <typename T>
void linear_forward(GemmBackend backend, const T* x, int64_t rows, int64_t in, const T* weight, const T* bias,
                    int64_t out, T* y, bool accumulate = false) {
  gemm(backend, GemmShape{false, true, rows, out, in, in, in, out, accumulate}, x, weight, y);
  if (bias)
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) y[r * out + o] += bias[o];
}

// dy [rows, out]. dx [rows, in] is written (or added to with `dx_accumulate`; null: not wanted);
// the parameter gradients are always added to.
template <typename T>
void linear_backward(GemmBackend backend, const T* x, int64_t rows, int64_t in, const T* weight, int64_t out,
                     const T* dy, T* dx, bool dx_accumulate, T* weight_grad, T* bias_grad) {
  if (dx) gemm(backend, GemmShape{false, false, rows, in, out, out, in, in, dx_accumulate}, dy, weight, dx);
  gemm(backend, GemmShape{true, false, out, in, rows, out, in, in, true}, dy, x, weight_grad);
  if (bias_grad)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) bias_grad[o] += dy[r * out + o];
}

}  // namespace perceiver::training
