// Shared by the video tests (test_video_*.cpp): tiny clips made with the ffmpeg binary (a
// test-only dependency, installed by scripts/install-deps.sh), the PNGs ffmpeg extracts from a
// clip, and reading every frame with media/video_reader.h.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/image.h"
#include "media/video_reader.h"
#include "support/test_support.h"

namespace perceiver::test {

// The folder every clip of this test process goes to.
inline const std::string& clip_dir() {
  static const std::string dir = temp_dir();
  return dir;
}

// Runs the ffmpeg CLI quietly; the test fails (with ffmpeg's message) when it does.
inline void run_ffmpeg(const std::string& arguments) {
  const CommandResult result = run_command("ffmpeg -hide_banner -nostdin -loglevel error -y " + arguments);
  INFO("ffmpeg " << arguments << "\n" << result.err);
  REQUIRE(result.exit_code == 0);
}

// `clip_dir()/name` made by `ffmpeg <input_and_options> <path>`; returns the path.
inline std::string make_clip(const std::string& name, const std::string& input_and_options) {
  const std::string path = clip_dir() + "/" + name;
  run_ffmpeg(input_and_options + " '" + path + "'");
  return path;
}

// A lavfi test pattern of `width`×`height`, `frames` frames at 10 fps, cropped from a larger
// colourful testsrc2 in RGB (so odd sizes stay odd: cropping a YUV 4:2:0 picture rounds them).
inline std::string pattern(int width, int height, int frames) {
  return "-f lavfi -i testsrc2=size=96x72:rate=10,format=rgb24,crop=" + std::to_string(width) + ":" +
         std::to_string(height) + ":7:5 -frames:v " + std::to_string(frames);
}

// The frames `ffmpeg -i CLIP -pix_fmt rgb24 %06d.png` extracts (the command the reader must
// equal), read back with the project's load_image, in order.
inline std::vector<Image> ffmpeg_png_frames(const std::string& clip, const std::string& extra = "") {
  const std::string dir = clip + ".png.d";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  run_ffmpeg("-i '" + clip + "' " + extra + " -pix_fmt rgb24 '" + dir + "/%06d.png'");
  std::vector<Image> frames;
  for (int n = 1;; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "/%06d.png", n);
    if (!std::filesystem::exists(dir + name)) break;
    frames.push_back(load_image(dir + name));
  }
  return frames;
}

inline std::vector<VideoFrame> read_frames(const std::string& clip, const FrameSelection& selection = {},
                                           const VideoLimits& limits = {}) {
  VideoReader reader(clip, limits, selection);
  std::vector<VideoFrame> frames;
  VideoFrame frame;
  while (reader.next(frame)) frames.push_back(frame);
  return frames;
}

// The largest |a − b| over two images' bytes, and how many bytes differ (sizes must match).
struct ImageDifference {
  int max = 0;
  int64_t bytes = 0;
};
inline ImageDifference image_difference(const Image& a, const Image& b) {
  ImageDifference d;
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    const int delta = a.rgb[i] > b.rgb[i] ? a.rgb[i] - b.rgb[i] : b.rgb[i] - a.rgb[i];
    d.max = std::max(d.max, delta);
    d.bytes += delta != 0;
  }
  return d;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace perceiver::test
