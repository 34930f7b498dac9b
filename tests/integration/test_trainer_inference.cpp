// The trainer's forward and the inference forward are two implementations of one model (a
// scalar-templated one with a backward, for training and its gradient checks, and the fast
// oneDNN one of the tools). Here both run the same weights — the golden cases' model folders,
// loaded into the trainable model by training_checkpoint's load_parameters (which also proves
// that the trainer's parameter names are exactly the checkpoint's) — on the golden inputs, and
// their logits must agree, and agree with the golden outputs.
//
// Tolerance: max |trainer − inference| ≤ kRelative · max |logit|, kRelative = 1e-5. Both sides
// compute in float32 from the same float32 weights; they differ only in the order of their sums
// (oneDNN's blocked matmuls and 16-lane LayerNorm reductions against the trainer's row loops)
// and in their erf/exp, a few float ulps per operation: observed up to 9e-7 · max |logit| (about
// 8 ulps of the largest logit) after the golden models' 6–7 layers. 1e-5 leaves 10× for other
// CPUs and oneDNN kernels, and is half the golden cases' own rule (2e-5 · max |logit| against
// HF's float32 outputs), which every side must also meet. The double-precision reference path is
// held to the same bound (its distance is the inference side's float rounding). One weight moved
// by 1e-2 (half the spread of the golden weights) moves the logits by more than 10× the bound
// (checked below), so a drift between the two forwards cannot pass unseen.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "models/image_classifier.h"
#include "models/masked_lm.h"
#include "support/test_support.h"
#include "training/model/train_image_classifier.h"
#include "training/model/train_masked_lm.h"
#include "training/loop/training_checkpoint.h"

using namespace perceiver;
using namespace perceiver::training;

namespace {

constexpr double kRelative = 1e-5;

double max_abs(const float* values, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::fabs(values[i])));
  return worst;
}

template <typename T>
double max_abs_diff(const T* a, const float* b, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

// The float parameters copied into a double model with the same parameter list.
template <typename Model>
void copy_parameters(ParameterSet<float>& from, Model& to) {
  ParameterSet<double>& params = to.parameters();
  REQUIRE(params.size() == from.size());
  for (size_t i = 0; i < params.size(); ++i) {
    REQUIRE(params[i].name == from[i].name);
    params[i].value.assign(from[i].value.begin(), from[i].value.end());
  }
}

std::string golden(const std::string& name) { return test::golden_dir() + "/" + name; }

}  // namespace

TEST_CASE("training: the trainer's forward equals the inference forward on the golden MLM weights") {
  const std::string dir = golden("mlm");
  const PerceiverConfig config = load_config(dir + "/config.json");
  const auto inputs = test::read_tensors(dir + "/inputs.safetensors");
  const Tensor& ids = inputs.at("input_ids");        // [B, L], padded to L = max_position_embeddings
  const Tensor& mask = inputs.at("attention_mask");  // [B, L]
  const Tensor expected = test::read_tensors(dir + "/outputs.safetensors").at("logits");  // [B, L, V]
  const int64_t batch = ids.dim(0), length = ids.dim(1), vocab = config.vocab_size;

  const auto weights = open_model_weights(dir);
  const MaskedLanguageModel inference(config, *weights);
  weights->finish();
  const Tensor masked_logits = inference.forward(ids, &mask);  // [B, L, V]
  const Tensor unmasked_logits = inference.forward(ids);        // padding attended to, as the trainer does
  const double scale = max_abs(expected.data<float>(), expected.numel());
  REQUIRE(scale > 0.1);
  CHECK(test::max_abs_diff(masked_logits, expected) <= 2e-5 * scale);  // the golden rule, as a baseline

  TrainMaskedLm<float> trainer(config);
  load_parameters(trainer.parameters(), dir);
  TrainMaskedLm<double> reference(config);
  copy_parameters(trainer.parameters(), reference);

  // The trainer has no attention mask (its windows are never padded): each row runs on its real
  // tokens only, which is what the mask does to the encoder's keys, and its logits are the
  // golden ones at those positions.
  const std::vector<int64_t> no_labels(static_cast<size_t>(batch * length), -1);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t real = 0;
    for (int64_t t = 0; t < length; ++t) real += mask.data<int64_t>()[b * length + t] != 0;
    REQUIRE(real >= 3);
    REQUIRE(real < length);  // the case has padding in every row
    const int64_t* row = ids.data<int64_t>() + b * length;
    const float* golden_row = expected.data<float>() + b * length * vocab;
    const float* inference_row = masked_logits.data<float>() + b * length * vocab;
    CAPTURE(b);
    for (GemmBackend backend : {GemmBackend::OneDnn, GemmBackend::Reference}) {
      CAPTURE(static_cast<int>(backend));
      trainer.step(backend, row, no_labels.data(), 1, real, false);
      const double diff = max_abs_diff(trainer.logits().data(), inference_row, real * vocab);
      MESSAGE("MLM row " << b << " float trainer (backend " << static_cast<int>(backend) << ") vs inference: max |diff| "
                         << diff << " (bound " << kRelative * scale << ")");
      CHECK(diff <= kRelative * scale);
      CHECK(max_abs_diff(trainer.logits().data(), golden_row, real * vocab) <= 2e-5 * scale);
    }
    reference.step(GemmBackend::Reference, row, no_labels.data(), 1, real, false);
    const double diff = max_abs_diff(reference.logits().data(), inference_row, real * vocab);
    MESSAGE("MLM row " << b << " double trainer vs inference: max |diff| " << diff);
    CHECK(diff <= kRelative * scale);
  }

  // The whole padded batch at once, both sides attending to the padding.
  trainer.step(GemmBackend::OneDnn, ids.data<int64_t>(), no_labels.data(), batch, length, false);
  const double batch_diff = max_abs_diff(trainer.logits().data(), unmasked_logits.data<float>(), unmasked_logits.numel());
  MESSAGE("MLM batch of " << batch << " without mask: max |diff| " << batch_diff);
  CHECK(batch_diff <= kRelative * scale);

  // The comparison can fail: one weight off by 1e-2 is far outside the bound.
  trainer.parameters().at(names::weight(names::LayerNames(names::encoder_self_attend(1)).dense2)).value[0] += 1e-2f;
  trainer.step(GemmBackend::OneDnn, ids.data<int64_t>(), no_labels.data(), batch, length, false);
  const double perturbed =
      max_abs_diff(trainer.logits().data(), unmasked_logits.data<float>(), unmasked_logits.numel());
  MESSAGE("MLM with one weight perturbed by 1e-2: max |diff| " << perturbed);
  CHECK(perturbed > 10 * kRelative * scale);
}

