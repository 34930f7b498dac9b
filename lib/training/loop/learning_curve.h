// Learning-curve plots for the training tool: reads the trainer's metrics file (JSON lines) and
// writes loss and held-out accuracy against the training step as an SVG: the numbers and the
// layout are ours, the drawing (fonts, antialiasing, zoom) is left to the browser or viewer that
// shows it (docs/training.md, "Learning curves").
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>


namespace perceiver::training {

// The metrics of one run, in file order. Steps and values are parallel vectors per split; an eval
// record without "accuracy" (or without "loss") holds NaN there, so eval_steps, eval_loss and
// eval_accuracy always have the same length. Accuracy is a fraction in 0..1, as in the file.
struct MetricsSeries {
  std::vector<double> train_steps, train_loss, eval_steps, eval_loss, eval_accuracy;
  // Baselines an eval record carries, "most_frequent_<what>_accuracy" (the accuracy of always
  // answering the most frequent label), each parallel to eval_steps.
  std::map<std::string, std::vector<double>> eval_baselines;
  int64_t skipped_lines = 0;  // non-blank lines that are not a JSON object (e.g. a torn last line)
};

// Reads a metrics file: one JSON object per line with "step" (number), "split" ("train" or
// "eval"), "loss" (number), optional "accuracy"; other fields are ignored, and so are objects
// of another split or without a numeric step. NaN / Infinity / -Infinity tokens (what Python's
// json module writes for a diverged loss) are read as NaN rather than dropping the line.
// Error(Input) "<path>: cannot open the file", or "<path>: no metrics" without a train or eval record.
MetricsSeries read_metrics(const std::string& path);

// Colours of the plotted series, exposed so tests can look for them.
using Rgb = std::array<uint8_t, 3>;
inline constexpr Rgb kTrainLossColour = {165, 165, 165};     // raw train loss, thin grey
inline constexpr Rgb kSmoothedLossColour = {31, 84, 168};    // moving average of the train loss
inline constexpr Rgb kEvalLossColour = {235, 120, 20};       // eval loss, dots and line
inline constexpr Rgb kAccuracyColour = {34, 150, 64};        // eval accuracy in %, dots and line
inline constexpr Rgb kBaselineColour = {120, 120, 120};      // baselines of the accuracy, dashed
inline constexpr const char* kBaselinePrefix = "most_frequent_";
inline constexpr const char* kBaselineSuffix = "_accuracy";

// The learning curve as SVG text: a title on top, then two panels side by side, "loss" on the
// left (train loss, its moving average over ~2% of the points, eval loss) and "held-out accuracy
// (%)" on the right with the baselines dashed (or the text "no accuracy"). Each series is a
// <polyline> with an id (train-loss, train-loss-smoothed, eval-loss, eval-accuracy,
// baseline-<key>). Points are sorted by step; when a step appears more than once (a resumed run
// logging again after its checkpoint) the later record wins. Non-finite points are skipped.
// Error(Usage) when width/height are outside 240x160 .. 16384x16384.
std::string plot_learning_curve(const MetricsSeries& series, const std::string& title, int64_t width = 900,
                                int64_t height = 420);

// read_metrics + plot_learning_curve, written atomically (a temporary file renamed into place, so
// a viewer never sees half a file while training updates it). Error(Usage) unless the path ends
// in .svg.
void write_learning_curve_svg(const std::string& metrics_path, const std::string& svg_path, const std::string& title);

// The checks write_learning_curve_svg makes of its path (.svg; a creatable file when its folder
// exists already), for a tool to make before hours of training rather than after.
void check_learning_curve_path(const std::string& svg_path);

}  // namespace perceiver::training
