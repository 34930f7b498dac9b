#include "media/flow_error_map.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "common/error.h"

namespace perceiver {

namespace {

// viridis (matplotlib's default map) at 0, 1/4, 1/2, 3/4 and 1, interpolated linearly between.
constexpr std::array<std::array<double, 3>, 5> kViridisAnchors = {{
    {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};

void require_same_size(const FlowField& flow, const FlowField& truth) {
  if (flow.width != truth.width || flow.height != truth.height)
    fail(ErrorKind::Input, "the ground truth is " + std::to_string(truth.width) + "×" + std::to_string(truth.height) +
                               " but the flow is " + std::to_string(flow.width) + "×" + std::to_string(flow.height));
}

// The error at pixel i (flow and truth interleaved u, v), or a negative value where the truth is unknown.
double pixel_error(const FlowField& flow, const FlowField& truth, size_t i) {
  if (!flow_is_known(truth.uv[i], truth.uv[i + 1])) return -1;
  const double du = static_cast<double>(flow.uv[i]) - truth.uv[i], dv = static_cast<double>(flow.uv[i + 1]) - truth.uv[i + 1];
  return std::sqrt(du * du + dv * dv);
}

}  // namespace

double largest_end_point_error(const FlowField& flow, const FlowField& truth) {
  require_same_size(flow, truth);
  double largest = 0;
  for (size_t i = 0; i + 1 < truth.uv.size(); i += 2) largest = std::max(largest, pixel_error(flow, truth, i));
  return largest;
}

Image flow_error_map(const FlowField& flow, const FlowField& truth, double max_error) {
  require_same_size(flow, truth);
  if (!(max_error > 0)) fail(ErrorKind::Internal, "flow_error_map: the scale must be positive");
  Image image;
  image.width = flow.width;
  image.height = flow.height;
  image.rgb.assign(static_cast<size_t>(flow.width * flow.height) * 3, 0);
  for (size_t p = 0; p < static_cast<size_t>(flow.width * flow.height); ++p) {
    const double error = pixel_error(flow, truth, 2 * p);
    if (error < 0 || std::isnan(error)) continue;  // unknown ground truth (or a non-finite estimate): black
    const double t = std::min(error / max_error, 1.0) * (kViridisAnchors.size() - 1);
    const size_t k = std::min(static_cast<size_t>(t), kViridisAnchors.size() - 2);
    const double f = t - static_cast<double>(k);
    for (int c = 0; c < 3; ++c)
      image.rgb[3 * p + c] =
          static_cast<uint8_t>(std::lround((1 - f) * kViridisAnchors[k][c] + f * kViridisAnchors[k + 1][c]));
  }
  return image;
}

}  // namespace perceiver
