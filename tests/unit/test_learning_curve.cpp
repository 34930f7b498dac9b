// Learning-curve plots (lib/training/loop/learning_curve.h): reading the trainer's metrics
// lines (torn lines, missing fields, Python's NaN, baselines), the SVG series by their ids,
// degenerate series, and the file written whole.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "support/test_support.h"
#include "training/loop/learning_curve.h"

using namespace perceiver;
using namespace perceiver::training;

namespace {

struct Xy {
  double x, y;
};

// The points of the <polyline id="ID"> (empty when there is none).
std::vector<Xy> polyline(const std::string& svg, const std::string& id) {
  const size_t at = svg.find("<polyline id=\"" + id + "\"");
  if (at == std::string::npos) return {};
  const size_t start = svg.find("points=\"", at) + 8, end = svg.find('"', start);
  std::vector<Xy> points;
  std::istringstream in(svg.substr(start, end - start));
  for (std::string pair; in >> pair;) {
    const size_t comma = pair.find(',');
    points.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
  }
  return points;
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

TEST_CASE("learning curve: an SVG of the requested size, each series a polyline in its own panel, in step order") {
  const std::string svg = plot_learning_curve(synthetic_series(300), "perceiver-train mlm <run> & 7", 900, 420);
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"420\"") != std::string::npos);
  CHECK(svg.find(">perceiver-train mlm &lt;run&gt; &amp; 7</text>") != std::string::npos);  // the title, escaped
  const std::vector<Xy> train = polyline(svg, "train-loss"), smoothed = polyline(svg, "train-loss-smoothed");
  const std::vector<Xy> eval = polyline(svg, "eval-loss"), accuracy = polyline(svg, "eval-accuracy");
  CHECK(train.size() == 300);
  CHECK(smoothed.size() == 300);
  CHECK(eval.size() == 15);
  REQUIRE(accuracy.size() == 15);
  // Loss on the left half, accuracy on the right; x grows with the step.
  for (const Xy& p : train) CHECK(p.x < 450);
  for (const Xy& p : accuracy) CHECK(p.x > 450);
  for (size_t i = 1; i < train.size(); ++i) CHECK(train[i].x > train[i - 1].x);
  // The accuracy rises, so its y (downwards in SVG) falls.
  CHECK(accuracy.back().y < accuracy.front().y);
  // No baseline in these metrics.
  CHECK(svg.find("baseline-") == std::string::npos);
  CHECK(plot_learning_curve(synthetic_series(300), "large", 1800, 840).find("width=\"1800\" height=\"840\"") != std::string::npos);
}

TEST_CASE("learning curve: baselines in the metrics (most_frequent_*_accuracy) are drawn dashed with their value") {
  const std::string dir = test::temp_dir(), metrics = dir + "/metrics.jsonl";
  test::write_text(metrics,
                   "{\"step\":10,\"split\":\"train\",\"loss\":3}\n"
                   "{\"step\":20,\"split\":\"eval\",\"loss\":2.5,\"accuracy\":0.2,\"most_frequent_byte_accuracy\":0.1077}\n"
                   "{\"step\":40,\"split\":\"eval\",\"loss\":2.0,\"accuracy\":0.3,\"most_frequent_byte_accuracy\":0.1077}\n");
  const MetricsSeries series = read_metrics(metrics);
  REQUIRE(series.eval_baselines.count("most_frequent_byte_accuracy") == 1);
  CHECK(series.eval_baselines.at("most_frequent_byte_accuracy") == std::vector<double>{0.1077, 0.1077});
  const std::string svg = plot_learning_curve(series, "baselines");
  const std::vector<Xy> baseline = polyline(svg, "baseline-most_frequent_byte_accuracy");
  const std::vector<Xy> accuracy = polyline(svg, "eval-accuracy");
  REQUIRE(baseline.size() == 2);
  REQUIRE(accuracy.size() == 2);
  CHECK(baseline[0].y == baseline[1].y);  // a constant baseline is a flat line
  CHECK(baseline[0].y > accuracy[0].y);   // below the accuracy (larger y)
  CHECK(svg.find("most frequent byte: 10.8 %") != std::string::npos);
  CHECK(svg.find("stroke-dasharray") != std::string::npos);
}

