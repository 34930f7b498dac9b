#include "media/flow_color.h"

#include <algorithm>
#include <cmath>

namespace perceiver {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::array<std::array<uint8_t, 3>, kColorWheelSize> make_wheel() {
  std::array<std::array<uint8_t, 3>, kColorWheelSize> wheel{};
  int k = 0;
  auto ramp = [&](int length, int channel, bool rising, std::array<uint8_t, 3> base) {
    for (int i = 0; i < length; ++i, ++k) {
      const int step = 255 * i / length;  // floor(255·i/length)
      wheel[k] = base;
      wheel[k][channel] = static_cast<uint8_t>(rising ? step : 255 - step);
    }
  };
  ramp(15, 1, true, {255, 0, 0});    // red → yellow: G rises
  ramp(6, 0, false, {0, 255, 0});    // yellow → green: R falls
  ramp(4, 2, true, {0, 255, 0});     // green → cyan: B rises
  ramp(11, 1, false, {0, 0, 255});   // cyan → blue: G falls
  ramp(13, 0, true, {0, 0, 255});    // blue → magenta: R rises
  ramp(6, 2, false, {255, 0, 0});    // magenta → red: B falls
  return wheel;
}

}  // namespace

const std::array<std::array<uint8_t, 3>, kColorWheelSize>& color_wheel() {
  static const auto wheel = make_wheel();
  return wheel;
}

std::array<uint8_t, 3> flow_color(double u, double v) {
  const auto& wheel = color_wheel();
  const double r = std::sqrt(u * u + v * v);
  const double a = std::atan2(-v, -u) / kPi;  // [-1, 1]
  const double fk = (a + 1) / 2 * (kColorWheelSize - 1);
  const int k0 = std::clamp(static_cast<int>(std::floor(fk)), 0, kColorWheelSize - 1);
  const int k1 = (k0 + 1) % kColorWheelSize;
  const double f = fk - k0;
  std::array<uint8_t, 3> rgb{};
  for (int c = 0; c < 3; ++c) {
    double col = ((1 - f) * wheel[k0][c] + f * wheel[k1][c]) / 255.0;
    col = r <= 1 ? 1 - r * (1 - col) : 0.75 * col;
    rgb[c] = static_cast<uint8_t>(std::clamp(std::floor(255 * col), 0.0, 255.0));
  }
  return rgb;
}

double largest_flow_magnitude(const FlowField& flow) {
  double rmax = 0;
  for (size_t i = 0; i + 1 < flow.uv.size(); i += 2) {
    const float u = flow.uv[i], v = flow.uv[i + 1];
    if (flow_is_known(u, v)) rmax = std::max(rmax, std::sqrt(static_cast<double>(u) * u + static_cast<double>(v) * v));
  }
  return rmax;
}

double color_scale(const FlowField& flow, double max_magnitude) {
  return max_magnitude > 0 ? max_magnitude : largest_flow_magnitude(flow);
}

Image flow_to_color(const FlowField& flow, double max_magnitude) {
  const size_t pixels = static_cast<size_t>(flow.width * flow.height);
  const double divisor = color_scale(flow, max_magnitude) + 1e-5;
  Image image;
  image.width = flow.width;
  image.height = flow.height;
  image.rgb.assign(pixels * 3, 0);
  for (size_t i = 0; i < pixels; ++i) {
    const float u = flow.uv[2 * i], v = flow.uv[2 * i + 1];
    if (!flow_is_known(u, v)) continue;  // black
    const auto rgb = flow_color(u / divisor, v / divisor);
    std::copy(rgb.begin(), rgb.end(), image.rgb.begin() + static_cast<std::ptrdiff_t>(3 * i));
  }
  return image;
}

}  // namespace perceiver

namespace perceiver {

Image flow_color_key(int64_t size) {
  Image image;
  image.width = image.height = size;
  image.rgb.assign(static_cast<size_t>(size * size) * 3, 255);  // white outside the wheel
  const double centre = (static_cast<double>(size) - 1) / 2, radius = centre;
  for (int64_t y = 0; y < size; ++y)
    for (int64_t x = 0; x < size; ++x) {
      const double u = (static_cast<double>(x) - centre) / radius, v = (static_cast<double>(y) - centre) / radius;
      if (u * u + v * v > 1) continue;
      const auto rgb = flow_color(u, v);
      std::copy(rgb.begin(), rgb.end(), image.rgb.begin() + static_cast<std::ptrdiff_t>(3 * (y * size + x)));
    }
  return image;
}

}  // namespace perceiver
