#include "training/loop/learning_curve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json.h"
#include "common/atomic_file.h"

namespace perceiver::training {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr Rgb kTextColour = {40, 40, 40};
constexpr Rgb kFrameColour = {90, 90, 90};
constexpr Rgb kGridColour = {232, 232, 232};
constexpr Rgb kLegendBorder = {190, 190, 190};

// ---- reading --------------------------------------------------------------------------------

// Python's json.dumps writes NaN, Infinity and -Infinity for non-finite floats, which strict JSON
// rejects; turning those bare tokens (outside strings) into null keeps the rest of the record.
std::string null_for_non_finite_tokens(const std::string& line) {
  std::string out;
  out.reserve(line.size());
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < line.size())
        out += line[++i];
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    size_t token = 0;
    if (line.compare(i, 9, "-Infinity") == 0)
      token = 9;
    else if (line.compare(i, 8, "Infinity") == 0)
      token = 8;
    else if (line.compare(i, 3, "NaN") == 0)
      token = 3;
    if (token > 0) {
      out += "null";
      i += token - 1;
    } else {
      out += c;
    }
  }
  return out;
}

double number_or_nan(const nlohmann::json& record, const char* key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : kNaN;
}

// ---- data and axes --------------------------------------------------------------------------

struct Point {
  double x, y;
};

// Finite (step, value * value_scale) pairs sorted by step. A resumed run logs the steps after its
// checkpoint again; for a repeated step the later record wins, so the curve never doubles back.
std::vector<Point> finite_points(const std::vector<double>& steps, const std::vector<double>& values,
                                 double value_scale) {
  std::vector<Point> points;
  const size_t n = std::min(steps.size(), values.size());
  for (size_t i = 0; i < n; ++i) {
    const Point p{steps[i], values[i] * value_scale};
    if (std::isfinite(p.x) && std::isfinite(p.y)) points.push_back(p);
  }
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  std::vector<Point> unique;
  for (const Point& p : points) {
    if (!unique.empty() && unique.back().x == p.x)
      unique.back() = p;
    else
      unique.push_back(p);
  }
  return unique;
}

// Centred moving average over ~2% of the points (at least 1), so it does not lag the raw curve.
std::vector<Point> moving_average(const std::vector<Point>& points) {
  const int64_t n = static_cast<int64_t>(points.size());
  const int64_t window = std::max<int64_t>(1, std::llround(0.02 * static_cast<double>(n)));
  const int64_t half = window / 2;
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0.0);
  for (int64_t i = 0; i < n; ++i) prefix[static_cast<size_t>(i + 1)] = prefix[static_cast<size_t>(i)] + points[static_cast<size_t>(i)].y;
  std::vector<Point> out(points.size());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t from = std::max<int64_t>(0, i - half), to = std::min(n - 1, i + half);
    const double sum = prefix[static_cast<size_t>(to + 1)] - prefix[static_cast<size_t>(from)];
    out[static_cast<size_t>(i)] = {points[static_cast<size_t>(i)].x, sum / static_cast<double>(to - from + 1)};
  }
  return out;
}

struct Range {
  double lo = 0, hi = 1;
};

// The span of the x (or y) coordinates of all points, widened by `padding` of its width on both
// sides; a single value gets a small band around it, no points the range 0..1.
Range padded_range(const std::vector<const std::vector<Point>*>& sets, bool use_x, double padding) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* set : sets)
    for (const Point& p : *set) {
      const double v = use_x ? p.x : p.y;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (lo > hi) return {};
  if (hi - lo <= 0) {
    const double band = lo == 0 ? 1.0 : std::fabs(lo) * 0.05;
    return {lo - band, hi + band};
  }
  const double pad = (hi - lo) * padding;
  return {lo - pad, hi + pad};
}

// A round step (1, 2 or 5 times a power of ten) giving about `target` intervals over the range.
double nice_step(const Range& range, int64_t target, double min_step) {
  const double raw = (range.hi - range.lo) / static_cast<double>(target);
  if (!std::isfinite(raw) || raw <= 0) return 0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  const double nice = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10;
  return std::max(nice * magnitude, min_step);
}

std::vector<double> tick_values(const Range& range, double step) {
  std::vector<double> ticks;
  if (!(step > 0) || !std::isfinite(step)) return ticks;
  const double first = std::ceil(range.lo / step - 1e-9), last = std::floor(range.hi / step + 1e-9);
  if (!std::isfinite(first) || !std::isfinite(last) || last - first > 100) return ticks;
  for (double k = first; k <= last; ++k) {
    const double v = k * step;
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);  // no "-0"
  }
  return ticks;
}

