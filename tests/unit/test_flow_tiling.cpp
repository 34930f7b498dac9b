// Tiling for full-resolution flow, apart from the network (docs/spec/io_formats.md §3.4): the origin
// grids of the spec's examples, coverage and overlap on many sizes, the pyramid weights, and
// blending stand-in tile functions whose output is known, seams included.
#include <doctest/doctest.h>

#include <cstring>

#include "tasks/flow_tiling.h"

using namespace perceiver;

using Origins = std::vector<int64_t>;

TEST_CASE("tiling: the spec's example grids for the 368×496 tile") {
  auto grid = make_tile_grid(436, 1024, 368, 496);
  CHECK(grid.ys == Origins{0, 68});
  CHECK(grid.xs == Origins{0, 476, 528});
  CHECK(grid.tiles() == 6);
  grid = make_tile_grid(375, 1242, 368, 496);
  CHECK(grid.ys == Origins{0, 7});
  CHECK(grid.xs == Origins{0, 476, 746});
  grid = make_tile_grid(1080, 1920, 368, 496);
  CHECK(grid.ys == Origins{0, 348, 696, 712});
  CHECK(grid.xs == Origins{0, 476, 952, 1424});
  grid = make_tile_grid(368, 496, 368, 496);  // frame = tile: one tile
  CHECK(grid.ys == Origins{0});
  CHECK(grid.xs == Origins{0});
  CHECK(tile_min_overlap(368) == 20);
  CHECK(tile_min_overlap(12) == 6);
  CHECK(tile_min_overlap(1) == 0);
}

TEST_CASE("tiling: origins cover every pixel with at least the minimum overlap, no duplicates") {
  for (int64_t tile : {1, 2, 3, 5, 12, 16, 21, 40, 41, 368, 496}) {
    for (int64_t size = 1; size <= 3 * tile + 45; ++size) {
      CAPTURE(tile);
      CAPTURE(size);
      const Origins origins = tile_origins(size, tile);
      REQUIRE(!origins.empty());
      CHECK(origins.front() == 0);
      if (size <= tile) {
        CHECK(origins.size() == 1);  // padded, not tiled
        continue;
      }
      CHECK(origins.back() == size - tile);  // no tile past the border
      for (size_t i = 1; i < origins.size(); ++i) {
        CHECK(origins[i] > origins[i - 1]);                                  // sorted, no duplicates
        CHECK(origins[i - 1] + tile - origins[i] >= tile_min_overlap(tile));  // overlap (so also coverage)
      }
    }
  }
}

TEST_CASE("tiling: pyramid weights are 1 at the border and grow by 1 inwards") {
  CHECK(tile_blend_weight(0, 0, 368, 496) == 1);
  CHECK(tile_blend_weight(367, 495, 368, 496) == 1);
  CHECK(tile_blend_weight(5, 200, 368, 496) == 6);
  CHECK(tile_blend_weight(200, 2, 368, 496) == 3);
  CHECK(tile_blend_weight(362, 200, 368, 496) == 6);
  int64_t max = 0, sum = 0;
  for (int64_t y = 0; y < 368; ++y)
    for (int64_t x = 0; x < 496; ++x) max = std::max(max, tile_blend_weight(y, x, 368, 496));
  CHECK(max == 184);
  // A 4×5 tile by hand: rows 1 2 2 1 against columns 1 2 3 2 1.
  const int64_t expected[4][5] = {{1, 1, 1, 1, 1}, {1, 2, 2, 2, 1}, {1, 2, 2, 2, 1}, {1, 1, 1, 1, 1}};
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 5; ++x) {
      CHECK(tile_blend_weight(y, x, 4, 5) == expected[y][x]);
      sum += tile_blend_weight(y, x, 4, 5);
    }
  CHECK(sum == 26);
}

