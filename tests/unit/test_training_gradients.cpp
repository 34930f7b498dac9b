// Gradient checks: every backward against central finite differences in double on tiny shapes,
// per op and for whole tiny models; and the oneDNN (float) path against the reference loops.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "common/random.h"
#include "kernels/runtime.h"
#include "training/ops/attention_op.h"
#include "training/ops/cross_entropy.h"
#include "training/ops/gelu_op.h"
#include "training/model/initialization.h"
#include "training/ops/layer_norm_op.h"
#include "training/ops/linear_op.h"
#include "training/model/train_image_classifier.h"
#include "training/model/train_masked_lm.h"

namespace perceiver::training {
namespace {

constexpr GemmBackend kRef = GemmBackend::Reference;

std::vector<double> random_vector(size_t n, uint64_t seed, double scale = 1.0) {
  SplitMix64 random(seed);
  std::vector<double> v(n);
  for (double& x : v) x = scale * (2 * random.uniform() - 1);
  return v;
}

// Relative error of an analytic against a numeric derivative, with a floor so that values near
// zero compare absolutely.
double relative_error(double analytic, double numeric) {
  return std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), 1e-3});
}

// Checks d loss / d x[i] for every i against (loss(x+h) − loss(x−h)) / 2h.
void check_gradient(const char* what, std::vector<double>& x, const std::vector<double>& analytic,
                    const std::function<double()>& loss, double h = 1e-6) {
  REQUIRE(analytic.size() == x.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = loss();
    x[i] = saved - h;
    const double down = loss();
    x[i] = saved;
    worst = std::max(worst, relative_error(analytic[i], (up - down) / (2 * h)));
  }
  INFO(what);
  CHECK(worst <= 1e-4);
}

// A fixed random projection of an output to a scalar: loss = Σ y_i·w_i, so dy = w.
double project(const std::vector<double>& y, const std::vector<double>& w) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * w[i];
  return s;
}

}  // namespace

TEST_CASE("training gradients: linear") {
  const int64_t rows = 3, in = 4, out = 5;
  std::vector<double> x = random_vector(rows * in, 1), w = random_vector(out * in, 2), b = random_vector(out, 3);
  const std::vector<double> probe = random_vector(rows * out, 4);
  auto loss = [&] {
    std::vector<double> y(rows * out);
    linear_forward(kRef, x.data(), rows, in, w.data(), b.data(), out, y.data());
    return project(y, probe);
  };
  std::vector<double> dx(rows * in), dw(out * in, 0.0), db(out, 0.0);
  linear_backward(kRef, x.data(), rows, in, w.data(), out, probe.data(), dx.data(), false, dw.data(), db.data());
  check_gradient("linear dx", x, dx, loss);
  check_gradient("linear dW", w, dw, loss);
  check_gradient("linear db", b, db, loss);
}

TEST_CASE("training gradients: layer norm and exact GELU") {
  const int64_t rows = 3, dim = 6;
  std::vector<double> x = random_vector(rows * dim, 5, 2.0), gamma = random_vector(dim, 6), beta = random_vector(dim, 7);
  const std::vector<double> probe = random_vector(rows * dim, 8);
  auto loss = [&] {
    std::vector<double> y(rows * dim);
    LayerNormStats<double> stats;
    layer_norm_forward(x.data(), rows, dim, gamma.data(), beta.data(), y.data(), stats);
    return project(y, probe);
  };
  std::vector<double> y(rows * dim), dx(rows * dim), dg(dim, 0.0), db(dim, 0.0);
  LayerNormStats<double> stats;
  layer_norm_forward(x.data(), rows, dim, gamma.data(), beta.data(), y.data(), stats);
  layer_norm_backward(x.data(), rows, dim, gamma.data(), stats, probe.data(), dx.data(), false, dg.data(), db.data());
  check_gradient("layer norm dx", x, dx, loss);
  check_gradient("layer norm dγ", gamma, dg, loss);
  check_gradient("layer norm dβ", beta, db, loss);

  std::vector<double> z = random_vector(20, 9, 4.0), dz(20);
  const std::vector<double> gelu_probe = random_vector(20, 10);
  auto gelu_loss = [&] {
    std::vector<double> out(20);
    gelu_forward(z.data(), 20, out.data());
    return project(out, gelu_probe);
  };
  gelu_backward(z.data(), 20, gelu_probe.data(), dz.data());
  check_gradient("gelu", z, dz, gelu_loss);
}

