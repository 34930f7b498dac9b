// perceiver-flow on a video file (the golden tiny flow model): the flow of every consecutive pair
// equals the flow of the PNG frames `ffmpeg -i VIDEO -pix_fmt rgb24 %06d.png` extracts, named
// after the pair's first frame as %06d numbers them; --start/--every/--frames select frames; a
// broken file is one line and exit 7.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "media/flo.h"
#include "support/test_support.h"
#include "video_clips.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string flow_cmd(const std::string& args) {
  return test::kNoSlurm + "env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow -q -t 1 -m " +
         test::golden_dir() + "/flow " + args;
}

double max_diff(const FlowField& a, const FlowField& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  double worst = 0;
  for (size_t i = 0; i < a.uv.size(); ++i) worst = std::max(worst, std::fabs(double(a.uv[i]) - b.uv[i]));
  return worst;
}

}  // namespace

TEST_CASE("perceiver-flow VIDEO: the flow of each pair equals the flow of the frames ffmpeg extracts, named %06d") {
  const std::string clip = test::make_clip("flow.mp4", test::pattern(20, 12, 5) + " -c:v libx264 -pix_fmt yuv420p");
  const std::string dir = test::temp_dir();
  // The frames as ffmpeg extracts them, and their flows through --frames.
  fs::create_directories(dir + "/png");
  test::run_ffmpeg("-i '" + clip + "' -pix_fmt rgb24 '" + dir + "/png/%06d.png'");
  REQUIRE(test::run_command(flow_cmd("--frames " + dir + "/png -o " + dir + "/from-png")).exit_code == 0);
  const test::CommandResult r = test::run_command(flow_cmd(clip + " -o " + dir + "/from-video --color " + dir + "/color"));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  for (int n = 1; n <= 4; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "/%06d.flo", n);
    CAPTURE(name);
    REQUIRE(fs::exists(dir + "/from-video" + name));
    CHECK(max_diff(read_flo(dir + "/from-video" + name), read_flo(dir + "/from-png" + name)) <= 1e-4);
    CHECK(fs::exists(dir + "/color" + std::string(name).replace(7, 4, ".png")));
  }
  CHECK_FALSE(fs::exists(dir + "/from-video/000005.flo"));  // 5 frames, 4 pairs

  // Frames 2 and 4 only: one pair, named after frame 2, equal to the flow of those two PNGs.
  const test::CommandResult picked =
      test::run_command(flow_cmd(clip + " --start 2 --every 2 --frames 2 -o " + dir + "/picked"));
  REQUIRE(picked.exit_code == 0);
  REQUIRE(test::run_command(flow_cmd(dir + "/png/000002.png " + dir + "/png/000004.png -o " + dir + "/pair.flo")).exit_code == 0);
  CHECK(max_diff(read_flo(dir + "/picked/000002.flo"), read_flo(dir + "/pair.flo")) <= 1e-4);
  CHECK(std::distance(fs::directory_iterator(dir + "/picked"), fs::directory_iterator()) == 1);

  // A file that is not a video: one line, exit 7, nothing written.
  test::write_text(dir + "/broken.mp4", "not a video at all");
  const test::CommandResult broken = test::run_command(flow_cmd(dir + "/broken.mp4 -o " + dir + "/none"));
  CHECK(broken.exit_code == 7);
  CHECK(test::count_lines(broken.err) == 1);
  CHECK(broken.err.find("broken.mp4") != std::string::npos);
  // --frames N must be a number with a video.
  CHECK(test::run_command(flow_cmd(clip + " --frames many -o " + dir + "/none")).exit_code == 2);
}
