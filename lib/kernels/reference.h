// Plain C++ reference versions of every kernel: loops that follow the spec's formulas
// literally, in double where it costs nothing. Tests compare the fast kernels against them;
// nothing on a hot path calls these.
#pragma once

#include <cstdint>

namespace perceiver::kernels::reference {

// y[r, o] = b[o] + Σ_i x[r, i]·W[o, i]   (W as HF stores it: [out, in]; b may be null)
void linear(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias, int64_t out, float* y);

void layer_norm(const float* x, int64_t rows, int64_t dim, const float* weight, const float* bias, float eps, float* y);

float gelu(float x);  // exact erf form

void softmax(const float* x, int64_t n, float* y);

// Multi-head attention over projected q [nq, qk], k [nk, qk], v [nk, vc]; mask_bias [nk] or null.
void attention(const float* q, int64_t nq, const float* k, const float* v, int64_t nk, int64_t heads, int64_t qk,
               int64_t vc, const float* mask_bias, float* ctx);

}  // namespace perceiver::kernels::reference
