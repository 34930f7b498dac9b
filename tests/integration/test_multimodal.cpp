// The multimodal autoencoder decodes any partition of its output points to the same values:
// the basis of chunked full-clip reconstruction with bounded memory.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "models/multimodal_autoencoder.h"
#include "support/test_support.h"

using namespace perceiver;

TEST_CASE("multimodal decoding in chunks equals decoding every point at once") {
  const std::string dir = test::golden_dir() + "/multimodal_full";
  auto weights = open_model_weights(dir);
  const MultimodalAutoencoder model(load_config(dir + "/config.json"), *weights);
  const SafetensorsFile file = read_safetensors(dir + "/inputs.safetensors");
  const Tensor& audio = *file.find("inputs.audio");
  const Tensor latents = model.encode(audio, *file.find("inputs.image"), *file.find("inputs.label"));

  std::vector<int64_t> all_audio, all_image;
  for (int64_t i = 0; i < model.audio_points(); ++i) all_audio.push_back(i);
  for (int64_t i = 0; i < model.image_points(); ++i) all_image.push_back(i);
  const MultimodalOutputs whole = model.decode(latents, all_audio, all_image);

  const int64_t chunks = 3;
  for (int64_t k = 0; k < chunks; ++k) {
    std::vector<int64_t> audio_part, image_part;
    for (int64_t i = k; i < model.audio_points(); i += chunks) audio_part.push_back(i);
    for (int64_t i = k; i < model.image_points(); i += chunks) image_part.push_back(i);
    const MultimodalOutputs part = model.decode(latents, audio_part, image_part);
    const int64_t spp = part.audio.dim(1) / static_cast<int64_t>(audio_part.size());
    for (size_t j = 0; j < audio_part.size(); ++j)
      for (int64_t s = 0; s < spp; ++s) {
        const float a = part.audio.data<float>()[j * spp + s], b = whole.audio.data<float>()[audio_part[j] * spp + s];
        CHECK(std::fabs(a - b) <= 1e-6 * std::fabs(b) + 1e-6);
      }
    for (size_t j = 0; j < image_part.size(); ++j)
      for (int64_t c = 0; c < 3; ++c) {
        const float a = part.image.data<float>()[j * 3 + c], b = whole.image.data<float>()[image_part[j] * 3 + c];
        CHECK(std::fabs(a - b) <= 1e-6 * std::fabs(b) + 1e-6);
      }
    CHECK(test::max_abs_diff(part.label, whole.label) <= 1e-5);
  }
}

TEST_CASE("the multimodal label input has no effect (the label element is always the mask token)") {
  const std::string dir = test::golden_dir() + "/multimodal";
  auto weights = open_model_weights(dir);
  const MultimodalAutoencoder model(load_config(dir + "/config.json"), *weights);
  const SafetensorsFile file = read_safetensors(dir + "/inputs.safetensors");
  const Tensor& label = *file.find("inputs.label");
  Tensor other = Tensor::f32(label.shape());
  for (int64_t i = 0; i < other.numel(); ++i) other.mutable_data<float>()[i] = static_cast<float>(i % 3) - 7.f;
  const Tensor a = model.encode(*file.find("inputs.audio"), *file.find("inputs.image"), label);
  const Tensor b = model.encode(*file.find("inputs.audio"), *file.find("inputs.image"), other);
  CHECK(test::max_abs_diff(a, b) == 0.0);
}

TEST_CASE("perceiver-run without subsampled_output_points decodes every point") {
  // Our extension (HF cannot): the multimodal_full expected outputs, from inputs without indices.
  const std::string dir = test::golden_dir() + "/multimodal_full";
  const SafetensorsFile file = read_safetensors(dir + "/inputs.safetensors");
  const std::string work = test::temp_dir();
  write_safetensors(work + "/inputs.safetensors", {{"inputs.audio", *file.find("inputs.audio")},
                                                   {"inputs.image", *file.find("inputs.image")},
                                                   {"inputs.label", *file.find("inputs.label")}});
  const auto r = test::run_command(test::bin_dir() + "/perceiver-run -m " + dir + " -i " + work +
                                   "/inputs.safetensors -o " + work + "/outputs.safetensors");
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const SafetensorsFile expected = read_safetensors(dir + "/outputs.safetensors");
  const SafetensorsFile actual = read_safetensors(work + "/outputs.safetensors");
  for (const char* name : {"logits.audio", "logits.image", "logits.label"}) {
    CAPTURE(name);
    REQUIRE(actual.find(name) != nullptr);
    CHECK(test::max_abs_diff(*actual.find(name), *expected.find(name)) < 1e-4);
  }
}