// Labels for the ticks of one axis, all in the same notation: fixed-point with as many decimals
// as the step needs, or, for very large or very small numbers, compact scientific ("1.5e6", "5e-5").
std::vector<std::string> tick_labels(const std::vector<double>& ticks, double step) {
  std::vector<std::string> labels;
  if (ticks.empty()) return labels;
  const int step_exponent = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  const double largest = std::max(std::fabs(ticks.front()), std::fabs(ticks.back()));
  const bool scientific = largest >= 1e6 || step_exponent < -3;
  char buffer[64];
  for (const double v : ticks) {
    if (!scientific) {
      std::snprintf(buffer, sizeof buffer, "%.*f", std::max(0, -step_exponent), v);
      labels.emplace_back(buffer);
      continue;
    }
    if (v == 0) {
      labels.emplace_back("0");
      continue;
    }
    const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(v)) + 1e-9));
    const int decimals = std::clamp(exponent - step_exponent, 0, 15);
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v / std::pow(10.0, exponent));
    std::string mantissa = buffer;
    if (mantissa.find('.') != std::string::npos) {  // "1.50" -> "1.5", "2.0" -> "2"
      mantissa.erase(mantissa.find_last_not_of('0') + 1);
      if (mantissa.back() == '.') mantissa.pop_back();
    }
    labels.push_back(mantissa + "e" + std::to_string(exponent));
  }
  return labels;
}

// Maps data to SVG user units inside a plot box. Out-of-range or non-finite ratios are clamped so
// that extreme data never turns into a huge (or undefined) coordinate.
struct Box {
  double left, top, right, bottom;
};

struct Axes {
  Box plot;
  Range x, y;
  static double ratio(double r) { return std::isfinite(r) ? std::clamp(r, -1.0, 2.0) : 0; }
  double px(double v) const { return plot.left + ratio((v - x.lo) / (x.hi - x.lo)) * (plot.right - plot.left); }
  double py(double v) const { return plot.bottom - ratio((v - y.lo) / (y.hi - y.lo)) * (plot.bottom - plot.top); }
};

std::string hex(const Rgb& c) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", c[0], c[1], c[2]);
  return text;
}

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

// Text for XML: the five special characters as entities, control bytes dropped.
std::string xml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

// Layout only needs an estimate of a label's width: the viewer draws the text with its own fonts.
double text_width(const std::string& text, double size) { return 0.6 * size * static_cast<double>(text.size()); }

class Svg {
 public:
  std::string out;
  void text(double x, double y, const std::string& s, double size, const char* anchor = "start", const Rgb& colour = kTextColour) {
    out += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) + "\" text-anchor=\"" + anchor +
           "\" fill=\"" + hex(colour) + "\">" + xml(s) + "</text>\n";
  }
  void line(double x0, double y0, double x1, double y1, const Rgb& colour, double width, const std::string& extra = "") {
    out += "<line x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y1) + "\" stroke=\"" +
           hex(colour) + "\" stroke-width=\"" + num(width) + "\"" + extra + "/>\n";
  }
  // A polyline through the points, id'd so tests and scripts can find the series.
  void series(const Axes& axes, const std::string& id, const std::vector<Point>& points, const Rgb& colour, double width,
              const std::string& clip, const std::string& extra = "") {
    if (points.empty()) return;
    out += "<polyline id=\"" + id + "\" clip-path=\"url(#" + clip + ")\" fill=\"none\" stroke=\"" + hex(colour) +
           "\" stroke-width=\"" + num(width) + "\" stroke-linejoin=\"round\"" + extra + " points=\"";
    for (size_t i = 0; i < points.size(); ++i)
      out += (i ? " " : "") + num(axes.px(points[i].x)) + "," + num(axes.py(points[i].y));
    out += "\"/>\n";
  }
  void markers(const Axes& axes, const std::string& id, const std::vector<Point>& points, const Rgb& colour, const std::string& clip) {
    // Dots mark the (usually sparse) eval points; when they would merge into a band they are left out.
    if (points.empty() || static_cast<double>(points.size()) > (axes.plot.right - axes.plot.left) / 6) return;
    out += "<g id=\"" + id + "\" clip-path=\"url(#" + clip + ")\" fill=\"" + hex(colour) + "\">";
    for (const Point& p : points) out += "<circle cx=\"" + num(axes.px(p.x)) + "\" cy=\"" + num(axes.py(p.y)) + "\" r=\"2.5\"/>";
    out += "</g>\n";
  }
};

