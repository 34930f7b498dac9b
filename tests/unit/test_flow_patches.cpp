// The flow model's input from 8-bit frames (docs/spec/io_formats.md §3.1–3.2) against the golden
// patches, tiles and padding; then FlowEstimator on the golden tiny model: one tile = ×20 the
// golden logits, two tiles = each tile run and blended by hand, smaller frames = padded tile.
#include <doctest/doctest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "adapters/flow_patches.h"
#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "common/error.h"
#include "tasks/flow_estimator.h"
#include "support/test_support.h"

using namespace perceiver;

namespace {

std::string flow_case() { return test::golden_dir() + "/flow"; }

// The two golden frames (frames_uint8 [1, 2, H, W, 3]) as images.
std::pair<Image, Image> golden_frames() {
  SafetensorsFile file = read_safetensors(flow_case() + "/patches_from_frames.safetensors");
  const Tensor& frames = *file.find("frames_uint8");
  REQUIRE(frames.shape() == Shape{1, 2, 12, 16, 3});
  Image images[2];
  for (int t = 0; t < 2; ++t) {
    images[t].height = frames.dim(2);
    images[t].width = frames.dim(3);
    const uint8_t* p = frames.data<uint8_t>() + t * 12 * 16 * 3;
    images[t].rgb.assign(p, p + 12 * 16 * 3);
  }
  return {images[0], images[1]};
}

using test::random_image;

// Pixel flow of one tile through the model directly: patches → forward → × 20.
std::vector<float> model_tile(const OpticalFlowModel& model, const Image& a, const Image& b, int64_t y0, int64_t x0) {
  const Tensor raw = model.forward(flow_patches(a, b, y0, x0, model.tile_height(), model.tile_width()));
  std::vector<float> flow(raw.data<float>(), raw.data<float>() + raw.numel());
  for (float& f : flow) f *= 20.f;
  return flow;
}

}  // namespace

TEST_CASE("flow patches: normalisation is x/255·2 − 1 in double, cast to float") {
  CHECK(normalize_flow_pixel(0) == -1.f);
  CHECK(normalize_flow_pixel(255) == 1.f);
  CHECK(normalize_flow_pixel(51) == static_cast<float>(51 / 255.0 * 2.0 - 1.0));
  CHECK(normalize_flow_pixel(128) == static_cast<float>(128 / 255.0 * 2.0 - 1.0));
}

TEST_CASE("flow patches from the golden frames equal the golden inputs") {
  const auto [first, second] = golden_frames();
  SafetensorsFile file = read_safetensors(flow_case() + "/patches_from_frames.safetensors");
  const Tensor& expected = *file.find("inputs");
  const Tensor patches = flow_patches(first, second);
  REQUIRE(patches.shape() == expected.shape());
  CHECK(test::max_abs_diff(patches, expected) <= 1e-6);
  // And the model's golden input is the same array.
  SafetensorsFile inputs = read_safetensors(flow_case() + "/inputs.safetensors");
  CHECK(test::max_abs_diff(patches, *inputs.find("inputs")) <= 1e-6);
}

TEST_CASE("flow patches: taken from the tile (zero at its border), zero past the frame") {
  const Image a = random_image(9, 7, 1), b = random_image(9, 7, 2);
  const Tensor tile = flow_patches(a, b, 2, 3, 4, 5);  // rows 2..5, columns 3..7
  REQUIRE(tile.shape() == Shape{1, 2, 27, 4, 5});
  const float* p = tile.data<float>();
  auto at = [&](int frame, int k, int y, int x) { return p[((frame * 27 + k) * 4 + y) * 5 + x]; };
  auto pixel = [](const Image& im, int64_t y, int64_t x, int c) { return normalize_flow_pixel(im.rgb[(y * im.width + x) * 3 + c]); };
  // Centre offset (dy = dx = 1 → k = 12 + c) is the pixel itself.
  CHECK(at(0, 12 + 2, 1, 1) == pixel(a, 3, 4, 2));
  CHECK(at(1, 12 + 0, 3, 4) == pixel(b, 5, 7, 0));
  // Offset (−1, −1), k = c: the upper-left neighbour inside the tile, zero on the tile's first row.
  CHECK(at(0, 1, 2, 2) == pixel(a, 3, 4, 1));
  CHECK(at(0, 1, 0, 2) == 0.f);  // frame row 1 exists, but is outside the tile
  // Offset (+1, +1), k = 24 + c on the tile's last column: zero although frame column 8 exists.
  CHECK(at(0, 24, 1, 4) == 0.f);

  // A tile reaching past the frame (padding): pixels and neighbours outside the frame are zero.
  const Tensor padded = flow_patches(a, b, 0, 0, 10, 12);
  const float* q = padded.data<float>();
  auto pat = [&](int frame, int k, int y, int x) { return q[((frame * 27 + k) * 10 + y) * 12 + x]; };
  CHECK(pat(0, 12, 6, 8) == pixel(a, 6, 8, 0));
  CHECK(pat(0, 12, 7, 8) == 0.f);
  CHECK(pat(1, 13, 3, 9) == 0.f);
  CHECK(pat(0, 21, 6, 8) == 0.f);  // (+1, 0) below the last frame row
  CHECK(pat(0, 0, 7, 8) == pixel(a, 6, 7, 0));  // (−1, −1) of the first padded row reaches back in
  CHECK(pat(0, 3, 7, 8) == pixel(a, 6, 8, 0));  // (−1, 0)
  const Tensor whole = flow_patches(a, b);
  for (int k = 0; k < 27; ++k) CHECK(pat(1, k, 2, 3) == whole.data<float>()[((27 + k) * 7 + 2) * 9 + 3]);

  std::string message;
  try {
    flow_patches(a, random_image(8, 7, 3));
  } catch (const Error& e) {
    message = e.what();
    CHECK(e.kind() == ErrorKind::Input);
  }
  CHECK(message.find("9×7") != std::string::npos);
  CHECK(message.find("8×7") != std::string::npos);
}

