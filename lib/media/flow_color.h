// Flow visualisation with the standard Middlebury / Baker et al. colour wheel
// (docs/spec/io_formats.md §3.7): hue from the direction, saturation from the magnitude relative to
// the largest one; zero flow is white.
#pragma once

#include <array>
#include <cstdint>

#include "media/flo.h"
#include "media/image.h"

namespace perceiver {

constexpr int kColorWheelSize = 55;

// The 55 RGB entries: ramps RY 15, YG 6, GC 4, CB 11, BM 13, MR 6.
const std::array<std::array<uint8_t, 3>, kColorWheelSize>& color_wheel();

// The colour of one flow vector already divided by the normalising magnitude (spec formula).
std::array<uint8_t, 3> flow_color(double u, double v);

// Renders `flow`. The flow is divided by (rmax + 1e-5), rmax the largest magnitude over the pixels
// of known flow, or by `max_magnitude` when it is > 0 (a fixed scale, e.g. for a whole video;
// longer vectors are then drawn at 0.75 of the wheel colour, as the formula says). Pixels of
// unknown flow (flow_is_known false) are black.
Image flow_to_color(const FlowField& flow, double max_magnitude = 0);

// The largest magnitude over the pixels of known flow (0 when none), and the magnitude
// flow_to_color normalises by for `max_magnitude` (that, when > 0, else the largest).
double largest_flow_magnitude(const FlowField& flow);
double color_scale(const FlowField& flow, double max_magnitude);

// The colour key: a size×size square whose pixel at (x, y) shows the colour of the flow pointing
// from the centre to it, the disk's edge being the normalising magnitude (white outside).
Image flow_color_key(int64_t size);

}  // namespace perceiver
