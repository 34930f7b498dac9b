// The one matrix product training is built on: C = op(A)·op(B) (+ C), row-major with leading
// dimensions, so attention heads can be addressed in place. Two back ends compute it: plain
// loops templated on the scalar type (the reference the gradient checks run in double), and a
// oneDNN matmul for float (the path that trains). Everything else in a training step is
// element-wise or row-wise and shared by both, so the fast path differs from the checked one
// only in the order of the sums inside these products.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace perceiver::training {

struct GemmShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;         // op(A) [m, k], op(B) [k, n], C [m, n]
  int64_t lda = 0, ldb = 0, ldc = 0;   // row strides of A, B, C as stored
  bool accumulate = false;             // C += … instead of C = …
};

// C = op(A)·op(B) (+ C) with plain loops.
template <typename T>
void reference_gemm(const GemmShape& s, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      T sum = 0;
      for (int64_t p = 0; p < s.k; ++p) {
        const T x = s.trans_a ? a[p * s.lda + i] : a[i * s.lda + p];
        const T y = s.trans_b ? b[j * s.ldb + p] : b[p * s.ldb + j];
        sum += x * y;
      }
      c[i * s.ldc + j] = s.accumulate ? c[i * s.ldc + j] + sum : sum;
    }
}

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
  reference_gemm(s, a, b, c);
}

}  // namespace perceiver::training
