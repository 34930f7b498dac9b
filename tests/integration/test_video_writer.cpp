// Writing video (lib/media/video_writer.h): the MP4 re-read by the reader and by ffprobe has one
// video stream with every frame, at the size and rate written, close to the frames given, and
// one AAC stream of the length written (give or take one 1024-sample AAC frame); written whole
// or not at all; the usage errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/image.h"
#include "media/video_audio.h"
#include "media/video_reader.h"
#include "media/video_writer.h"
#include "support/test_support.h"
#include "video_clips.h"

using namespace perceiver;
using namespace perceiver::test;

namespace {

// A smooth picture (gradients move with `t`): what a lossy encoder keeps well, so the frames
// read back must be close to it.
Image smooth_frame(int64_t width, int64_t height, int t) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      uint8_t* p = &image.rgb[static_cast<size_t>((y * width + x) * 3)];
      p[0] = static_cast<uint8_t>(40 + 4 * x + t);
      p[1] = static_cast<uint8_t>(60 + 5 * y);
      p[2] = static_cast<uint8_t>(200 - 2 * x - 2 * y);
    }
  return image;
}

std::vector<float> tone(size_t n, int64_t rate) {
  std::vector<float> samples(n);
  for (size_t i = 0; i < n; ++i) samples[i] = static_cast<float>(0.4 * std::sin(2 * 3.14159265358979 * 440.0 * i / rate));
  return samples;
}

// "video\naudio\n": the stream types ffprobe sees, in order.
std::string stream_types(const std::string& path) {
  const CommandResult probe = run_command("ffprobe -v error -show_entries stream=codec_type -of csv=p=0 '" + path + "'");
  REQUIRE(probe.exit_code == 0);
  return probe.out;
}

}  // namespace

TEST_CASE("video writer: an MP4 of 7 frames with 0.5 s of audio reads back with 7 frames and 0.5 s of sound") {
  const std::string path = clip_dir() + "/written.mp4";
  VideoWriterOptions options;
  options.frame_rate = {30000, 1001};
  options.audio_sample_rate = 16000;
  const std::vector<float> audio = tone(8000, 16000);
  std::vector<Image> frames;
  {
    VideoWriter writer(path, 32, 24, options);
    CHECK(writer.video_codec() == "libx264");
    CHECK(writer.audio_codec_rate() == 16000);
    for (int t = 0; t < 7; ++t) {
      frames.push_back(smooth_frame(32, 24, 3 * t));
      writer.add_frame(frames.back());
      writer.add_audio(audio.data() + t * 1000, 1000);  // in chunks, interleaved with the frames
    }
    writer.add_audio(audio.data() + 7000, 1000);
    CHECK_FALSE(std::filesystem::exists(path));  // nothing written before finish()
    writer.finish();
    CHECK(writer.frames_written() == 7);
  }
  CHECK(stream_types(path) == "video\naudio\n");
  // Nothing left beside it (the temporary file was renamed).
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(clip_dir()))
    files += entry.path().filename().string().rfind("written.mp4", 0) == 0;
  CHECK(files == 1);

  VideoReader reader(path);
  CHECK(reader.info().width == 32);
  CHECK(reader.info().height == 24);
  CHECK(reader.info().frame_rate.num == 30000);
  CHECK(reader.info().frame_rate.den == 1001);
  CHECK(reader.info().frame_count == 7);
  CHECK(reader.info().codec == "h264");
  CHECK(reader.info().has_audio);
  VideoFrame frame;
  size_t n = 0;
  while (reader.next(frame)) {
    REQUIRE(n < frames.size());
    const ImageDifference d = image_difference(frame.image, frames[n]);
    INFO("frame " << n + 1 << ": max difference " << d.max);
    CHECK(d.max <= 12);  // lossy (CRF 18, 4:2:0), but the colours are right: matrix and range match
    ++n;
  }
  CHECK(n == 7);

  // The AAC encoder works in frames of 1024 samples: the decoded track is the 8000 samples
  // written, rounded up to whole frames (8192), never shorter; the edit list trims the
  // encoder's priming, so the samples line up with the ones written.
  const Audio decoded = load_video_audio(path);
  CHECK(decoded.sample_rate == 16000);
  MESSAGE("audio: wrote 8000 samples, read back " << decoded.samples.size());
  CHECK(decoded.samples.size() >= 8000);
  CHECK(decoded.samples.size() <= 8000 + 1024);
  double error = 0;
  for (size_t i = 2048; i < 7000; ++i) error = std::max(error, std::fabs(double(decoded.samples[i]) - audio[i]));
  MESSAGE("audio: max |decoded − written| over samples 2048..6999: " << error);
  CHECK(error < 0.05);
}

