#include "tasks/flow_estimator.h"

#include "adapters/flow_patches.h"
#include "common/error.h"
#include "models/finite_output.h"

namespace perceiver {

void FlowEstimator::tile_flow(const Image& first, const Image& second, int64_t y0, int64_t x0, float* flow) const {
  const Tensor raw = model_.forward(flow_patches(first, second, y0, x0, tile_height(), tile_width()));  // [1, th, tw, 2]
  require_finite_output(raw, "flow", model_.weights_source());
  const float* r = raw.data<float>();
  for (int64_t i = 0; i < raw.numel(); ++i) flow[i] = r[i] * kFlowPixelScale;
}

FlowField FlowEstimator::estimate(const Image& first, const Image& second, const TileProgress& progress) const {
  if (first.width != second.width || first.height != second.height)
    fail(ErrorKind::Input, "the frames differ in size: " + std::to_string(first.width) + "×" +
                               std::to_string(first.height) + " and " + std::to_string(second.width) + "×" +
                               std::to_string(second.height));
  if (first.width <= 0 || first.height <= 0) fail(ErrorKind::Input, "empty frames");
  return blend_tiles(
      grid(first.height, first.width),
      [&](int64_t y0, int64_t x0, float* flow) { tile_flow(first, second, y0, x0, flow); }, progress);
}

}  // namespace perceiver
