#include "kernels/reference.h"

#include <vector>

namespace perceiver::kernels::reference {

namespace {
std::vector<double> widened(const float* x, int64_t n) { return std::vector<double>(x, x + n); }
}  // namespace

void linear(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias, int64_t out, float* y) {
  const std::vector<double> xd = widened(x, rows * in), wd = widened(weight, out * in);
  std::vector<double> yd(static_cast<size_t>(rows * out));
  gemm<double>(GemmShape{false, true, rows, out, in, in, in, out, false}, xd.data(), wd.data(), yd.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) y[r * out + o] = static_cast<float>(yd[r * out + o] + (bias ? bias[o] : 0.0));
}

void layer_norm(const float* x, int64_t rows, int64_t dim, const float* weight, const float* bias, float eps, float* y) {
  const std::vector<double> xd = widened(x, rows * dim), wd = widened(weight, dim), bd = widened(bias, dim);
  std::vector<double> yd(xd.size());
  layer_norm_rows<double>(xd.data(), rows, dim, wd.data(), bd.data(), eps, yd.data());
  std::copy(yd.begin(), yd.end(), y);  // narrowed to float
}

float gelu(float x) { return static_cast<float>(exact_gelu<double>(x)); }

void softmax(const float* x, int64_t n, float* y) {
  std::vector<double> values = widened(x, n);
  softmax_rows<double>(values.data(), 1, n);
  std::copy(values.begin(), values.end(), y);
}

void attention(const float* q, int64_t nq, const float* k, const float* v, int64_t nk, int64_t heads, int64_t qk,
               int64_t vc, const float* mask_bias, float* ctx) {
  const int64_t dqk = qk / heads, dv = vc / heads;
  const std::vector<double> qd = widened(q, nq * qk), kd = widened(k, nk * qk), vd = widened(v, nk * vc);
  std::vector<double> scores(static_cast<size_t>(nq * nk)), context(static_cast<size_t>(nq * vc));
  const double scale = 1.0 / std::sqrt(static_cast<double>(dqk));
  for (int64_t h = 0; h < heads; ++h) {
    gemm<double>(GemmShape{false, true, nq, nk, dqk, qk, qk, nk, false}, qd.data() + h * dqk, kd.data() + h * dqk,
                 scores.data());  // [nq, nk]
    for (int64_t i = 0; i < nq; ++i)
      for (int64_t j = 0; j < nk; ++j) scores[i * nk + j] = scores[i * nk + j] * scale + (mask_bias ? mask_bias[j] : 0.0);
    softmax_rows<double>(scores.data(), nq, nk);
    gemm<double>(GemmShape{false, false, nq, dv, nk, nk, vc, vc, false}, scores.data(), vd.data() + h * dv,
                 context.data() + h * dv);  // [nq, dv] at column h·dv
  }
  std::copy(context.begin(), context.end(), ctx);
}

}  // namespace perceiver::kernels::reference
