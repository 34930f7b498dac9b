// Full-resolution optical flow from a model that sees one th×tw tile at a time
// (docs/spec/io_formats.md §3.4): tile origins per axis with a minimum overlap, pyramid blending
// weights, and the weighted average of the tiles' flows. Independent of the network: the
// per-tile work is a function, so the tests drive it with stand-ins.
//
// Frames smaller than the tile along an axis are PADDED, not resized: that axis gets the one
// origin 0, and the tile's rows (or columns) past the frame are zero after normalisation
// (mid-grey, the value the 3×3 patches already use outside a tile; adapters/flow_patches.h).
// Only the flow of the frame's own pixels is kept, so it stays in the frame's pixels and needs no
// rescaling. (Resizing would interpolate the image and require scaling u and v by the resize
// factors; padding keeps every frame pixel as it is.)
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "media/flo.h"

namespace perceiver {

// min(20, floor(tile / 2)).
int64_t tile_min_overlap(int64_t tile);

// Origins along one axis: 0, s, 2s, … while k·s + tile < size (s = tile − overlap), then
// size − tile; sorted, without duplicates. A size not larger than the tile gives {0}.
std::vector<int64_t> tile_origins(int64_t size, int64_t tile);

// The pyramid weight of pixel (py, px) of a th×tw tile: 1 at the border, +1 per pixel inwards.
inline int64_t tile_blend_weight(int64_t py, int64_t px, int64_t th, int64_t tw) {
  const int64_t wx = std::min(px + 1, tw - px), wy = std::min(py + 1, th - py);
  return std::min(wx, wy);
}

struct TileGrid {
  int64_t height = 0, width = 0;            // the frame
  int64_t tile_height = 0, tile_width = 0;  // the tile
  std::vector<int64_t> ys, xs;              // origins; tiles are every (y0, x0)
  size_t tiles() const { return ys.size() * xs.size(); }
};

TileGrid make_tile_grid(int64_t height, int64_t width, int64_t tile_height, int64_t tile_width);

// Fills `flow` ([tile_height, tile_width, 2], row-major, in pixels) for the tile at (y0, x0).
using TileFlowFunction = std::function<void(int64_t y0, int64_t x0, float* flow)>;
// Called after each tile (done, total), e.g. for progress.
using TileProgress = std::function<void(size_t done, size_t total)>;

// Runs `tile_flow` on every tile of `grid` (row-major order of origins) and blends:
// flow = Σ w·tile_flow / Σ w per pixel, accumulated in double (so a flow that every tile reports
// identically comes out exactly). Memory: the result, two double accumulators per pixel and one
// tile.
FlowField blend_tiles(const TileGrid& grid, const TileFlowFunction& tile_flow, const TileProgress& progress = {});

}  // namespace perceiver
