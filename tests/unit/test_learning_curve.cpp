// Learning-curve plots (lib/training/learning_curve.h, bitmap_font.h): reading the trainer's metrics
// lines (torn lines, missing fields, Python's NaN), the drawn panels by their colours, degenerate
// series, font metrics, and the PNG written to disk.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/image.h"
#include "support/test_support.h"
#include "training/bitmap_font.h"
#include "training/learning_curve.h"

using namespace perceiver;
using namespace perceiver::training;

namespace {

// Pixels of exactly `colour` in columns [x_from, x_to).
int64_t count_colour(const Image& image, const Rgb& colour, int64_t x_from, int64_t x_to) {
  int64_t count = 0;
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = x_from; x < x_to; ++x) {
      const uint8_t* p = &image.rgb[static_cast<size_t>((y * image.width + x) * 3)];
      if (p[0] == colour[0] && p[1] == colour[1] && p[2] == colour[2]) ++count;
    }
  return count;
}

bool is_white(const Image& image, int64_t x, int64_t y) {
  const uint8_t* p = &image.rgb[static_cast<size_t>((y * image.width + x) * 3)];
  return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

// A noisy falling train loss every step, and an eval record every 20 steps with a rising accuracy.
MetricsSeries synthetic_series(int64_t steps) {
  MetricsSeries series;
  for (int64_t s = 1; s <= steps; ++s) {
    const double t = static_cast<double>(s);
    series.train_steps.push_back(t);
    series.train_loss.push_back(3.0 * std::exp(-t / 60.0) + 0.4 + 0.25 * std::sin(t * 1.7));
    if (s % 20 == 0) {
      series.eval_steps.push_back(t);
      series.eval_loss.push_back(3.0 * std::exp(-t / 60.0) + 0.6);
      series.eval_accuracy.push_back(0.9 - 0.8 * std::exp(-t / 50.0));
    }
  }
  return series;
}

}  // namespace

TEST_CASE("learning curve: read_metrics reads train and eval lines and counts a torn line") {
  const std::string path = test::temp_dir() + "/metrics.jsonl";
  test::write_text(path,
                   "{\"step\": 1, \"split\": \"train\", \"loss\": 2.5, \"lr\": 0.001}\n"
                   "{\"step\": 2, \"split\": \"train\", \"loss\": 2.25}\n"
                   "\n"
                   "{\"step\": 2, \"split\": \"eval\", \"loss\": 2.4, \"accuracy\": 0.25}\r\n"
                   "{\"step\": 3, \"split\": \"train\", \"loss\": NaN, \"note\": \"NaN stays text\"}\n"
                   "{\"step\": 4, \"split\": \"eval\", \"loss\": 2.0}\n"
                   "{\"event\": \"checkpoint\", \"step\": 4}\n"
                   "{\"step\": 5, \"split\": \"test\", \"loss\": 1.0}\n"
                   "{\"step\": 6, \"split\": \"train\", \"lo");
  const MetricsSeries series = read_metrics(path);
  CHECK(series.skipped_lines == 1);
  REQUIRE(series.train_steps.size() == 3);
  REQUIRE(series.train_loss.size() == 3);
  CHECK(series.train_steps[0] == 1);
  CHECK(series.train_steps[2] == 3);
  CHECK(series.train_loss[1] == 2.25);
  CHECK(std::isnan(series.train_loss[2]));  // Python's NaN token is read, not a reason to skip the line
  REQUIRE(series.eval_steps.size() == 2);
  REQUIRE(series.eval_loss.size() == 2);
  REQUIRE(series.eval_accuracy.size() == 2);
  CHECK(series.eval_steps[1] == 4);
  CHECK(series.eval_loss[0] == 2.4);
  CHECK(series.eval_accuracy[0] == 0.25);
  CHECK(std::isnan(series.eval_accuracy[1]));  // no "accuracy" field
}

TEST_CASE("learning curve: read_metrics errors name the file") {
  const std::string dir = test::temp_dir();
  test::expect_error([&] { read_metrics(dir + "/missing.jsonl"); }, ErrorKind::Input, dir + "/missing.jsonl",
                     "cannot open the file");
  const std::string torn = dir + "/torn.jsonl";
  test::write_text(torn, "{\"step\": 1, \"split\": \"tr\n{\"other\": true}\n");
  test::expect_error([&] { read_metrics(torn); }, ErrorKind::Input, torn, "no metrics");
  const std::string empty = dir + "/empty.jsonl";
  test::write_text(empty, "");
  test::expect_error([&] { read_metrics(empty); }, ErrorKind::Input, empty, "no metrics");
}

TEST_CASE("learning curve: plot has the requested size, a white background and the series colours") {
  const Image image = plot_learning_curve(synthetic_series(300), "perceiver-train mlm run 7", 900, 420);
  CHECK(image.width == 900);
  CHECK(image.height == 420);
  CHECK(image.rgb.size() == size_t{900 * 420 * 3});
  CHECK(is_white(image, 0, 0));
  CHECK(is_white(image, 899, 419));
  CHECK(is_white(image, 450, 210));  // the gap between the panels

  const int64_t half = image.width / 2;
  // Far more than the legend swatch (16 px): the curves themselves are drawn in the left panel.
  CHECK(count_colour(image, kTrainLossColour, 0, half) > 200);
  CHECK(count_colour(image, kSmoothedLossColour, 0, half) > 200);
  CHECK(count_colour(image, kEvalLossColour, 0, half) > 50);
  CHECK(count_colour(image, kAccuracyColour, half, image.width) > 200);
  // Each series stays in its own panel.
  CHECK(count_colour(image, kAccuracyColour, 0, half) == 0);
  CHECK(count_colour(image, kTrainLossColour, half, image.width) == 0);

  const Image large = plot_learning_curve(synthetic_series(300), "large", 1800, 840);
  CHECK(large.width == 1800);
  CHECK(large.height == 840);
}