TEST_CASE("training: the trainer's forward equals the inference forward on the golden image-classifier weights") {
  for (const std::string name : {"vision_learned", "vision_fourier"}) {
    CAPTURE(name);
    const std::string dir = golden(name);
    const PerceiverConfig config = load_config(dir + "/config.json");
    const Tensor pixels = test::read_tensors(dir + "/inputs.safetensors").at("pixel_values");  // [B, 3, H, W]
    const Tensor expected = test::read_tensors(dir + "/outputs.safetensors").at("logits");      // [B, K]
    const int64_t batch = pixels.dim(0), height = pixels.dim(2), width = pixels.dim(3);

    const auto weights = open_model_weights(dir);
    const ImageClassifier inference(config, *weights);
    weights->finish();
    const Tensor logits = inference.forward(pixels);
    const double scale = max_abs(expected.data<float>(), expected.numel());
    REQUIRE(scale > 0.1);
    CHECK(test::max_abs_diff(logits, expected) <= 2e-5 * scale);

    TrainImageClassifier<float> trainer(config);
    load_parameters(trainer.parameters(), dir);
    REQUIRE(trainer.num_labels() == inference.num_labels());
    const std::vector<int64_t> no_labels(static_cast<size_t>(batch), -1);
    for (GemmBackend backend : {GemmBackend::OneDnn, GemmBackend::Reference}) {
      CAPTURE(static_cast<int>(backend));
      trainer.step(backend, pixels.data<float>(), no_labels.data(), batch, height, width, false);
      REQUIRE(static_cast<int64_t>(trainer.logits().size()) == logits.numel());
      const double diff = max_abs_diff(trainer.logits().data(), logits.data<float>(), logits.numel());
      MESSAGE(name << " float trainer (backend " << static_cast<int>(backend) << ") vs inference: max |diff| " << diff
                   << " (bound " << kRelative * scale << ")");
      CHECK(diff <= kRelative * scale);
      CHECK(max_abs_diff(trainer.logits().data(), expected.data<float>(), expected.numel()) <= 2e-5 * scale);
    }

    TrainImageClassifier<double> reference(config);
    copy_parameters(trainer.parameters(), reference);
    const std::vector<double> pixels_double(pixels.data<float>(), pixels.data<float>() + pixels.numel());
    reference.step(GemmBackend::Reference, pixels_double.data(), no_labels.data(), batch, height, width, false);
    const double diff = max_abs_diff(reference.logits().data(), logits.data<float>(), logits.numel());
    MESSAGE(name << " double trainer vs inference: max |diff| " << diff);
    CHECK(diff <= kRelative * scale);

    // The comparison can fail: one weight off by 1e-2 is far outside the bound.
    trainer.parameters().at(names::weight(names::LayerNames(names::kEncoderCrossAttention).value)).value[0] += 1e-2f;
    trainer.step(GemmBackend::OneDnn, pixels.data<float>(), no_labels.data(), batch, height, width, false);
    const double perturbed = max_abs_diff(trainer.logits().data(), logits.data<float>(), logits.numel());
    MESSAGE(name << " with one weight perturbed by 1e-2: max |diff| " << perturbed);
    CHECK(perturbed > 10 * kRelative * scale);
  }
}