TEST_CASE("learning curve: a single point, constant values and non-finite values still draw") {
  MetricsSeries single;
  single.train_steps = {10};
  single.train_loss = {1.5};
  single.eval_steps = {10};
  single.eval_loss = {1.7};
  single.eval_accuracy = {0.5};
  const std::string one = plot_learning_curve(single, "one point");
  CHECK(polyline(one, "train-loss").size() == 1);
  CHECK(polyline(one, "eval-accuracy").size() == 1);
  CHECK(one.find("<g id=\"eval-accuracy-points\"") != std::string::npos);  // a lone point is a visible dot

  MetricsSeries constant;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (int s = 0; s < 50; ++s) {
    constant.train_steps.push_back(s);
    constant.train_loss.push_back(s == 7 ? nan : s == 8 ? inf : 2.0);
    constant.eval_steps.push_back(s);
    constant.eval_loss.push_back(s == 9 ? -inf : 2.0);
    constant.eval_accuracy.push_back(1.0);
  }
  const std::string flat = plot_learning_curve(constant, "constant");
  CHECK(polyline(flat, "train-loss").size() == 48);  // NaN and inf left out
  CHECK(polyline(flat, "eval-loss").size() == 49);
  CHECK(flat.find("nan") == std::string::npos);
  CHECK(flat.find("inf") == std::string::npos);

  MetricsSeries no_accuracy;
  no_accuracy.train_steps = {0, 0, 5, 3};  // out of order and repeated, as after a resume
  no_accuracy.train_loss = {4, 3, 1, 2};
  no_accuracy.eval_steps = {5};
  no_accuracy.eval_loss = {nan};
  no_accuracy.eval_accuracy = {nan};
  const std::string empty_right = plot_learning_curve(no_accuracy, "");
  const std::vector<Xy> train = polyline(empty_right, "train-loss");
  REQUIRE(train.size() == 3);  // step 0 once (the later record), then 3, then 5
  CHECK(train[0].x < train[1].x);
  CHECK(train[0].y < train[1].y);  // loss 3 at step 0 is above loss 2 at step 3 (smaller y)
  CHECK(empty_right.find(">no accuracy</text>") != std::string::npos);
  CHECK(polyline(empty_right, "eval-accuracy").empty());

  test::expect_error([&] { plot_learning_curve(single, "tiny", 10, 10); }, ErrorKind::Usage, "learning curve",
                     "10x10");
}

TEST_CASE("learning curve: the SVG file is written whole, a path that is not .svg is refused") {
  const std::string dir = test::temp_dir();
  const std::string metrics = dir + "/metrics.jsonl", svg = dir + "/curve.svg";
  std::string text;
  for (int s = 1; s <= 100; ++s) {
    text += "{\"step\": " + std::to_string(s) + ", \"split\": \"train\", \"loss\": " + std::to_string(3.0 / s) + "}\n";
    if (s % 25 == 0)
      text += "{\"step\": " + std::to_string(s) + ", \"split\": \"eval\", \"loss\": " + std::to_string(3.5 / s) +
              ", \"accuracy\": " + std::to_string(s / 125.0) + "}\n";
  }
  test::write_text(metrics, text + "{\"step\": 101, \"spl");
  write_learning_curve_svg(metrics, svg, "svg test");
  const std::string written = test::read_text(svg);
  CHECK(written.rfind("<?xml", 0) == 0);
  CHECK(written.size() > 1000);
  CHECK(written.substr(written.size() - 7) == "</svg>\n");
  CHECK(polyline(written, "train-loss").size() == 100);
  test::expect_error([&] { write_learning_curve_svg(metrics, dir + "/curve.png", "png"); }, ErrorKind::Usage, dir + "/curve.png", "SVG");
  CHECK_FALSE(std::filesystem::exists(dir + "/curve.png"));
}
