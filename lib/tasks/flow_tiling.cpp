#include "tasks/flow_tiling.h"

#include <algorithm>

#include "common/error.h"

namespace perceiver {

int64_t tile_min_overlap(int64_t tile) { return std::min<int64_t>(20, tile / 2); }

std::vector<int64_t> tile_origins(int64_t size, int64_t tile) {
  if (size <= 0 || tile <= 0)
    fail(ErrorKind::Internal, "tile_origins: size " + std::to_string(size) + ", tile " + std::to_string(tile));
  if (size <= tile) return {0};
  const int64_t step = tile - tile_min_overlap(tile);  // ≥ 1 since overlap ≤ tile / 2
  std::vector<int64_t> origins;
  for (int64_t k = 0; k * step + tile < size; ++k) origins.push_back(k * step);
  origins.push_back(size - tile);
  std::sort(origins.begin(), origins.end());
  origins.erase(std::unique(origins.begin(), origins.end()), origins.end());
  return origins;
}

TileGrid make_tile_grid(int64_t height, int64_t width, int64_t tile_height, int64_t tile_width) {
  TileGrid grid;
  grid.height = height;
  grid.width = width;
  grid.tile_height = tile_height;
  grid.tile_width = tile_width;
  grid.ys = tile_origins(height, tile_height);
  grid.xs = tile_origins(width, tile_width);
  return grid;
}

FlowField blend_tiles(const TileGrid& grid, const TileFlowFunction& tile_flow, const TileProgress& progress) {
  const int64_t h = grid.height, w = grid.width, th = grid.tile_height, tw = grid.tile_width;
  std::vector<double> sum(static_cast<size_t>(h * w * 2), 0.0), weight(static_cast<size_t>(h * w), 0.0);
  std::vector<float> tile(static_cast<size_t>(th * tw * 2));
  size_t done = 0;
  for (int64_t y0 : grid.ys)
    for (int64_t x0 : grid.xs) {
      std::fill(tile.begin(), tile.end(), 0.f);
      tile_flow(y0, x0, tile.data());
      // Only the tile's pixels inside the frame (a padded tile reaches past it).
      const int64_t rows = std::min(th, h - y0), cols = std::min(tw, w - x0);
      for (int64_t py = 0; py < rows; ++py)
        for (int64_t px = 0; px < cols; ++px) {
          const double wt = static_cast<double>(tile_blend_weight(py, px, th, tw));
          const size_t pixel = static_cast<size_t>((y0 + py) * w + x0 + px);
          const float* f = tile.data() + (py * tw + px) * 2;
          sum[2 * pixel] += wt * f[0];
          sum[2 * pixel + 1] += wt * f[1];
          weight[pixel] += wt;
        }
      if (progress) progress(++done, grid.tiles());
    }
  FlowField flow(w, h);
  for (size_t pixel = 0; pixel < weight.size(); ++pixel) {
    if (weight[pixel] <= 0) fail(ErrorKind::Internal, "blend_tiles: a pixel is covered by no tile");
    flow.uv[2 * pixel] = static_cast<float>(sum[2 * pixel] / weight[pixel]);
    flow.uv[2 * pixel + 1] = static_cast<float>(sum[2 * pixel + 1] / weight[pixel]);
  }
  return flow;
}

}  // namespace perceiver
