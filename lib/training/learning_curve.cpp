#include "training/learning_curve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json.h"
#include "training/bitmap_font.h"

namespace perceiver::training {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr Rgb kBackground = {255, 255, 255};
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

// ---- drawing primitives ---------------------------------------------------------------------

struct Box {
  int64_t left, top, right, bottom;  // inclusive pixel bounds
};

void put_pixel(Image& image, int64_t x, int64_t y, const Rgb& colour, const Box& clip) {
  if (x < clip.left || x > clip.right || y < clip.top || y > clip.bottom) return;
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  uint8_t* pixel = &image.rgb[static_cast<size_t>((y * image.width + x) * 3)];
  pixel[0] = colour[0];
  pixel[1] = colour[1];
  pixel[2] = colour[2];
}

void fill_box(Image& image, const Box& box, const Rgb& colour) {
  for (int64_t y = box.top; y <= box.bottom; ++y)
    for (int64_t x = box.left; x <= box.right; ++x) put_pixel(image, x, y, colour, box);
}

// Bresenham; thickness 2 stamps a 2x2 block per step so thick lines have no diagonal gaps.
void draw_line(Image& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const Rgb& colour, int thickness,
               const Box& clip) {
  const int64_t dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int64_t sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int64_t error = dx + dy;
  while (true) {
    for (int64_t oy = 0; oy < thickness; ++oy)
      for (int64_t ox = 0; ox < thickness; ++ox) put_pixel(image, x0 + ox, y0 + oy, colour, clip);
    if (x0 == x1 && y0 == y1) break;
    const int64_t doubled = 2 * error;
    if (doubled >= dy) {
      error += dy;
      x0 += sx;
    }
    if (doubled <= dx) {
      error += dx;
      y0 += sy;
    }
  }
}

void draw_frame(Image& image, const Box& box, const Rgb& colour) {
  const Box all{0, 0, image.width - 1, image.height - 1};
  draw_line(image, box.left, box.top, box.right, box.top, colour, 1, all);
  draw_line(image, box.left, box.bottom, box.right, box.bottom, colour, 1, all);
  draw_line(image, box.left, box.top, box.left, box.bottom, colour, 1, all);
  draw_line(image, box.right, box.top, box.right, box.bottom, colour, 1, all);
}

void draw_dot(Image& image, int64_t cx, int64_t cy, int64_t radius, const Rgb& colour, const Box& clip) {
  for (int64_t dy = -radius; dy <= radius; ++dy)
    for (int64_t dx = -radius; dx <= radius; ++dx)
      if (dx * dx + dy * dy <= radius * radius + radius) put_pixel(image, cx + dx, cy + dy, colour, clip);
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

// Maps data to pixels inside a plot box. Out-of-range or non-finite ratios are clamped so that
// extreme data can never turn into a huge (or undefined) integer coordinate.
struct Axes {
  Box plot;
  Range x, y;

  static int64_t offset(double ratio, int64_t span) {
    if (!std::isfinite(ratio)) ratio = 0;
    return std::llround(std::clamp(ratio, -1.0, 2.0) * static_cast<double>(span));
  }
  int64_t px(double v) const { return plot.left + offset((v - x.lo) / (x.hi - x.lo), plot.right - plot.left); }
  int64_t py(double v) const { return plot.bottom - offset((v - y.lo) / (y.hi - y.lo), plot.bottom - plot.top); }
  Box inside() const { return {plot.left + 1, plot.top + 1, plot.right - 1, plot.bottom - 1}; }
};

// Lays out one panel inside `area`: y tick labels on the left, x tick labels and "step" below.
// Draws the grid, frame, ticks and labels (only the frame when `scaled` is false: a panel without
// data gets no made-up axis), and returns the axes of the plot box.
Axes draw_axes(Image& image, const Box& area, const Range& x, const Range& y, int scale, bool scaled = true) {
  const Box all{0, 0, image.width - 1, image.height - 1};
  const int64_t tick = 4 * scale, gap = 4 * scale, glyph_h = kGlyphHeight * scale;
  const int64_t bottom_margin = tick + gap + glyph_h + 6 * scale + glyph_h;

  const int64_t plot_bottom = area.bottom - bottom_margin;
  const int64_t plot_h = plot_bottom - area.top;
  const double y_step = nice_step(y, std::clamp<int64_t>(plot_h / (40 * scale), 2, 8), 0);
  const std::vector<double> y_ticks = scaled ? tick_values(y, y_step) : std::vector<double>{};
  const std::vector<std::string> y_labels = tick_labels(y_ticks, y_step);
  int64_t y_label_w = 0;
  for (const auto& label : y_labels) y_label_w = std::max(y_label_w, text_width(label, scale));

  Axes axes{{area.left + y_label_w + tick + gap, area.top, area.right - 10 * scale, plot_bottom}, x, y};
  const int64_t plot_w = axes.plot.right - axes.plot.left;

  // Fewer x ticks when their labels would not fit between neighbours (long step numbers).
  double x_step = 0;
  std::vector<double> x_ticks;
  std::vector<std::string> x_labels;
  for (int64_t target = std::clamp<int64_t>(plot_w / (70 * scale), 2, 8); target >= 1; --target) {
    x_step = nice_step(x, target, 1);  // steps are whole numbers
    x_ticks = scaled ? tick_values(x, x_step) : std::vector<double>{};
    x_labels = tick_labels(x_ticks, x_step);
    int64_t widest = 0;
    for (const auto& label : x_labels) widest = std::max(widest, text_width(label, scale));
    if (x_ticks.size() < 2 || (widest + 8 * scale) * static_cast<int64_t>(x_ticks.size()) <= plot_w) break;
  }

  for (double v : y_ticks) {
    const int64_t py = axes.py(v);
    draw_line(image, axes.plot.left, py, axes.plot.right, py, kGridColour, 1, axes.inside());
  }
  for (double v : x_ticks) {
    const int64_t px = axes.px(v);
    draw_line(image, px, axes.plot.top, px, axes.plot.bottom, kGridColour, 1, axes.inside());
  }
  draw_frame(image, axes.plot, kFrameColour);

  for (size_t i = 0; i < y_ticks.size(); ++i) {
    const int64_t py = axes.py(y_ticks[i]);
    draw_line(image, axes.plot.left - tick, py, axes.plot.left, py, kFrameColour, 1, all);
    draw_text(image, axes.plot.left - tick - gap - text_width(y_labels[i], scale), py - glyph_h / 2, y_labels[i],
              kTextColour, scale);
  }
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    const int64_t px = axes.px(x_ticks[i]);
    draw_line(image, px, axes.plot.bottom, px, axes.plot.bottom + tick, kFrameColour, 1, all);
    draw_text(image, px - text_width(x_labels[i], scale) / 2, axes.plot.bottom + tick + gap, x_labels[i],
              kTextColour, scale);
  }
  if (!scaled) return axes;
  const std::string x_title = "step";
  draw_text(image, (axes.plot.left + axes.plot.right - text_width(x_title, scale)) / 2,
            axes.plot.bottom + tick + gap + glyph_h + 6 * scale, x_title, kTextColour, scale);
  return axes;
}

// A polyline through the points; a lone point is drawn as a dot so it stays visible.
void draw_series(Image& image, const Axes& axes, const std::vector<Point>& points, const Rgb& colour,
                 int thickness) {
  const Box clip = axes.inside();
  if (points.size() == 1) {
    draw_dot(image, axes.px(points[0].x), axes.py(points[0].y), thickness + 1, colour, clip);
    return;
  }
  for (size_t i = 1; i < points.size(); ++i)
    draw_line(image, axes.px(points[i - 1].x), axes.py(points[i - 1].y), axes.px(points[i].x),
              axes.py(points[i].y), colour, thickness, clip);
}

// Dots mark the (usually sparse) eval points; when they would merge into a band they are left out.
void draw_markers(Image& image, const Axes& axes, const std::vector<Point>& points, const Rgb& colour, int scale) {
  const int64_t plot_w = axes.plot.right - axes.plot.left;
  if (static_cast<int64_t>(points.size()) > plot_w / (6 * scale)) return;
  for (const Point& p : points) draw_dot(image, axes.px(p.x), axes.py(p.y), 2 * scale, colour, axes.inside());
}

void draw_centred_note(Image& image, const Axes& axes, const std::string& text, int scale) {
  draw_text(image, (axes.plot.left + axes.plot.right - text_width(text, scale)) / 2,
            (axes.plot.top + axes.plot.bottom - kGlyphHeight * scale) / 2, text, kTextColour, scale);
}

struct LegendEntry {
  std::string label;
  Rgb colour;
  int thickness;
  bool marker;
};

// In the top-right corner of the plot: loss curves fall, so that corner is usually empty.
void draw_legend(Image& image, const Axes& axes, const std::vector<LegendEntry>& entries, int scale) {
  if (entries.empty()) return;
  const int64_t pad = 4 * scale, swatch = 16 * scale, row_h = 11 * scale;
  int64_t label_w = 0;
  for (const auto& entry : entries) label_w = std::max(label_w, text_width(entry.label, scale));
  const int64_t w = pad + swatch + pad + label_w + pad;
  const int64_t h = pad + row_h * static_cast<int64_t>(entries.size()) - (row_h - kGlyphHeight * scale) + pad;
  const Box box{axes.plot.right - 6 * scale - w, axes.plot.top + 6 * scale, axes.plot.right - 6 * scale,
                axes.plot.top + 6 * scale + h};
  fill_box(image, box, kBackground);
  draw_frame(image, box, kLegendBorder);
  for (size_t i = 0; i < entries.size(); ++i) {
    const int64_t top = box.top + pad + row_h * static_cast<int64_t>(i);
    const int64_t middle = top + kGlyphHeight * scale / 2;
    const int64_t x0 = box.left + pad, x1 = x0 + swatch - 1;
    draw_line(image, x0, middle, x1, middle, entries[i].colour, entries[i].thickness, box);
    if (entries[i].marker) draw_dot(image, (x0 + x1) / 2, middle, 2 * scale, entries[i].colour, box);
    draw_text(image, x1 + 1 + pad, top, entries[i].label, kTextColour, scale);
  }
}

void draw_panel_title(Image& image, int64_t left, int64_t right, int64_t top, const std::string& text, int scale) {
  draw_text(image, (left + right - text_width(text, scale)) / 2, top, text, kTextColour, scale);
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
    }
  }
  if (in.bad()) fail(ErrorKind::Input, path + ": cannot read the file");
  if (series.train_steps.empty() && series.eval_steps.empty()) fail(ErrorKind::Input, path + ": no metrics");
  return series;
}

