// flow-peak-memory: peak memory and time of perceiver-flow's tiling path on one random frame pair
// of a given size, with the released optical-flow-perceiver configuration (docs/spec/checkpoints.md §2)
// and random weights — nothing is downloaded. One JSON line:
//   flow-peak-memory --size 1024x436 [--tiles N] [--threads N]
// width, height, tiles (run / in the grid), seconds (all tiles run, blending included), gflop
// (2·M·N·K of the matrix products of the tiles run, as perceiver-bench counts) and gflops,
// seconds_per_tile, rss_after_load_mb, peak_rss_mb (VmHWM: the process's high-water mark),
// load_seconds. With --tiles N only the first N tiles run (no blending): peak memory is reached on
// the first tile already, so this is a quicker way to measure it.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <random>

#include "bench/flops.h"
#include "bench/memory.h"
#include "bench/random_frame.h"
#include "bench/released_configs.h"
#include "checkpoint/weights.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "kernels/runtime.h"
#include "tasks/flow_estimator.h"

using namespace perceiver;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }




}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Peak memory and time of the optical-flow tiling path (released config, random weights)."};
  std::string size = "1024x436";
  int64_t tiles = 0;
  int threads = 0;
  app.add_option("-s,--size", size, "frame size WIDTHxHEIGHT")->capture_default_str();
  app.add_option("--tiles", tiles, "run only the first N tiles (0 = all, blended)")->check(CLI::NonNegativeNumber);
  cli::add_threads_option(app, threads);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  return cli::run_guarded("flow-peak-memory", [&] {
    int64_t width = 0, height = 0;
    if (std::sscanf(size.c_str(), "%ldx%ld", &width, &height) != 2 || width <= 0 || height <= 0)
      fail(ErrorKind::Usage, "--size must be WIDTHxHEIGHT, e.g. 1024x436");
    kernels::set_num_threads(threads);
    const auto load_start = Clock::now();
    auto weights = random_weights(42);
    const FlowEstimator estimator(bench::flow_config(), *weights);
    const double load_seconds = seconds_since(load_start);
    const double rss_after_load = bench::current_rss_mb();
    const Image first = bench::random_frame(width, height, 1), second = bench::random_frame(width, height, 2);
    const TileGrid grid = estimator.grid(height, width);
    const auto start = Clock::now();
    size_t run = 0;
    if (tiles == 0) {
      const FlowField flow = estimator.estimate(first, second, [&](size_t done, size_t) { run = done; });
      if (flow.uv.empty()) fail(ErrorKind::Internal, "no flow");
    } else {
      std::vector<float> flow(static_cast<size_t>(grid.tile_height * grid.tile_width * 2));
      for (int64_t y0 : grid.ys)
        for (int64_t x0 : grid.xs)
          if (run < static_cast<size_t>(tiles)) estimator.tile_flow(first, second, y0, x0, flow.data()), ++run;
    }
    const double seconds = seconds_since(start);
    const double gflop = bench::flow_tile_flops(bench::flow_config()) * static_cast<double>(run) / 1e9;
    nlohmann::json line = {{"width", width},
                           {"height", height},
                           {"tile", {grid.tile_height, grid.tile_width}},
                           {"tiles_in_grid", grid.tiles()},
                           {"tiles_run", run},
                           {"blended", tiles == 0},
                           {"threads", kernels::num_threads()},
                           {"seconds", seconds},
                           {"gflop", gflop},
                           {"gflops", gflop / seconds},
                           {"seconds_per_tile", seconds / static_cast<double>(std::max<size_t>(run, 1))},
                           {"rss_after_load_mb", rss_after_load},
                           {"peak_rss_mb", bench::peak_rss_mb()},
                           {"load_seconds", load_seconds}};
    std::cout << line.dump() << std::endl;
    return 0;
  });
}
