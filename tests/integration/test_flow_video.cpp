// perceiver-flow on a video file (the golden tiny flow model): the flow of every consecutive pair
// equals the flow of the PNG frames `ffmpeg -i VIDEO -pix_fmt rgb24 %06d.png` extracts, named
// after the pair's first frame as %06d numbers them; --start/--every/--frames select frames; a
// broken file is one line and exit 7.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "media/flo.h"
#include "media/flow_color.h"
#include "media/video_reader.h"
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
  // An audio-only file, whatever its extension, is a video without a video stream.
  const std::string sound = test::make_clip("sound.m4a", "-f lavfi -i sine=duration=0.5 -c:a aac");
  const test::CommandResult audio_only = test::run_command(flow_cmd(sound + " -o " + dir + "/none"));
  CHECK(audio_only.exit_code == 7);
  CHECK(test::count_lines(audio_only.err) == 1);
  CHECK(audio_only.err.find("no video stream") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/none"));
  // --frames N must be a number with a video.
  CHECK(test::run_command(flow_cmd(clip + " --frames many -o " + dir + "/none")).exit_code == 2);
}

namespace {

std::string stem_name(int n, const char* extension) {
  char name[32];
  std::snprintf(name, sizeof name, "%06d%s", n, extension);
  return name;
}

// The number after "colour scale " in perceiver-flow's stderr (-1 when absent).
double printed_scale(const std::string& err) {
  const size_t at = err.find("colour scale ");
  return at == std::string::npos ? -1 : std::stod(err.substr(at + 13));
}

double mean_abs_difference(const Image& a, const Image& b) {
  REQUIRE(a.rgb.size() == b.rgb.size());
  double sum = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
  return sum / double(a.rgb.size());
}

}  // namespace

TEST_CASE("perceiver-flow VIDEO --color-video: one frame per pair at the source rate, one scale for the clip") {
  const std::string clip = test::make_clip("color-video.mp4", test::pattern(20, 12, 5) + " -c:v libx264 -pix_fmt yuv420p");
  const std::string dir = test::temp_dir();
  const std::string loud = test::kNoSlurm + "env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow -t 1 -m " +
                           test::golden_dir() + "/flow ";
  const test::CommandResult r = test::run_command(loud + clip + " -o " + dir + "/flows --color-video " + dir + "/flow.mp4");
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  // The scale is the largest flow of all four pairs, printed once for the video.
  std::vector<FlowField> flows;
  double largest = 0;
  for (int n = 1; n <= 4; ++n) {
    flows.push_back(read_flo(dir + "/flows/" + stem_name(n, ".flo")));
    largest = std::max(largest, largest_flow_magnitude(flows.back()));
  }
  CHECK(r.err.find("flow.mp4: 4 frames") != std::string::npos);
  CHECK(printed_scale(r.err) == doctest::Approx(largest).epsilon(1e-3));
  // Four frames at 10 fps (the source's rate), each the colour picture of its pair at that scale:
  // closer to it than to the picture at the pair's own scale whenever the two differ.
  VideoReader reader(dir + "/flow.mp4");
  CHECK(reader.info().frame_rate.value() == doctest::Approx(10));
  const std::vector<VideoFrame> frames = test::read_frames(dir + "/flow.mp4");
  REQUIRE(frames.size() == 4);
  for (size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i);
    const double to_fixed = mean_abs_difference(frames[i].image, flow_to_color(flows[i], largest));
    CHECK(to_fixed <= 6.0);
    const Image own = flow_to_color(flows[i], 0);
    if (mean_abs_difference(own, flow_to_color(flows[i], largest)) > 10.0)
      CHECK(to_fixed < mean_abs_difference(frames[i].image, own));
  }
  // --color-max fixes the scale; --every 2 halves the rate; no -o: the flows are kept in a
  // temporary folder beside the video, removed afterwards.
  const test::CommandResult fixed =
      test::run_command(loud + clip + " --every 2 --color-max 3.5 --color-video " + dir + "/every2.mp4");
  CAPTURE(fixed.err);
  REQUIRE(fixed.exit_code == 0);
  CHECK(printed_scale(fixed.err) == doctest::Approx(3.5));
  CHECK(test::read_frames(dir + "/every2.mp4").size() == 2);  // frames 1, 3, 5: two pairs
  CHECK(VideoReader(dir + "/every2.mp4").info().frame_rate.value() == doctest::Approx(5));
  const test::CommandResult kept = test::run_command(loud + clip + " --frames 3 --color-video " + dir + "/kept.mp4");
  REQUIRE(kept.exit_code == 0);
  CHECK(test::read_frames(dir + "/kept.mp4").size() == 2);
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename().string().find(".flows-") == std::string::npos);
  // Not with frame files, nor with --shard.
  CHECK(test::run_command(flow_cmd(dir + "/a.png " + dir + "/b.png --color-video " + dir + "/x.mp4")).exit_code == 2);
  CHECK(test::run_command(flow_cmd(clip + " --shard 0/2 --color-video " + dir + "/x.mp4")).exit_code == 2);
  CHECK_FALSE(fs::exists(dir + "/x.mp4"));
}