TEST_CASE("training gradients: multi-head attention with a key mask") {
  const AttentionShape s{2, 3, 5, 2, 4, 6};  // B 2, Nq 3, Nk 5, 2 heads, Cqk 4, Cv 6
  std::vector<double> q = random_vector(2 * 3 * 4, 10), k = random_vector(2 * 5 * 4, 11), v = random_vector(2 * 5 * 6, 12);
  std::vector<double> mask(2 * 5, 0.0);
  mask[3] = std::numeric_limits<float>::lowest();  // element 0 ignores key 3, element 1 key 0
  mask[5] = std::numeric_limits<float>::lowest();
  const std::vector<double> probe = random_vector(2 * 3 * 6, 13);
  auto loss = [&] {
    std::vector<double> ctx(2 * 3 * 6), p;
    attention_forward(kRef, s, q.data(), k.data(), v.data(), mask.data(), ctx.data(), p);
    return project(ctx, probe);
  };
  std::vector<double> ctx(2 * 3 * 6), p, dq(q.size()), dk(k.size()), dv(v.size()), scratch;
  attention_forward(kRef, s, q.data(), k.data(), v.data(), mask.data(), ctx.data(), p);
  CHECK(p[0 * 5 + 3] == 0.0);  // a masked key gets no weight
  attention_backward(kRef, s, q.data(), k.data(), v.data(), p, probe.data(), dq.data(), dk.data(), dv.data(), scratch);
  check_gradient("attention dq", q, dq, loss);
  check_gradient("attention dk", k, dk, loss);
  check_gradient("attention dv", v, dv, loss);
  CHECK(dk[3 * 4] == 0.0);  // nothing flows to a masked key
}

TEST_CASE("training gradients: softmax cross-entropy") {
  std::vector<double> logits = random_vector(4 * 7, 14, 3.0);
  const std::vector<int64_t> labels = {2, -1, 6, 0};
  std::vector<double> d(logits.size());
  const LossResult result = softmax_cross_entropy(logits.data(), 4, 7, labels.data(), d.data());
  CHECK(result.counted == 3);
  check_gradient("cross-entropy", logits, d,
                 [&] { return softmax_cross_entropy<double>(logits.data(), 4, 7, labels.data(), nullptr).loss; });
}

namespace {

PerceiverConfig tiny_mlm_config() {
  PerceiverConfig config;
  config.architecture = "PerceiverForMaskedLM";
  config.num_latents = 3;
  config.d_latents = 8;
  config.d_model = 8;
  config.num_blocks = 2;  // shared weights across blocks
  config.num_self_attends_per_block = 1;
  config.num_self_attention_heads = 2;
  config.num_cross_attention_heads = 2;
  config.vocab_size = 262;
  config.max_position_embeddings = 6;
  config.self_attention_widening_factor = 2;
  return config;
}

PerceiverConfig tiny_classifier_config(const std::string& architecture) {
  PerceiverConfig config;
  config.architecture = architecture;
  config.num_latents = 3;
  config.d_latents = 8;
  config.num_blocks = 1;
  config.num_self_attends_per_block = 2;
  config.num_self_attention_heads = 2;
  config.num_cross_attention_heads = 1;
  config.qk_channels = 8;
  config.v_channels = 8;
  config.image_size = 3;
  config.id2label = {{0, "a"}, {1, "b"}, {2, "c"}};
  return config;
}

// Central differences for a sample of entries of every parameter of a model whose loss is
// `loss()`; `analytic` holds the backward's gradients in the same order.
template <typename Model>
void check_model_gradients(Model& model, const std::function<double()>& loss, size_t per_parameter = 6) {
  ParameterSet<double>& params = model.parameters();
  std::vector<std::vector<double>> analytic;
  for (size_t i = 0; i < params.size(); ++i) analytic.push_back(params[i].grad);
  double worst = 0;
  std::string worst_name;
  for (size_t i = 0; i < params.size(); ++i) {
    std::vector<double>& value = params[i].value;
    SplitMix64 pick(i + 100);
    for (size_t n = 0; n < std::min(per_parameter, value.size()); ++n) {
      const size_t j = n == 0 ? 0 : pick.below(value.size());
      const double saved = value[j], h = 1e-5;
      value[j] = saved + h;
      const double up = loss();
      value[j] = saved - h;
      const double down = loss();
      value[j] = saved;
      const double error = relative_error(analytic[i][j], (up - down) / (2 * h));
      if (error > worst) worst = error, worst_name = params[i].name;
    }
  }
  INFO("worst parameter: " << worst_name);
  CHECK(worst <= 1e-4);
}

}  // namespace

