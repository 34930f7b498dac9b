// The optical-flow model's input built from two 8-bit RGB frames (docs/spec/io_formats.md §3.1–3.2):
// every value normalised as x/255·2 − 1 (computed in double, stored as float32), and per pixel
// the 3×3 neighbourhood of both frames: channel k = (dy·3 + dx)·3 + c holds
// frame[y + dy − 1, x + dx − 1, c], zero (mid-grey) outside the tile.
#pragma once

#include <cstdint>

#include "media/image.h"
#include "tensor/tensor.h"

namespace perceiver {

constexpr int64_t kFlowPatchChannels = 27;

// x/255·2 − 1 for an 8-bit value, exactly as the spec computes it.
float normalize_flow_pixel(uint8_t x);

// Patches of the tile [y0, y0+height) × [x0, x0+width) of two frames of equal size:
// [1, 2, 27, height, width] (frame 0 = `first`). Patches are taken from the tile, so the 3×3
// neighbourhood is zero-padded at the tile border. Pixels of the tile that lie outside the frames
// (a tile larger than the frames, see tasks/flow_tiling.h) are zero too, as if the frames had
// been zero-padded (after normalisation) at the bottom and right.
// Error(Input) when the frames differ in size; Error(Internal) when the tile origin is outside.
Tensor flow_patches(const Image& first, const Image& second, int64_t y0, int64_t x0, int64_t height, int64_t width);

// The whole frames as one tile.
inline Tensor flow_patches(const Image& first, const Image& second) {
  return flow_patches(first, second, 0, 0, first.height, first.width);
}

}  // namespace perceiver
