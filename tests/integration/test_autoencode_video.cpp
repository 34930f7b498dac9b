// perceiver-autoencode on a video file (the golden multimodal model): its frames and its own audio
// track give the same reconstruction quality as the frames ffmpeg extracts plus the track
// extracted as a float WAV; reconstruction.mp4 (with audio) and compare.mp4 are written; a video
// without audio and no --audio is one line, exit 7.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "media/video_reader.h"
#include "support/test_support.h"
#include "video_clips.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string autoencode(const std::string& args) {
  return test::kNoSlurm + "env -u PERCEIVER_AUTOENCODE_MODEL " + test::bin_dir() + "/perceiver-autoencode -q -t 1 -m " +
         test::golden_dir() + "/multimodal " + args;
}

}  // namespace

TEST_CASE("perceiver-autoencode --video FILE: frames and the file's own audio as ffmpeg extracts them, plus reconstruction.mp4") {
  // 4 frames at 10 fps (two windows of the golden model's 2 frames) and 0.4 s of a tone.
  const std::string clip = test::make_clip("autoencode.mkv", "-f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.4 " +
                                                                 test::pattern(16, 12, 4) + " -c:v ffv1 -c:a pcm_s16le");
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/frames");
  test::run_ffmpeg("-i '" + clip + "' -pix_fmt rgb24 '" + dir + "/frames/%06d.png'");
  test::run_ffmpeg("-i '" + clip + "' -vn -c:a pcm_f32le '" + dir + "/audio.wav'");

  const test::CommandResult from_video = test::run_command(autoencode("--video " + clip + " --json -o " + dir + "/a"));
  CAPTURE(from_video.err);
  REQUIRE(from_video.exit_code == 0);
  const test::CommandResult from_files =
      test::run_command(autoencode("--video " + dir + "/frames --audio " + dir + "/audio.wav --json -o " + dir + "/b"));
  CAPTURE(from_files.err);
  REQUIRE(from_files.exit_code == 0);
  const auto a = nlohmann::json::parse(from_video.out), b = nlohmann::json::parse(from_files.out);
  CHECK(a["windows"] == 2);
  CHECK(a["windows"] == b["windows"]);
  CHECK(std::fabs(a["psnr"]["video_db"].get<double>() - b["psnr"]["video_db"].get<double>()) <= 0.01);
  CHECK(std::fabs(a["psnr"]["audio_db"].get<double>() - b["psnr"]["audio_db"].get<double>()) <= 0.01);

  // The reconstruction as a video: 4 frames of the model's size, with an audio stream.
  VideoReader recon(dir + "/a/reconstruction.mp4");
  CHECK(recon.info().has_audio);
  int frames = 0;
  for (VideoFrame frame; recon.next(frame);) {
    CHECK(frame.image.width == 8);
    ++frames;
  }
  CHECK(frames == 4);
  VideoReader compare(dir + "/a/compare.mp4");
  // Input | reconstruction under their labels: the 8×8 frames enlarged 11× for "reconstruction".
  CHECK(compare.info().width == 2 * 88 + 2);
  CHECK(compare.info().height == 88 + 11 + 1);  // padded to an even height by the writer (yuv420p)
  int compare_frames = 0;
  for (VideoFrame frame; compare.next(frame);) {
    int64_t bright = 0;  // label pixels in the black strip
    for (int64_t y = 0; y < 11; ++y)
      for (int64_t x = 0; x < frame.image.width; ++x) bright += frame.image.rgb[static_cast<size_t>((y * frame.image.width + x) * 3)] > 128;
    CHECK(bright > 40);
    ++compare_frames;
  }
  CHECK(compare_frames == 4);
  CHECK_FALSE(fs::exists(dir + "/b/reconstruction.mp4"));  // frame folders keep today's outputs

  // An audio-only file as --video: no video stream, one line, exit 7, nothing written.
  const std::string sound = test::make_clip("only-sound.m4a", "-f lavfi -i sine=duration=0.5 -c:a aac");
  const test::CommandResult audio_only = test::run_command(autoencode("--video " + sound + " -o " + dir + "/d"));
  CHECK(audio_only.exit_code == 7);
  CHECK(test::count_lines(audio_only.err) == 1);
  CHECK(audio_only.err.find("no video stream") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/d/summary.json"));

  // No audio track and no --audio: one line naming the file, exit 7.
  const std::string silent = test::make_clip("silent.mkv", test::pattern(16, 12, 4) + " -c:v ffv1");
  const test::CommandResult no_audio = test::run_command(autoencode("--video " + silent + " -o " + dir + "/c"));
  CHECK(no_audio.exit_code == 7);
  CHECK(test::count_lines(no_audio.err) == 1);
  CHECK(no_audio.err.find("silent.mkv") != std::string::npos);
}