// One panel's grid, frame, ticks and labels (only the frame when `scaled` is false: a panel
// without data gets no made-up axis), and a clip path `clip` for its series.
Axes draw_axes(Svg& svg, const Box& area, const Range& x, const Range& y, bool scaled, const std::string& clip) {
  const double font = 11, tick = 4, gap = 4;
  const Box plot_guess{area.left, area.top, area.right - 10, area.bottom - (tick + gap + font + 6 + font)};
  const double y_step = nice_step(y, std::clamp<int64_t>(static_cast<int64_t>((plot_guess.bottom - plot_guess.top) / 40), 2, 8), 0);
  const std::vector<double> y_ticks = scaled ? tick_values(y, y_step) : std::vector<double>{};
  const std::vector<std::string> y_labels = tick_labels(y_ticks, y_step);
  double y_label_w = 0;
  for (const auto& label : y_labels) y_label_w = std::max(y_label_w, text_width(label, font));
  Axes axes{{area.left + y_label_w + tick + gap, plot_guess.top, plot_guess.right, plot_guess.bottom}, x, y};
  const double plot_w = axes.plot.right - axes.plot.left;
  // Fewer x ticks when their labels would not fit between neighbours (long step numbers).
  double x_step = 0;
  std::vector<double> x_ticks;
  std::vector<std::string> x_labels;
  for (int64_t target = std::clamp<int64_t>(static_cast<int64_t>(plot_w / 70), 2, 8); target >= 1; --target) {
    x_step = nice_step(x, target, 1);  // steps are whole numbers
    x_ticks = scaled ? tick_values(x, x_step) : std::vector<double>{};
    x_labels = tick_labels(x_ticks, x_step);
    double widest = 0;
    for (const auto& label : x_labels) widest = std::max(widest, text_width(label, font));
    if (x_ticks.size() < 2 || (widest + 8) * static_cast<double>(x_ticks.size()) <= plot_w) break;
  }
  svg.out += "<clipPath id=\"" + clip + "\"><rect x=\"" + num(axes.plot.left) + "\" y=\"" + num(axes.plot.top) +
             "\" width=\"" + num(plot_w) + "\" height=\"" + num(axes.plot.bottom - axes.plot.top) + "\"/></clipPath>\n";
  for (size_t i = 0; i < y_ticks.size(); ++i) {
    const double py = axes.py(y_ticks[i]);
    svg.line(axes.plot.left, py, axes.plot.right, py, kGridColour, 1);
    svg.line(axes.plot.left - tick, py, axes.plot.left, py, kFrameColour, 1);
    svg.text(axes.plot.left - tick - gap, py + font * 0.35, y_labels[i], font, "end");
  }
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    const double px = axes.px(x_ticks[i]);
    svg.line(px, axes.plot.top, px, axes.plot.bottom, kGridColour, 1);
    svg.line(px, axes.plot.bottom, px, axes.plot.bottom + tick, kFrameColour, 1);
    svg.text(px, axes.plot.bottom + tick + gap + font * 0.8, x_labels[i], font, "middle");
  }
  svg.out += "<rect x=\"" + num(axes.plot.left) + "\" y=\"" + num(axes.plot.top) + "\" width=\"" + num(plot_w) +
             "\" height=\"" + num(axes.plot.bottom - axes.plot.top) + "\" fill=\"none\" stroke=\"" + hex(kFrameColour) + "\"/>\n";
  if (scaled) svg.text((axes.plot.left + axes.plot.right) / 2, axes.plot.bottom + tick + gap + font + 6 + font * 0.8, "step", font, "middle");
  return axes;
}

struct LegendEntry {
  std::string label;
  Rgb colour;
  double width;
  bool dashed;
};

// In a top corner of the plot, where the curves usually are not: top right for losses (they
// fall), top left for accuracies (they rise; baselines lie low).
void draw_legend(Svg& svg, const Axes& axes, const std::vector<LegendEntry>& entries, bool left_corner = false) {
  if (entries.empty()) return;
  const double font = 11, pad = 5, swatch = 18, row = 15;
  double label_w = 0;
  for (const auto& entry : entries) label_w = std::max(label_w, text_width(entry.label, font));
  const double w = pad + swatch + pad + label_w + pad, h = pad * 2 + row * static_cast<double>(entries.size()) - 3;
  const double left = left_corner ? axes.plot.left + 6 : axes.plot.right - 6 - w, top = axes.plot.top + 6;
  svg.out += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
             "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"" + hex(kLegendBorder) + "\"/>\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const double middle = top + pad + row * static_cast<double>(i) + row / 2 - 2;
    svg.line(left + pad, middle, left + pad + swatch, middle, entries[i].colour, entries[i].width,
             entries[i].dashed ? " stroke-dasharray=\"5 3\"" : "");
    svg.text(left + pad + swatch + pad, middle + font * 0.35, entries[i].label, font);
  }
}