Image plot_learning_curve(const MetricsSeries& series, const std::string& title, int64_t width, int64_t height) {
  if (width < 240 || height < 160 || width > 16384 || height > 16384)
    fail(ErrorKind::Usage, "learning curve: image size " + std::to_string(width) + "x" + std::to_string(height) +
                               " is outside 240x160 .. 16384x16384");
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.assign(static_cast<size_t>(width * height * 3), 255);

  const std::vector<Point> train = finite_points(series.train_steps, series.train_loss, 1.0);
  const std::vector<Point> smoothed = moving_average(train);
  const std::vector<Point> eval_loss = finite_points(series.eval_steps, series.eval_loss, 1.0);
  const std::vector<Point> accuracy = finite_points(series.eval_steps, series.eval_accuracy, 100.0);

  // Text and margins grow with the image so large renders stay readable.
  const int scale = static_cast<int>(std::max<int64_t>(1, std::min(width / 900, height / 420)));
  const int title_scale = 2 * scale;
  const int64_t title_x = std::max<int64_t>(4 * scale, (width - text_width(title, title_scale)) / 2);
  draw_text(image, title_x, 8 * scale, title, kTextColour, title_scale);

  const int64_t panel_title_top = 8 * scale + kGlyphHeight * title_scale + 10 * scale;
  const int64_t plot_top = panel_title_top + kGlyphHeight * scale + 6 * scale;
  const int64_t bottom = height - 1 - 6 * scale, middle = width / 2;
  const Box left_area{8 * scale, plot_top, middle - 8 * scale, bottom};
  const Box right_area{middle + 8 * scale, plot_top, width - 1 - 8 * scale, bottom};

  // Both panels share the step axis so loss and accuracy line up by eye.
  const Range x_range = padded_range({&train, &eval_loss, &accuracy}, true, 0.02);

  draw_panel_title(image, left_area.left, left_area.right, panel_title_top, "loss", scale);
  const bool has_loss = !train.empty() || !eval_loss.empty();
  const Axes loss_axes =
      draw_axes(image, left_area, x_range, padded_range({&train, &eval_loss}, false, 0.05), scale, has_loss);
  if (!has_loss) {
    draw_centred_note(image, loss_axes, "no loss", scale);
  } else {
    draw_series(image, loss_axes, train, kTrainLossColour, 1);
    draw_series(image, loss_axes, smoothed, kSmoothedLossColour, 2);
    draw_series(image, loss_axes, eval_loss, kEvalLossColour, 1);
    draw_markers(image, loss_axes, eval_loss, kEvalLossColour, scale);
    std::vector<LegendEntry> legend;
    if (!train.empty()) {
      legend.push_back({"train", kTrainLossColour, 1, false});
      legend.push_back({"train (smoothed)", kSmoothedLossColour, 2, false});
    }
    if (!eval_loss.empty()) legend.push_back({"eval", kEvalLossColour, 1, true});
    draw_legend(image, loss_axes, legend, scale);
  }

  draw_panel_title(image, right_area.left, right_area.right, panel_title_top, "held-out accuracy (%)", scale);
  // Padding must not suggest an accuracy below 0% or above 100% (unless the data itself does).
  Range accuracy_range = padded_range({&accuracy}, false, 0.05);
  double lowest = 0, highest = 100;
  for (const Point& p : accuracy) {
    lowest = std::min(lowest, p.y);
    highest = std::max(highest, p.y);
  }
  accuracy_range.lo = std::max(accuracy_range.lo, lowest);
  accuracy_range.hi = std::min(accuracy_range.hi, highest);
  if (accuracy.empty() || accuracy_range.hi <= accuracy_range.lo) accuracy_range = {0, 100};
  const Axes accuracy_axes = draw_axes(image, right_area, x_range, accuracy_range, scale, !accuracy.empty());
  if (accuracy.empty()) {
    draw_centred_note(image, accuracy_axes, "no accuracy", scale);
  } else {
    draw_series(image, accuracy_axes, accuracy, kAccuracyColour, 2);
    draw_markers(image, accuracy_axes, accuracy, kAccuracyColour, scale);
  }
  return image;
}

void write_learning_curve_png(const std::string& metrics_path, const std::string& png_path, const std::string& title) {
  write_png(png_path, plot_learning_curve(read_metrics(metrics_path), title));
}

}  // namespace perceiver::training