TEST_CASE("training gradients: whole tiny masked language model") {
  TrainMaskedLm<double> model(tiny_mlm_config());
  initialize_parameters(model.parameters(), 21, 0.5);  // large weights: non-trivial curvature
  const std::vector<int64_t> ids = {4, 3, 110, 3, 50, 5, 4, 70, 3, 3, 9, 5};
  const std::vector<int64_t> labels = {-1, 105, -1, 111, -1, -1, -1, -1, 120, 121, -1, -1};
  model.parameters().zero_grad();
  model.step(kRef, ids.data(), labels.data(), 2, 6, true);
  check_model_gradients(model, [&] { return model.step(kRef, ids.data(), labels.data(), 2, 6, false).loss; });
}

TEST_CASE("training gradients: whole tiny image classifiers (learned and Fourier positions)") {
  for (const char* architecture : {"PerceiverForImageClassificationLearned", "PerceiverForImageClassificationFourier"}) {
    CAPTURE(architecture);
    TrainImageClassifier<double> model(tiny_classifier_config(architecture));
    initialize_parameters(model.parameters(), 22, 0.5);
    const std::vector<double> pixels = random_vector(2 * 3 * 3 * 3, 23);
    const std::vector<int64_t> labels = {2, 0};
    model.parameters().zero_grad();
    model.step(kRef, pixels.data(), labels.data(), 2, 3, 3, true);
    check_model_gradients(model, [&] { return model.step(kRef, pixels.data(), labels.data(), 2, 3, 3, false).loss; });
  }
}

namespace {
template <typename Model, typename Run>
void compare_backends(Model& fast, Model& reference, Run run) {
  initialize_parameters(fast.parameters(), 31, 0.2);
  initialize_parameters(reference.parameters(), 31, 0.2);
  fast.parameters().zero_grad();
  reference.parameters().zero_grad();
  const double fast_loss = run(fast, GemmBackend::OneDnn), reference_loss = run(reference, kRef);
  CHECK(std::abs(fast_loss - reference_loss) <= 1e-5 * std::max(1.0, std::abs(reference_loss)));
  for (size_t i = 0; i < fast.parameters().size(); ++i) {
    const auto& a = fast.parameters()[i].grad;
    const auto& b = reference.parameters()[i].grad;
    double scale = 0, diff = 0;
    for (size_t j = 0; j < a.size(); ++j) {
      scale = std::max(scale, static_cast<double>(std::abs(b[j])));
      diff = std::max(diff, static_cast<double>(std::abs(a[j] - b[j])));
    }
    INFO(fast.parameters()[i].name);
    CHECK(diff <= 1e-4 * std::max(scale, 1e-3));
  }
}
}  // namespace