TEST_CASE("learning curve: a single point, constant values and non-finite values still draw") {
  MetricsSeries single;
  single.train_steps = {10};
  single.train_loss = {1.5};
  single.eval_steps = {10};
  single.eval_loss = {1.7};
  single.eval_accuracy = {0.5};
  const Image one = plot_learning_curve(single, "one point");
  CHECK(count_colour(one, kSmoothedLossColour, 0, 450) > 16);  // more than its legend swatch
  CHECK(count_colour(one, kEvalLossColour, 0, 450) > 16);
  CHECK(count_colour(one, kAccuracyColour, 450, 900) > 0);

  MetricsSeries constant;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (int s = 0; s < 50; ++s) {
    constant.train_steps.push_back(s);
    constant.train_loss.push_back(s == 7 ? nan : s == 8 ? inf : 2.0);
    constant.eval_steps.push_back(s);
    constant.eval_loss.push_back(s == 9 ? -inf : 2.0);
    constant.eval_accuracy.push_back(1.0);
  }
  const Image flat = plot_learning_curve(constant, "constant");
  CHECK(flat.width == 900);
  CHECK(count_colour(flat, kSmoothedLossColour, 0, 450) > 100);
  CHECK(count_colour(flat, kAccuracyColour, 450, 900) > 100);

  MetricsSeries no_accuracy;
  no_accuracy.train_steps = {0, 0, 5, 3};  // out of order and repeated, as after a resume
  no_accuracy.train_loss = {4, 3, 1, 2};
  no_accuracy.eval_steps = {5};
  no_accuracy.eval_loss = {nan};
  no_accuracy.eval_accuracy = {nan};
  const Image empty_right = plot_learning_curve(no_accuracy, "");
  // Under 75 points the moving average spans one point, so the smoothed line covers the raw one.
  CHECK(count_colour(empty_right, kSmoothedLossColour, 0, 450) > 100);
  CHECK(count_colour(empty_right, kAccuracyColour, 0, 900) == 0);
  CHECK(count_colour(empty_right, kEvalLossColour, 0, 900) == 0);

  test::expect_error([&] { plot_learning_curve(single, "tiny", 10, 10); }, ErrorKind::Usage, "learning curve",
                     "10x10");
}

TEST_CASE("learning curve: bitmap font metrics and glyph pixels") {
  CHECK(text_width("123", 1) == 3 * kGlyphWidth + 2);  // three glyphs, two blank columns between
  CHECK(text_width("123", 1) == 17);
  CHECK(text_width("123", 2) == 34);
  CHECK(text_width("", 1) == 0);
  CHECK(text_width("a", 1) == kGlyphWidth);

  Image image;
  image.width = 20;
  image.height = 20;
  image.rgb.assign(20 * 20 * 3, 255);
  const Rgb black = {0, 0, 0};
  draw_text(image, 1, 1, "1", black);
  CHECK(count_colour(image, black, 0, 20) == 10);  // the '1' glyph has 10 ink pixels
  draw_text(image, 1, 1, "1", {9, 9, 9}, 2);
  CHECK(count_colour(image, {9, 9, 9}, 0, 20) == 40);
  draw_text(image, -3, 15, "W~", {7, 7, 7});  // clipped at the edges; unknown '~' drawn as '?'
  CHECK(count_colour(image, {7, 7, 7}, 0, 20) > 0);
  CHECK(is_white(image, 19, 0));
}

TEST_CASE("learning curve: the PNG file decodes to the plotted size") {
  const std::string dir = test::temp_dir();
  const std::string metrics = dir + "/metrics.jsonl", png = dir + "/curve.png";
  std::string text;
  for (int s = 1; s <= 100; ++s) {
    text += "{\"step\": " + std::to_string(s) + ", \"split\": \"train\", \"loss\": " + std::to_string(3.0 / s) + "}\n";
    if (s % 25 == 0)
      text += "{\"step\": " + std::to_string(s) + ", \"split\": \"eval\", \"loss\": " + std::to_string(3.5 / s) +
              ", \"accuracy\": " + std::to_string(s / 125.0) + "}\n";
  }
  test::write_text(metrics, text + "{\"step\": 101, \"spl");
  write_learning_curve_png(metrics, png, "png test");
  const Image image = load_image(png);
  CHECK(image.width == 900);
  CHECK(image.height == 420);
  int64_t files = 0;  // the temporary file was renamed into place, nothing left beside it
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 2);
  test::expect_error([&] { write_learning_curve_png(dir + "/none.jsonl", png, "x"); }, ErrorKind::Input,
                     dir + "/none.jsonl", "cannot open the file");
}
