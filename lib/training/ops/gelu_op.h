// Exact (erf) GELU, as HF's "gelu": y = x·Φ(x) = ½x(1 + erf(x/√2));  dy/dx = Φ(x) + x·φ(x).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/reference.h"
#include "training/ops/gemm.h"
#include "training/ops/onednn_ops.h"

namespace perceiver::training {

// The forward is the reference loop (kernels/reference.h).
template <typename T>
void gelu_forward(const T* x, int64_t count, T* y) {
  kernels::reference::gelu_values(x, count, y);
}

// dx = dy · GELU'(x), over the pre-activation x.
template <typename T>
void gelu_backward(const T* x, int64_t count, const T* dy, T* dx) {
  const T inv_sqrt2 = static_cast<T>(0.70710678118654752440);
  const T inv_sqrt_2pi = static_cast<T>(0.39894228040143267794);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const T cdf = static_cast<T>(0.5) * (static_cast<T>(1) + std::erf(x[i] * inv_sqrt2));
    const T pdf = inv_sqrt_2pi * std::exp(static_cast<T>(-0.5) * x[i] * x[i]);
    dx[i] = dy[i] * (cdf + x[i] * pdf);
  }
}

// The reference loops for the reference back end (and for double); oneDNN's GELU primitives for
// the fast one in float.
template <typename T>
void gelu_forward(GemmBackend backend, const T* x, int64_t count, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (backend == GemmBackend::OneDnn) return onednn_gelu_forward(x, count, y);
  }
  gelu_forward(x, count, y);
}

template <typename T>
void gelu_backward(GemmBackend backend, const T* x, int64_t count, const T* dy, T* dx) {
  if constexpr (std::is_same_v<T, float>) {
    if (backend == GemmBackend::OneDnn) return onednn_gelu_backward(x, count, dy, dx);
  }
  gelu_backward(x, count, dy, dx);
}

}  // namespace perceiver::training
