// Optical flow of a frame pair at any resolution, in pixels: patches per tile
// (adapters/flow_patches.h) → OpticalFlowModel (raw output, ÷100) × 20 (docs/spec/io_formats.md §3.5)
// → tiles blended (tasks/flow_tiling.h). u is rightwards, v downwards, for the pixels of the
// first frame. One tile is in memory at a time, so memory does not grow with the frame size
// beyond the frames and the blended result.
#pragma once

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "media/flo.h"
#include "media/image.h"
#include "tasks/flow_tiling.h"
#include "models/optical_flow.h"

namespace perceiver {

// Pixel flow = the model's (÷100) output × 20.
constexpr float kFlowPixelScale = 20.f;

class FlowEstimator {
 public:
  FlowEstimator(const PerceiverConfig& config, Weights& weights) : model_(config, weights) {}

  int64_t tile_height() const { return model_.tile_height(); }
  int64_t tile_width() const { return model_.tile_width(); }
  TileGrid grid(int64_t height, int64_t width) const {
    return make_tile_grid(height, width, tile_height(), tile_width());
  }

  // Error(Input) naming both sizes when the frames differ in size.
  FlowField estimate(const Image& first, const Image& second, const TileProgress& progress = {}) const;

  // The flow of one tile in pixels ([th, tw, 2]) — what estimate() blends.
  void tile_flow(const Image& first, const Image& second, int64_t y0, int64_t x0, float* flow) const;

 private:
  OpticalFlowModel model_;
};

}  // namespace perceiver