namespace {

// A stand-in whose flow depends only on the absolute pixel position.
float position_u(int64_t y, int64_t x) { return static_cast<float>(x) * 0.37f - static_cast<float>(y) / 3.f; }
float position_v(int64_t y, int64_t x) { return static_cast<float>(y * y) * 1e-3f + static_cast<float>(x % 7); }

}  // namespace

TEST_CASE("tiling: blending a constant or a function of absolute position gives it back exactly") {
  struct Size {
    int64_t h, w, th, tw;
  };
  for (const Size s : {Size{436, 1024, 368, 496}, Size{1080, 1920, 368, 496}, Size{375, 1242, 368, 496},
                       Size{368, 496, 368, 496}, Size{37, 50, 12, 16}, Size{10, 50, 12, 16}, Size{5, 7, 12, 16},
                       Size{30, 9, 12, 16}}) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const TileGrid grid = make_tile_grid(s.h, s.w, s.th, s.tw);
    size_t calls = 0, reported = 0;
    const FlowField constant = blend_tiles(
        grid,
        [&](int64_t, int64_t, float* flow) {
          ++calls;
          for (int64_t i = 0; i < s.th * s.tw; ++i) flow[2 * i] = 1.25f, flow[2 * i + 1] = -3.1f;
        },
        [&](size_t done, size_t total) {
          CHECK(total == grid.tiles());
          reported = done;
        });
    CHECK(calls == grid.tiles());
    CHECK(reported == grid.tiles());
    REQUIRE(constant.width == s.w);
    REQUIRE(constant.height == s.h);
    bool exact = true;
    for (int64_t i = 0; i < s.h * s.w; ++i) exact &= constant.uv[2 * i] == 1.25f && constant.uv[2 * i + 1] == -3.1f;
    CHECK(exact);

    const FlowField positional = blend_tiles(grid, [&](int64_t y0, int64_t x0, float* flow) {
      for (int64_t py = 0; py < s.th; ++py)
        for (int64_t px = 0; px < s.tw; ++px) {
          flow[(py * s.tw + px) * 2] = position_u(y0 + py, x0 + px);
          flow[(py * s.tw + px) * 2 + 1] = position_v(y0 + py, x0 + px);
        }
    });
    exact = true;
    for (int64_t y = 0; y < s.h; ++y)
      for (int64_t x = 0; x < s.w; ++x) exact &= positional.u(y, x) == position_u(y, x) && positional.v(y, x) == position_v(y, x);
    CHECK(exact);
  }
}

TEST_CASE("tiling: two overlapping tiles blend as Σw·flow / Σw, by hand") {
  // 4×7 frame, 4×5 tile: xs = {0, 2} (overlap min(20, 2) = 2 → step 3; 0 + 5 < 7, then 7 − 5 = 2).
  const TileGrid grid = make_tile_grid(4, 7, 4, 5);
  REQUIRE(grid.ys == Origins{0});
  REQUIRE(grid.xs == Origins{0, 2});
  const FlowField flow = blend_tiles(grid, [](int64_t, int64_t x0, float* f) {
    for (int i = 0; i < 20; ++i) f[2 * i] = x0 == 0 ? 1.f : 4.f, f[2 * i + 1] = x0 == 0 ? -2.f : 0.f;
  });
  // Row 1, column 3: weight 2 in tile 0 (px 3), 2 in tile 1 (px 1) → (1·2 + 4·2)/4 = 2.5.
  CHECK(flow.u(1, 3) == 2.5f);
  CHECK(flow.v(1, 3) == -1.f);
  // Row 1, column 2: tile 0 px 2 weight 2, tile 1 px 0 weight 1 → (2 + 4)/3 = 2.
  CHECK(flow.u(1, 2) == 2.f);
  // Row 0, column 4: weights 1 and 1 → 2.5; columns outside the overlap keep their tile's value.
  CHECK(flow.u(0, 4) == 2.5f);
  CHECK(flow.u(2, 0) == 1.f);
  CHECK(flow.u(2, 1) == 1.f);
  CHECK(flow.u(2, 5) == 4.f);
  CHECK(flow.u(2, 6) == 4.f);
}
