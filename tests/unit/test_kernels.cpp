// Each oneDNN-backed kernel against the plain reference implementation on random data.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/error.h"
#include "kernels/attention.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"
#include "kernels/reference.h"

using namespace perceiver;
namespace ref = perceiver::kernels::reference;

namespace {

Tensor random_tensor(Shape shape, uint32_t seed, float scale = 1.f, float offset = 0.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  Tensor t = Tensor::f32(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = offset + scale * normal(rng);
  return t;
}

double max_diff(const float* a, const float* b, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  return worst;
}

}  // namespace

TEST_CASE("Linear matches the reference, with bias, GELU and accumulation") {
  for (auto [rows, in, out] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 3, 5}, {7, 40, 48}, {300, 64, 33}}) {
    CAPTURE(rows);
    const Tensor w = random_tensor({out, in}, 1, 0.2f), b = random_tensor({out}, 2), x = random_tensor({rows, in}, 3);
    std::vector<float> expected(static_cast<size_t>(rows * out));
    ref::linear(x.data<float>(), rows, in, w.data<float>(), b.data<float>(), out, expected.data());

    const kernels::Linear plain(w, b);
    const Tensor y = plain(x);
    CHECK(max_diff(y.data<float>(), expected.data(), rows * out) < 1e-5);

    const kernels::Linear with_gelu(w, b, kernels::Activation::Gelu);
    const Tensor g = with_gelu(x);
    std::vector<float> expected_gelu(expected);
    for (float& v : expected_gelu) v = ref::gelu(v);
    CHECK(max_diff(g.data<float>(), expected_gelu.data(), rows * out) < 1e-5);

    Tensor acc = random_tensor({rows, out}, 4);
    std::vector<float> expected_sum(acc.data<float>(), acc.data<float>() + rows * out);
    for (size_t i = 0; i < expected_sum.size(); ++i) expected_sum[i] += expected[i];
    plain.forward(x.data<float>(), rows, acc.mutable_data<float>(), /*accumulate=*/true);
    CHECK(max_diff(acc.data<float>(), expected_sum.data(), rows * out) < 1e-5);
  }
}

TEST_CASE("Linear without bias") {
  const Tensor w = random_tensor({4, 6}, 5), x = random_tensor({3, 6}, 6);
  std::vector<float> expected(12);
  ref::linear(x.data<float>(), 3, 6, w.data<float>(), nullptr, 4, expected.data());
  const Tensor y = kernels::Linear(w, Tensor())(x);
  CHECK(max_diff(y.data<float>(), expected.data(), 12) < 1e-5);
}

TEST_CASE("GELU is the exact erf form, not the tanh approximation") {
  // At x = -2.7 the two forms differ by about 4.7e-4.
  const float x = -2.7f;
  const double exact = 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  CHECK(ref::gelu(x) == doctest::Approx(exact).epsilon(1e-6));
  Tensor one = Tensor::f32({1, 1});
  one.mutable_data<float>()[0] = 1.f;
  Tensor input = Tensor::f32({1, 1});
  input.mutable_data<float>()[0] = x;
  const Tensor y = kernels::Linear(one, Tensor(), kernels::Activation::Gelu)(input);
  CHECK(std::fabs(y.data<float>()[0] - exact) < 1e-6);
}

TEST_CASE("LayerNorm matches the reference with eps 1e-5") {
  // Small inputs make eps matter: 1e-12 would give a visibly different result.
  const Tensor x = random_tensor({5, 48}, 7, 0.01f, 0.003f), g = random_tensor({48}, 8, 0.1f, 1.f),
               b = random_tensor({48}, 9, 0.1f);
  std::vector<float> expected(5 * 48), wrong_eps(5 * 48);
  ref::layer_norm(x.data<float>(), 5, 48, g.data<float>(), b.data<float>(), 1e-5f, expected.data());
  ref::layer_norm(x.data<float>(), 5, 48, g.data<float>(), b.data<float>(), 1e-12f, wrong_eps.data());
  const Tensor y = kernels::LayerNorm(g, b)(x);
  CHECK(max_diff(y.data<float>(), expected.data(), 5 * 48) < 1e-5);
  CHECK(max_diff(y.data<float>(), wrong_eps.data(), 5 * 48) > 1e-3);
}

TEST_CASE("Attention kernel matches the reference: heads, mask, chunked queries") {
  struct Case { int64_t nq, nk, heads, qk, v; bool masked; size_t budget; };
  for (const Case& c : {Case{16, 64, 2, 32, 48, true, 64u << 20}, Case{64, 16, 8, 256, 40, false, 64u << 20},
                        Case{37, 23, 4, 32, 48, true, 4 * 23 * 4 * 5},  // 5 queries per chunk
                        Case{1, 5, 1, 8, 8, false, 1}}) {
    CAPTURE(c.nq);
    CAPTURE(c.nk);
    const Tensor q = random_tensor({c.nq, c.qk}, 10), k = random_tensor({c.nk, c.qk}, 11),
                 v = random_tensor({c.nk, c.v}, 12);
    std::vector<float> mask(static_cast<size_t>(c.nk), 0.f);
    for (int64_t j = c.nk / 2; j < c.nk; j += 3) mask[j] = std::numeric_limits<float>::lowest();
    std::vector<float> expected(static_cast<size_t>(c.nq * c.v)), actual(expected.size());
    ref::attention(q.data<float>(), c.nq, k.data<float>(), v.data<float>(), c.nk, c.heads, c.qk, c.v,
                   c.masked ? mask.data() : nullptr, expected.data());
    const kernels::AttentionKernel kernel(c.heads, c.qk, c.v, c.budget);
    kernel.forward(q.data<float>(), c.nq, k.data<float>(), v.data<float>(), c.nk, c.masked ? mask.data() : nullptr,
                   actual.data());
    CHECK(max_diff(actual.data(), expected.data(), c.nq * c.v) < 2e-5);
  }
}

TEST_CASE("A masked key contributes exactly nothing") {
  const int64_t nk = 6, ch = 4;
  const Tensor q = random_tensor({3, ch}, 13), k = random_tensor({nk, ch}, 14), v = random_tensor({nk, ch}, 15);
  std::vector<float> mask(nk, 0.f);
  mask[nk - 1] = std::numeric_limits<float>::lowest();
  std::vector<float> with_mask(3 * ch), without_key(3 * ch);
  const kernels::AttentionKernel kernel(1, ch, ch);
  kernel.forward(q.data<float>(), 3, k.data<float>(), v.data<float>(), nk, mask.data(), with_mask.data());
  const kernels::AttentionKernel shorter(1, ch, ch);
  shorter.forward(q.data<float>(), 3, k.data<float>(), v.data<float>(), nk - 1, nullptr, without_key.data());
  CHECK(max_diff(with_mask.data(), without_key.data(), 3 * ch) < 1e-6);
}

TEST_CASE("Attention rejects widths not divisible by the head count") {
  CHECK_THROWS_AS(kernels::AttentionKernel(3, 32, 48), Error);
}