TEST_CASE("video writer: odd sizes are padded by repeating the last column and row") {
  const std::string path = clip_dir() + "/odd.mp4";
  VideoWriterOptions options;
  options.frame_rate = {10, 1};
  const Image frame = smooth_frame(33, 25, 0);
  VideoWriter writer(path, 33, 25, options);
  CHECK(writer.padded_width() == 34);
  CHECK(writer.padded_height() == 26);
  for (int i = 0; i < 3; ++i) writer.add_frame(frame);
  writer.finish();
  CHECK(stream_types(path) == "video\n");
  const std::vector<VideoFrame> back = read_frames(path);
  REQUIRE(back.size() == 3);
  REQUIRE(back[0].image.width == 34);
  REQUIRE(back[0].image.height == 26);
  // The padding repeats the edge: column 33 looks like column 32, row 25 like row 24.
  const Image& image = back[0].image;
  auto at = [&](int64_t x, int64_t y, int c) { return int(image.rgb[static_cast<size_t>((y * 34 + x) * 3 + c)]); };
  for (int c = 0; c < 3; ++c) {
    CHECK(std::abs(at(33, 10, c) - at(32, 10, c)) <= 8);
    CHECK(std::abs(at(10, 25, c) - at(10, 24, c)) <= 8);
  }
}

TEST_CASE("video writer: an audio rate AAC lacks is resampled to the next AAC rate") {
  const std::string path = clip_dir() + "/resampled.mp4";
  VideoWriterOptions options;
  options.frame_rate = {25, 1};
  options.audio_sample_rate = 20000;  // between AAC's 16000 and 22050
  VideoWriter writer(path, 16, 16, options);
  CHECK(writer.audio_codec_rate() == 22050);
  writer.add_frame(smooth_frame(16, 16, 0));
  writer.add_audio(tone(20000, 20000));
  writer.finish();
  const Audio decoded = load_video_audio(path);
  CHECK(decoded.sample_rate == 22050);
  CHECK(decoded.samples.size() >= 22050);
  CHECK(decoded.samples.size() <= 22050 + 1024);
}

TEST_CASE("video writer: nothing is written without finish(), /dev/null works, bad arguments are usage errors") {
  const std::string path = clip_dir() + "/abandoned.mp4";
  {
    VideoWriter writer(path, 16, 16, {});
    writer.add_frame(smooth_frame(16, 16, 0));
  }
  CHECK_FALSE(std::filesystem::exists(path));
  for (const auto& entry : std::filesystem::directory_iterator(clip_dir()))
    CHECK(entry.path().filename().string().find("abandoned") == std::string::npos);

  VideoWriter null("/dev/null", 16, 16, {});
  null.add_frame(smooth_frame(16, 16, 0));
  null.finish();

  const std::string avi = clip_dir() + "/out.avi";
  expect_error([&] { VideoWriter writer(avi, 16, 16, {}); }, ErrorKind::Usage, avi, "unknown video extension");
  const std::string mp4 = clip_dir() + "/out.mp4";
  VideoWriterOptions zero_rate;
  zero_rate.frame_rate = {0, 1};
  expect_error([&] { VideoWriter writer(mp4, 16, 16, zero_rate); }, ErrorKind::Usage, mp4, "invalid frame rate");
  VideoWriter writer(mp4, 16, 16, {});
  expect_error([&] { writer.add_frame(smooth_frame(17, 16, 0)); }, ErrorKind::Usage, mp4, "a frame of 17×16");
  expect_error([&] { writer.add_audio(tone(10, 16000)); }, ErrorKind::Usage, mp4, "without an audio stream");
  const std::string nowhere = clip_dir() + "/no-such-folder/out.mp4";
  expect_error([&] { VideoWriter w(nowhere, 16, 16, {}); }, ErrorKind::Output, nowhere, "does not exist");
}
