// A picture of where a flow is wrong: each pixel's end-point error against the ground truth in
// a perceptual colour map (viridis: dark violet for 0, through blue and green, to yellow for the
// scale and above), pixels of unknown ground truth black. Perceptual, so equal steps of error
// look like equal steps of colour, and it stays readable in greyscale.
#pragma once

#include "media/flo.h"
#include "media/image.h"

namespace perceiver {

// The largest end-point error over the pixels of known ground truth (0 when none).
// Error(Input) when the sizes differ.
double largest_end_point_error(const FlowField& flow, const FlowField& truth);

// The map, with errors divided by `max_error` (> 0) and clipped at 1.
Image flow_error_map(const FlowField& flow, const FlowField& truth, double max_error);

}  // namespace perceiver
