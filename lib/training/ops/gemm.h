// The one matrix product training is built on: C = op(A)·op(B) (+ C), row-major with leading
// dimensions (kernels::GemmShape), so attention heads can be addressed in place. Two back ends
// compute it: the project's reference loops, templated on the scalar type (kernels/reference.h;
// the gradient checks run them in double), and a oneDNN matmul for float (the path that trains).
// Everything else in a training step is element-wise or row-wise and shared by both, so the fast
// path differs from the checked one only in the order of the sums inside these products.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "kernels/reference.h"

namespace perceiver::training {

using kernels::GemmShape;

// The same through a oneDNN matmul primitive, created on the first call for a shape and reused
// for every later call with that shape (a training step repeats the same shapes). Safe to call
// from several threads at once: each thread keeps its own primitives. Inside an OpenMP parallel
// region oneDNN runs single-threaded, so a loop over heads splits the cores between heads.
void onednn_gemm(const GemmShape& s, const float* a, const float* b, float* c);
int64_t onednn_gemm_plans();     // primitives created so far (tests check reuse)
double onednn_gemm_seconds();    // time spent inside onednn_gemm so far (the benchmark's split)

enum class GemmBackend { Reference, OneDnn };

// Multiply-adds done by gemm() so far in this process (training reports GFLOP/s from it);
// atomic because the attention calls gemm() from several threads.
inline std::atomic<int64_t>& gemm_multiply_adds() {
  static std::atomic<int64_t> count{0};
  return count;
}

// Picks the back end: OneDnn applies to float only; double always runs the loops.
template <typename T>
void gemm(GemmBackend backend, const GemmShape& s, const T* a, const T* b, T* c) {
  gemm_multiply_adds() += s.m * s.n * s.k;
  if constexpr (std::is_same_v<T, float>) {
    if (backend == GemmBackend::OneDnn) return onednn_gemm(s, a, b, c);
  }
  kernels::reference::gemm(s, a, b, c);
}

}  // namespace perceiver::training