TEST_CASE("training gradients: the oneDNN path equals the reference loops in float") {
  PerceiverConfig config = tiny_mlm_config();
  config.d_model = 32, config.d_latents = 64, config.num_latents = 16, config.max_position_embeddings = 40;
  TrainMaskedLm<float> fast(config), reference(config);
  std::vector<int64_t> ids(2 * 40), labels(2 * 40, -1);
  SplitMix64 random(5);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = 6 + static_cast<int64_t>(random.below(256));
    if (i % 7 == 0) labels[i] = ids[i], ids[i] = 3;
  }
  compare_backends(fast, reference, [&](TrainMaskedLm<float>& m, GemmBackend backend) {
    return m.step(backend, ids.data(), labels.data(), 2, 40, true).loss;
  });

  PerceiverConfig image = tiny_classifier_config("PerceiverForImageClassificationLearned");
  image.d_latents = 32, image.num_latents = 8, image.image_size = 6, image.qk_channels = 16, image.v_channels = 32;
  TrainImageClassifier<float> fast_image(image), reference_image(image);
  std::vector<float> pixels(3 * 3 * 36);
  for (float& p : pixels) p = static_cast<float>(random.uniform() * 2 - 1);
  const std::vector<int64_t> image_labels = {1, 2, 0};
  compare_backends(fast_image, reference_image, [&](TrainImageClassifier<float>& m, GemmBackend backend) {
    return m.step(backend, pixels.data(), image_labels.data(), 3, 6, 6, true).loss;
  });
}

}  // namespace perceiver::training

namespace perceiver::training {

// The attention splits its heads between threads and the element-wise ops split their rows, with
// every sum kept in one fixed order: the reference loops give the same bits for any thread
// count, and the oneDNN path the same values within float rounding (its matrix products may
// split their sums by thread).
TEST_CASE("training gradients: the same at one thread and at two") {
  PerceiverConfig config = tiny_mlm_config();
  config.d_model = 32, config.d_latents = 64, config.num_latents = 16, config.max_position_embeddings = 40;
  const int64_t batch = 4;  // 4 × 2 self-attention heads and 4 × 8 decoder heads: enough to split
  std::vector<int64_t> ids(batch * 40), labels(batch * 40, -1);
  SplitMix64 random(9);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = 6 + static_cast<int64_t>(random.below(256));
    if (i % 5 == 0) labels[i] = ids[i], ids[i] = 3;
  }
  const int threads_before = kernels::num_threads();
  auto gradients = [&](auto scalar, GemmBackend backend, int threads) {
    using T = decltype(scalar);
    kernels::set_num_threads(threads);
    TrainMaskedLm<T> model(config);
    initialize_parameters(model.parameters(), 41, 0.2);
    model.parameters().zero_grad();
    const double loss = model.step(backend, ids.data(), labels.data(), batch, 40, true).loss;
    std::vector<std::vector<T>> grads;
    for (size_t i = 0; i < model.parameters().size(); ++i) grads.push_back(model.parameters()[i].grad);
    return std::pair{loss, grads};
  };
  const auto reference_one = gradients(0.0, kRef, 1), reference_two = gradients(0.0, kRef, 2);
  CHECK(reference_one.first == reference_two.first);
  CHECK(reference_one.second == reference_two.second);

  const auto fast_one = gradients(0.0f, GemmBackend::OneDnn, 1), fast_two = gradients(0.0f, GemmBackend::OneDnn, 2);
  kernels::set_num_threads(threads_before);
  CHECK(std::abs(fast_one.first - fast_two.first) <= 1e-5 * std::max(1.0, std::abs(fast_one.first)));
  REQUIRE(fast_one.second.size() == fast_two.second.size());
  for (size_t i = 0; i < fast_one.second.size(); ++i) {
    double scale = 0, diff = 0;
    for (size_t j = 0; j < fast_one.second[i].size(); ++j) {
      scale = std::max(scale, static_cast<double>(std::abs(fast_one.second[i][j])));
      diff = std::max(diff, static_cast<double>(std::abs(fast_one.second[i][j] - fast_two.second[i][j])));
    }
    CAPTURE(i);
    CHECK(diff <= 1e-4 * std::max(scale, 1e-3));
  }
}

}  // namespace perceiver::training