TEST_CASE("perceiver-flow VIDEO…: several videos in one batch go on past a bad one, with --gt, --error-map and --shard") {
  const std::string a = test::make_clip("batch-a.mp4", test::pattern(20, 12, 4) + " -c:v libx264 -pix_fmt yuv420p");
  const std::string b = test::make_clip("batch-b.mkv", test::pattern(16, 10, 3) + " -c:v ffv1");
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/bad.mp4", "this is not a video");
  const test::CommandResult all = test::run_command(flow_cmd(a + " " + dir + "/bad.mp4 " + b + " -o " + dir + "/out"));
  CAPTURE(all.err);
  CHECK(all.exit_code == 10);  // some inputs failed
  CHECK(all.err.find("bad.mp4") != std::string::npos);
  // Each video's flows in its own folder, equal to a run on that video alone.
  REQUIRE(test::run_command(flow_cmd(a + " -o " + dir + "/alone")).exit_code == 0);
  for (int n = 1; n <= 3; ++n)
    CHECK(max_diff(read_flo(dir + "/out/batch-a/" + stem_name(n, ".flo")), read_flo(dir + "/alone/" + stem_name(n, ".flo"))) == 0);
  CHECK(fs::exists(dir + "/out/batch-b/000002.flo"));
  CHECK_FALSE(fs::exists(dir + "/out/batch-b/000003.flo"));
  CHECK_FALSE(fs::exists(dir + "/out/bad"));

  // --gt DIR/<stem>/NNNNNN.flo: an EPE line per pair ("VIDEO:NNNNNN" names its frames) and the
  // mean; here the ground truth is the flow itself, shifted by one pixel in u for video a.
  for (int n = 1; n <= 3; ++n) {
    FlowField truth = read_flo(dir + "/alone/" + stem_name(n, ".flo"));
    for (size_t i = 0; i < truth.uv.size(); i += 2) truth.uv[i] += 1.0f;
    fs::create_directories(dir + "/gt/batch-a");
    write_flo(dir + "/gt/batch-a/" + stem_name(n, ".flo"), truth);
  }
  fs::create_directories(dir + "/gt/batch-b");
  fs::copy_file(dir + "/out/batch-b/000001.flo", dir + "/gt/batch-b/000001.flo");
  const test::CommandResult gt = test::run_command(flow_cmd(a + " " + b + " --gt " + dir + "/gt --error-map " + dir + "/err"));
  CAPTURE(gt.out);
  CAPTURE(gt.err);
  CHECK(gt.exit_code == 10);  // batch-b's second pair has no ground truth: one line, the others measured
  CHECK(gt.out.find(a + ":000001\t" + a + ":000002\t1.000000\n") != std::string::npos);
  CHECK(gt.out.find(b + ":000001\t" + b + ":000002\t0.000000\n") != std::string::npos);
  CHECK(gt.out.find("mean\t4 pairs\t0.750000\n") != std::string::npos);
  CHECK(fs::exists(dir + "/err/batch-a/000003.png"));
  CHECK(test::count_lines(gt.err) >= 1);
  CHECK(gt.err.find("gt/batch-b/000002.flo") != std::string::npos);

  // --shard: blocks of all the videos' pairs (3 + 2), in order; together the whole batch once.
  for (const char* shard : {"0/2", "1/2"})
    REQUIRE(test::run_command(flow_cmd(a + " " + b + " --shard " + shard + " -o " + dir + "/sharded")).exit_code == 0);
  for (int n = 1; n <= 3; ++n)
    CHECK(max_diff(read_flo(dir + "/sharded/batch-a/" + stem_name(n, ".flo")), read_flo(dir + "/alone/" + stem_name(n, ".flo"))) == 0);
  CHECK(fs::exists(dir + "/sharded/batch-b/000002.flo"));
  const test::CommandResult second = test::run_command(flow_cmd(a + " " + b + " --shard 1/2 -o " + dir + "/second"));
  REQUIRE(second.exit_code == 0);
  CHECK_FALSE(fs::exists(dir + "/second/batch-a/000001.flo"));  // block 0 holds pairs 1–3 of a
  CHECK(fs::exists(dir + "/second/batch-b/000001.flo"));
  // A video cut short mid-stream: its pairs up to the cut are written, one line names it, and
  // the next video is still done.
  const std::string fast = test::make_clip("fast.mp4", "-i '" + a + "' -c copy -movflags +faststart");
  const std::string fast_bytes = test::read_bytes(fast);
  test::write_bytes(dir + "/cut.mp4", fast_bytes.substr(0, fast_bytes.size() * 3 / 4));
  const test::CommandResult cut = test::run_command(flow_cmd(dir + "/cut.mp4 " + b + " -o " + dir + "/after-cut"));
  CAPTURE(cut.err);
  CHECK(cut.exit_code == 10);
  CHECK(cut.err.find("error: " + dir + "/cut.mp4") != std::string::npos);
  CHECK(cut.err.find("error:") == cut.err.rfind("error:"));  // one error line, then the summary
  CHECK(fs::exists(dir + "/after-cut/batch-b/000002.flo"));

  // With several videos --color-video is a folder of <stem>.mp4, not one file.
  REQUIRE(test::run_command(flow_cmd(a + " " + b + " --color-video " + dir + "/colour")).exit_code == 0);
  CHECK(test::read_frames(dir + "/colour/batch-a.mp4").size() == 3);
  CHECK(test::read_frames(dir + "/colour/batch-b.mp4").size() == 2);
  CHECK(test::run_command(flow_cmd(a + " " + b + " --color-video " + dir + "/one.mp4")).exit_code == 2);
  CHECK_FALSE(fs::exists(dir + "/one.mp4"));
  // Two videos of one stem would share folders: a usage error before any work.
  CHECK(test::run_command(flow_cmd(a + " " + dir + "/x/batch-a.mov -o " + dir + "/clash")).exit_code == 2);
}
