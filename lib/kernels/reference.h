// The project's one set of plain reference loops, following the spec's formulas literally and
// templated on the scalar type: the matrix product, exact GELU, row softmax and LayerNorm, with
// rows split between threads and every sum kept in one fixed order (the same bits for any
// thread count). The fast inference kernels are tested against them (through the float entry
// points at the bottom, which run them in double); perceiver-train runs them as its reference
// back end — in double for the gradient checks — and its LayerNorm forward on both back ends.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace perceiver::kernels {

// C = op(A)·op(B) (+ C), row-major with leading dimensions, so attention heads can be addressed
// in place.
struct GemmShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;        // op(A) [m, k], op(B) [k, n], C [m, n]
  int64_t lda = 0, ldb = 0, ldc = 0;  // row strides of A, B, C as stored
  bool accumulate = false;            // C += … instead of C = …
};

namespace reference {

// C = op(A)·op(B) (+ C), each entry one sum in order of p.
template <typename T>
void gemm(const GemmShape& s, const T* a, const T* b, T* c) {
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

// Exact (erf) GELU, as HF's "gelu": ½x(1 + erf(x/√2)).
template <typename T>
T exact_gelu(T x) {
  const T inv_sqrt2 = static_cast<T>(0.70710678118654752440);
  return static_cast<T>(0.5) * x * (static_cast<T>(1) + std::erf(x * inv_sqrt2));
}

// y = GELU(x) over `count` values.
template <typename T>
void gelu_values(const T* x, int64_t count, T* y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) y[i] = exact_gelu(x[i]);
}

// Each of `rows` rows of `cols` values replaced by its softmax (max-subtracted), in place.
template <typename T>
void softmax_rows(T* values, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    T* row = values + i * cols;
    T max = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < cols; ++j) max = std::max(max, row[j]);
    T sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += (row[j] = std::exp(row[j] - max));
    for (int64_t j = 0; j < cols; ++j) row[j] /= sum;
  }
}

// LayerNorm over the last dimension, biased variance in two passes:
//   x̂ = (x − μ)·r,  r = 1/√(var + eps),  y = γ·x̂ + β.
// mean and rstd [rows] receive μ and r per row (what a backward needs) unless null.
template <typename T>
void layer_norm_rows(const T* x, int64_t rows, int64_t dim, const T* gamma, const T* beta, double eps, T* y,
                     T* mean_out = nullptr, T* rstd_out = nullptr) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * dim;
    T sum = 0;
    for (int64_t i = 0; i < dim; ++i) sum += row[i];
    const T mean = sum / static_cast<T>(dim);
    T squares = 0;
    for (int64_t i = 0; i < dim; ++i) squares += (row[i] - mean) * (row[i] - mean);
    const T rstd = static_cast<T>(1) / std::sqrt(squares / static_cast<T>(dim) + static_cast<T>(eps));
    if (mean_out) mean_out[r] = mean;
    if (rstd_out) rstd_out[r] = rstd;
    T* out = y + r * dim;
    for (int64_t i = 0; i < dim; ++i) out[i] = (row[i] - mean) * rstd * gamma[i] + beta[i];
  }
}

// ---- float entry points for the kernel tests: the loops above run in double ----

// y[r, o] = b[o] + Σ_i x[r, i]·W[o, i]   (W as HF stores it: [out, in]; b may be null)
void linear(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias, int64_t out, float* y);

void layer_norm(const float* x, int64_t rows, int64_t dim, const float* weight, const float* bias, float eps, float* y);

float gelu(float x);  // exact erf form

void softmax(const float* x, int64_t n, float* y);

// Multi-head attention over projected q [nq, qk], k [nk, qk], v [nk, vc]; mask_bias [nk] or null:
// per head h, softmax(q_h·k_hᵀ/√(qk/heads) + mask)·v_h.
void attention(const float* q, int64_t nq, const float* k, const float* v, int64_t nk, int64_t heads, int64_t qk,
               int64_t vc, const float* mask_bias, float* ctx);

}  // namespace reference
}  // namespace perceiver::kernels
