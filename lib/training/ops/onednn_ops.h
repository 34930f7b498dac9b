// The element-wise and row-wise ops of a training step that oneDNN has primitives for, in float:
// exact (erf) GELU forward and backward, and a row softmax. The templated loops beside them
// (gelu_op.h, attention_op.h) are the reference the double-precision gradient checks run; these
// are what the fast path trains with, and tests/unit/test_training_gradients.cpp checks that the
// two agree within float rounding. Each shape gets its primitive on first use, reused after;
// like the matrix products, the primitives are kept per thread (kernels::PrimitiveCache).
#pragma once

#include <cstdint>

namespace perceiver::training {

// y = GELU(x) over `count` values.
void onednn_gelu_forward(const float* x, int64_t count, float* y);
// dx = dy · GELU'(x); dx may be dy.
void onednn_gelu_backward(const float* x, int64_t count, const float* dy, float* dx);
// Each of `rows` rows of `cols` values replaced by its softmax, in place.
void onednn_softmax_rows(float* values, int64_t rows, int64_t cols);

}  // namespace perceiver::training