TEST_CASE("flow estimator on the golden model: a frame equal to the tile is ×20 the golden logits") {
  const PerceiverConfig config = load_config(flow_case() + "/config.json");
  auto weights = open_model_weights(flow_case());
  const FlowEstimator estimator(config, *weights);
  weights->finish();
  const auto [first, second] = golden_frames();
  const FlowField flow = estimator.estimate(first, second);
  SafetensorsFile outputs = read_safetensors(flow_case() + "/outputs.safetensors");
  const Tensor& logits = *outputs.find("logits");  // [1, 12, 16, 2]
  const double tolerance = nlohmann::json::parse(test::read_text(flow_case() + "/meta.json"))["outputs"]["logits"]
                               ["tolerance_max_abs_diff"].get<double>();
  REQUIRE(flow.width == 16);
  REQUIRE(flow.height == 12);
  double worst = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) worst = std::max(worst, std::fabs(double(flow.uv[i]) - 20.0 * logits.data<float>()[i]));
  MESSAGE("max |flow − 20·logits| = " << worst << " (tolerance 20 × " << tolerance << ")");
  CHECK(worst <= 20 * tolerance);
}

TEST_CASE("flow estimator: two tiles equal each tile run and blended by hand, small frames are a padded tile") {
  const PerceiverConfig config = load_config(flow_case() + "/config.json");
  auto weights = open_model_weights(flow_case());
  const FlowEstimator estimator(config, *weights);
  auto weights2 = open_model_weights(flow_case());
  const OpticalFlowModel model(config, *weights2);

  // 12×20 frames, 12×16 tile: xs = {0, 4}.
  const Image a = random_image(20, 12, 5), b = random_image(20, 12, 6);
  REQUIRE(estimator.grid(12, 20).xs == std::vector<int64_t>{0, 4});
  const FlowField flow = estimator.estimate(a, b);
  const std::vector<float> left = model_tile(model, a, b, 0, 0), right = model_tile(model, a, b, 0, 4);
  double worst = 0;
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 0; x < 20; ++x)
      for (int c = 0; c < 2; ++c) {
        double sum = 0, weight = 0;
        if (x < 16) {
          const double w = std::min(std::min(x + 1, 16 - x), std::min(y + 1, 12 - y));
          sum += w * left[(y * 16 + x) * 2 + c], weight += w;
        }
        if (x >= 4) {
          const int64_t px = x - 4;
          const double w = std::min(std::min(px + 1, 16 - px), std::min(y + 1, 12 - y));
          sum += w * right[(y * 16 + px) * 2 + c], weight += w;
        }
        worst = std::max(worst, std::fabs(sum / weight - flow.uv[(y * 20 + x) * 2 + c]));
      }
  CHECK(worst <= 1e-6);
  // The tiles really differ (otherwise the test would prove little).
  CHECK(std::fabs(left[(5 * 16 + 10) * 2] - right[(5 * 16 + 6) * 2]) > 1e-6);

  // 10×14 frames (smaller than the 12×16 tile): one tile, padded; the flow is its top-left part.
  const Image sa = random_image(14, 10, 7), sb = random_image(14, 10, 8);
  const FlowField small = estimator.estimate(sa, sb);
  REQUIRE(small.width == 14);
  REQUIRE(small.height == 10);
  const std::vector<float> tile = model_tile(model, sa, sb, 0, 0);
  worst = 0;
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 14; ++x)
      for (int c = 0; c < 2; ++c) worst = std::max(worst, double(std::fabs(tile[(y * 16 + x) * 2 + c] - small.uv[(y * 14 + x) * 2 + c])));
  CHECK(worst == 0);

  CHECK_THROWS_AS(estimator.estimate(a, sa), Error);
}