// "most_frequent_byte_accuracy" -> "most frequent byte"
std::string baseline_label(const std::string& key) {
  std::string label = key.substr(0, key.size() - std::string(kBaselineSuffix).size());
  std::replace(label.begin(), label.end(), '_', ' ');
  return label;
}

}  // namespace

MetricsSeries read_metrics(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::Input, path + ": cannot open the file");
  MetricsSeries series;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = parse_json(null_for_non_finite_tokens(line), path, ErrorKind::Input);
    } catch (const Error&) {  // not JSON or nested too deep: skipped like a torn line
    }
    if (!record.is_object()) {
      ++series.skipped_lines;
      continue;
    }
    const double step = number_or_nan(record, "step");
    const auto split = record.find("split");
    if (!std::isfinite(step) || split == record.end() || !split->is_string()) continue;
    if (*split == "train") {
      series.train_steps.push_back(step);
      series.train_loss.push_back(number_or_nan(record, "loss"));
    } else if (*split == "eval") {
      series.eval_steps.push_back(step);
      series.eval_loss.push_back(number_or_nan(record, "loss"));
      series.eval_accuracy.push_back(number_or_nan(record, "accuracy"));
      // Baselines: every "most_frequent_*_accuracy", kept parallel to eval_steps (NaN where absent).
      for (auto& [key, values] : series.eval_baselines) values.push_back(kNaN);
      for (const auto& [key, value] : record.items())
        if (key.rfind(kBaselinePrefix, 0) == 0 && key.size() > std::string(kBaselineSuffix).size() &&
            key.compare(key.size() - std::string(kBaselineSuffix).size(), std::string::npos, kBaselineSuffix) == 0 &&
            value.is_number()) {
          auto [it, added] = series.eval_baselines.try_emplace(key, std::vector<double>(series.eval_steps.size(), kNaN));
          it->second.back() = value.get<double>();
        }
    }
  }
  if (in.bad()) fail(ErrorKind::Input, path + ": cannot read the file");
  if (series.train_steps.empty() && series.eval_steps.empty()) fail(ErrorKind::Input, path + ": no metrics");
  return series;
}

