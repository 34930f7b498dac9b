// Weights: lookup by exact name with shape checks; every problem reported together.
#include <doctest/doctest.h>

#include <cmath>

#include "checkpoint/weights.h"
#include "common/error.h"

using namespace perceiver;

namespace {
std::unique_ptr<Weights> three_tensors() {
  std::map<std::string, Tensor> tensors;
  tensors["a.weight"] = Tensor::f32({2, 3});
  tensors["b.bias"] = Tensor::f32({4});
  tensors["c.extra"] = Tensor::f32({1});
  tensors["d.steps"] = Tensor::zeros(DType::I64, {});
  return weights_from_tensors(std::move(tensors), "test.safetensors");
}
}  // namespace

TEST_CASE("taking every tensor with the right shape passes") {
  auto weights = three_tensors();
  CHECK(weights->take("a.weight", {2, 3}).shape() == Shape{2, 3});
  CHECK(weights->take("b.bias", {4}).dtype() == DType::F32);
  weights->take("c.extra", {1});
  weights->ignore("d.steps");
  CHECK_NOTHROW(weights->finish());
}

TEST_CASE("missing, mis-shaped and unexpected tensors are all reported in one error") {
  auto weights = three_tensors();
  weights->take("a.weight", {3, 2});             // wrong shape
  weights->take("nowhere.weight", {5});          // missing
  const Tensor placeholder = weights->take("another.missing", {2});
  CHECK(placeholder.shape() == Shape{2});  // construction goes on with a zero tensor
  try {
    weights->finish();
    FAIL("finish() should throw");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(e.kind() == ErrorKind::ModelMismatch);
    CHECK(message.find("test.safetensors") != std::string::npos);
    CHECK(message.find("a.weight is [2, 3], config implies [3, 2]") != std::string::npos);
    CHECK(message.find("2 missing") != std::string::npos);
    CHECK(message.find("nowhere.weight") != std::string::npos);
    CHECK(message.find("unexpected") != std::string::npos);
    CHECK(message.find("b.bias") != std::string::npos);
    CHECK(message.find("d.steps") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("F16 and BF16 tensors are converted to F32 once") {
  std::map<std::string, Tensor> tensors;
  Tensor half = Tensor::zeros(DType::F16, {2});
  half.mutable_data<uint16_t>()[0] = f32_to_f16(1.5f);
  half.mutable_data<uint16_t>()[1] = f32_to_f16(-0.25f);
  Tensor brain = Tensor::zeros(DType::BF16, {1});
  brain.mutable_data<uint16_t>()[0] = f32_to_bf16(3.0f);
  tensors["h"] = half;
  tensors["b"] = brain;
  auto weights = weights_from_tensors(std::move(tensors), "mixed");
  const Tensor h = weights->take("h", {2}), b = weights->take("b", {1});
  CHECK(h.data<float>()[0] == 1.5f);
  CHECK(h.data<float>()[1] == -0.25f);
  CHECK(b.data<float>()[0] == 3.0f);
  CHECK_NOTHROW(weights->finish());
}

TEST_CASE("an integer tensor where a float is expected is a mismatch") {
  std::map<std::string, Tensor> tensors;
  tensors["w"] = Tensor::zeros(DType::I64, {2});
  auto weights = weights_from_tensors(std::move(tensors), "ints");
  weights->take("w", {2});
  CHECK_THROWS_AS(weights->finish(), Error);
}

TEST_CASE("half-precision conversions round correctly") {
  CHECK(f16_to_f32(f32_to_f16(65504.f)) == 65504.f);
  CHECK(f16_to_f32(f32_to_f16(1e-7f)) == doctest::Approx(1.1920929e-07).epsilon(0.01));  // subnormal
  CHECK(f16_to_f32(f32_to_f16(1.0f + 1.0f / 4096)) == 1.0f);  // ties to even
  CHECK(bf16_to_f32(f32_to_bf16(1.00390625f)) == 1.0f);      // ties to even
  CHECK(std::isinf(f16_to_f32(f32_to_f16(1e6f))));
}

TEST_CASE("random weights give LayerNorm scales near 1 and are deterministic") {
  auto a = random_weights(3), b = random_weights(3);
  const Tensor scale = a->take("x.layernorm.weight", {8}), w1 = a->take("x.dense.weight", {4, 4}),
               w2 = b->take("x.dense.weight", {4, 4});
  for (int i = 0; i < 8; ++i) CHECK(scale.data<float>()[i] >= 1.f);
  for (int i = 0; i < 16; ++i) CHECK(w1.data<float>()[i] == w2.data<float>()[i]);
  CHECK_NOTHROW(a->finish());
}