std::string plot_learning_curve(const MetricsSeries& series, const std::string& title, int64_t width, int64_t height) {
  if (width < 240 || height < 160 || width > 16384 || height > 16384)
    fail(ErrorKind::Usage, "learning curve: size " + std::to_string(width) + "x" + std::to_string(height) +
                               " is outside 240x160 .. 16384x16384");
  const std::vector<Point> train = finite_points(series.train_steps, series.train_loss, 1.0);
  const std::vector<Point> smoothed = moving_average(train);
  const std::vector<Point> eval_loss = finite_points(series.eval_steps, series.eval_loss, 1.0);
  const std::vector<Point> accuracy = finite_points(series.eval_steps, series.eval_accuracy, 100.0);
  std::vector<std::pair<std::string, std::vector<Point>>> baselines;
  for (const auto& [key, values] : series.eval_baselines) {
    std::vector<Point> points = finite_points(series.eval_steps, values, 100.0);
    if (!points.empty()) baselines.emplace_back(key, std::move(points));
  }

  const double w = static_cast<double>(width), h = static_cast<double>(height);
  Svg svg;
  svg.out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
            std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) +
            " " + std::to_string(height) + "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" +
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg.text(w / 2, 24, title, 16, "middle");
  const double panel_title_y = 48, plot_top = 58, bottom = h - 6, middle = w / 2;
  const Box left_area{8, plot_top, middle - 8, bottom}, right_area{middle + 8, plot_top, w - 8, bottom};
  // Both panels share the step axis so loss and accuracy line up by eye.
  std::vector<const std::vector<Point>*> x_sets = {&train, &eval_loss, &accuracy};
  for (const auto& [key, points] : baselines) x_sets.push_back(&points);
  const Range x_range = padded_range(x_sets, true, 0.02);

  svg.text((left_area.left + left_area.right) / 2, panel_title_y, "loss", 12, "middle");
  const bool has_loss = !train.empty() || !eval_loss.empty();
  const Axes loss_axes = draw_axes(svg, left_area, x_range, padded_range({&train, &eval_loss}, false, 0.05), has_loss, "loss-plot");
  if (!has_loss) {
    svg.text((loss_axes.plot.left + loss_axes.plot.right) / 2, (loss_axes.plot.top + loss_axes.plot.bottom) / 2, "no loss", 12, "middle");
  } else {
    svg.series(loss_axes, "train-loss", train, kTrainLossColour, 1, "loss-plot");
    svg.series(loss_axes, "train-loss-smoothed", smoothed, kSmoothedLossColour, 2, "loss-plot");
    svg.series(loss_axes, "eval-loss", eval_loss, kEvalLossColour, 1.5, "loss-plot");
    svg.markers(loss_axes, "eval-loss-points", eval_loss, kEvalLossColour, "loss-plot");
    std::vector<LegendEntry> legend;
    if (!train.empty()) {
      legend.push_back({"train", kTrainLossColour, 1, false});
      legend.push_back({"train (smoothed)", kSmoothedLossColour, 2, false});
    }
    if (!eval_loss.empty()) legend.push_back({"eval", kEvalLossColour, 1.5, false});
    draw_legend(svg, loss_axes, legend);
  }

  svg.text((right_area.left + right_area.right) / 2, panel_title_y, "held-out accuracy (%)", 12, "middle");
  // Padding must not suggest an accuracy below 0% or above 100% (unless the data itself does).
  std::vector<const std::vector<Point>*> y_sets = {&accuracy};
  for (const auto& [key, points] : baselines) y_sets.push_back(&points);
  Range accuracy_range = padded_range(y_sets, false, 0.05);
  double lowest = 0, highest = 100;
  for (const auto* set : y_sets)
    for (const Point& p : *set) lowest = std::min(lowest, p.y), highest = std::max(highest, p.y);
  accuracy_range.lo = std::max(accuracy_range.lo, lowest);
  accuracy_range.hi = std::min(accuracy_range.hi, highest);
  if (accuracy.empty() || accuracy_range.hi <= accuracy_range.lo) accuracy_range = {0, 100};
  const Axes accuracy_axes = draw_axes(svg, right_area, x_range, accuracy_range, !accuracy.empty(), "accuracy-plot");
  if (accuracy.empty()) {
    svg.text((accuracy_axes.plot.left + accuracy_axes.plot.right) / 2,
             (accuracy_axes.plot.top + accuracy_axes.plot.bottom) / 2, "no accuracy", 12, "middle");
  } else {
    std::vector<LegendEntry> legend{{"eval", kAccuracyColour, 2, false}};
    for (const auto& [key, points] : baselines) {
      svg.series(accuracy_axes, "baseline-" + key, points, kBaselineColour, 1.5, "accuracy-plot", " stroke-dasharray=\"6 4\"");
      char value[48];
      std::snprintf(value, sizeof value, ": %.1f %%", points.back().y);
      legend.push_back({baseline_label(key) + value, kBaselineColour, 1.5, true});
    }
    svg.series(accuracy_axes, "eval-accuracy", accuracy, kAccuracyColour, 2, "accuracy-plot");
    svg.markers(accuracy_axes, "eval-accuracy-points", accuracy, kAccuracyColour, "accuracy-plot");
    draw_legend(svg, accuracy_axes, legend, true);
  }
  svg.out += "</svg>\n";
  return svg.out;
}

void check_learning_curve_path(const std::string& svg_path) {
  std::string extension = std::filesystem::path(svg_path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  if (extension != ".svg")
    fail(ErrorKind::Usage, svg_path + ": learning curves are written as SVG (a browser, an image viewer or rsvg-convert "
                                      "draws them): give a .svg file");
  // Its folder may be the run's output folder, made when training starts: checked when it exists.
  const std::filesystem::path parent = std::filesystem::path(svg_path).parent_path();
  std::error_code error;
  if (parent.empty() || std::filesystem::is_directory(parent, error)) check_output_path(svg_path);
}

void write_learning_curve_svg(const std::string& metrics_path, const std::string& svg_path, const std::string& title) {
  check_learning_curve_path(svg_path);
  const std::string text = plot_learning_curve(read_metrics(metrics_path), title);
  write_file_atomically(svg_path, [&](std::ostream& out) { out << text; });
}

}  // namespace perceiver::training
