// Video frames read with FFmpeg's libraries (lib/media/video_reader.h) against the ffmpeg CLI:
// tiny clips made with ffmpeg itself, every frame of which must equal, byte for byte, the PNG
// `ffmpeg -i CLIP -pix_fmt rgb24 %06d.png` writes for it (Debian 12's FFmpeg 5.1); the frame
// selection; the limits; and the errors for bad files.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/image.h"
#include "media/video_reader.h"
#include "support/test_support.h"
#include "video_clips.h"

using namespace perceiver;
using namespace perceiver::test;

namespace {

struct ClipCase {
  const char* name;
  std::string make;  // ffmpeg input and options
  int64_t width, height;
};

// Every decoded frame equals ffmpeg's PNG for it, and there are as many.
void expect_equal_to_ffmpeg(const std::string& clip, int64_t width, int64_t height, int64_t frames) {
  const std::vector<Image> pngs = ffmpeg_png_frames(clip);
  const std::vector<VideoFrame> ours = read_frames(clip);
  REQUIRE(pngs.size() == static_cast<size_t>(frames));
  REQUIRE(ours.size() == pngs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    CAPTURE(i);
    CHECK(ours[i].number == static_cast<int64_t>(i + 1));
    CHECK(ours[i].image.width == width);
    CHECK(ours[i].image.height == height);
    const ImageDifference d = image_difference(ours[i].image, pngs[i]);
    CHECK(d.max == 0);
    CHECK(d.bytes == 0);
  }
}

// Replaces the identity display matrix of an MP4's track header (tkhd) with
// [a b 0; c d 0; 0 0 1] (16.16 fixed point), as a phone writes a rotated recording; the only
// way to tag rotation with FFmpeg 5.1's CLI, which has no -display_rotation yet.
void set_mp4_matrix(const std::string& from, const std::string& to, int a, int b, int c, int d) {
  std::string bytes = read_bytes(from);
  auto be32 = [](int32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[static_cast<size_t>(i)] = static_cast<char>((static_cast<uint32_t>(v) >> (24 - 8 * i)) & 0xff);
    return s;
  };
  auto matrix = [&](int32_t ma, int32_t mb, int32_t mc, int32_t md) {
    return be32(ma) + be32(mb) + be32(0) + be32(mc) + be32(md) + be32(0) + be32(0) + be32(0) + be32(0x40000000);
  };
  const size_t tkhd = bytes.find("tkhd");
  REQUIRE(tkhd != std::string::npos);
  const size_t at = bytes.find(matrix(0x10000, 0, 0, 0x10000), tkhd);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 36, matrix(a * 0x10000, b * 0x10000, c * 0x10000, d * 0x10000));
  write_bytes(to, bytes);
}

}  // namespace

TEST_CASE("video reader: every frame equals ffmpeg's -pix_fmt rgb24 PNG byte for byte (H.264, odd sizes, full range, BT.709)") {
  // Odd sizes go through libswscale's general path (its fast YUV→RGB path needs an even height),
  // full range and BT.709 through sws_setColorspaceDetails, 4:2:0 through the chroma position.
  const std::vector<ClipCase> cases = {
      {"h264-32x24.mp4", pattern(32, 24, 6) + " -pix_fmt yuv420p -c:v libx264", 32, 24},
      {"ffv1-33x25.mkv", pattern(33, 25, 6) + " -pix_fmt yuv420p -c:v ffv1", 33, 25},
      {"ffv1-34x25.mkv", pattern(34, 25, 6) + " -pix_fmt yuv420p -c:v ffv1", 34, 25},
      {"ffv1-33x26.mkv", pattern(33, 26, 6) + " -pix_fmt yuv420p -c:v ffv1", 33, 26},
      {"mjpeg-33x25-full-range.avi", pattern(33, 25, 6) + " -pix_fmt yuvj420p -c:v mjpeg", 33, 25},
      {"h264-full-range-flag.mp4", pattern(32, 24, 6) + " -pix_fmt yuv420p -color_range pc -c:v libx264", 32, 24},
      {"h264-bt709-34x26.mp4",
       pattern(34, 26, 6) + " -pix_fmt yuv420p -c:v libx264 -colorspace bt709 -color_primaries bt709 -color_trc bt709", 34,
       26},
      {"ffv1-bt709-33x25.mkv", pattern(33, 25, 6) + " -pix_fmt yuv420p -c:v ffv1 -colorspace bt709", 33, 25},
      {"h264-444-33x25.mkv", pattern(33, 25, 6) + " -pix_fmt yuv444p -c:v libx264", 33, 25},
      {"mpeg4-34x26.mp4", pattern(34, 26, 6) + " -pix_fmt yuv420p -c:v mpeg4", 34, 26},
  };
  for (const ClipCase& c : cases) {
    CAPTURE(c.name);
    expect_equal_to_ffmpeg(make_clip(c.name, c.make), c.width, c.height, 6);
  }
}

TEST_CASE("video reader: other pixel formats equal ffmpeg's PNGs too (10-bit, 4:2:2, NV12, RGB, palette, gray)") {
  const std::vector<ClipCase> cases = {
      {"ffv1-10bit.mkv", pattern(33, 25, 4) + " -pix_fmt yuv420p10le -c:v ffv1", 33, 25},
      {"mjpeg-422.avi", pattern(33, 25, 4) + " -pix_fmt yuvj422p -c:v mjpeg", 33, 25},
      {"raw-nv12.nut", pattern(34, 26, 4) + " -pix_fmt nv12 -c:v rawvideo", 34, 26},
      {"ffv1-bgr0.mkv", pattern(33, 25, 4) + " -pix_fmt bgr0 -c:v ffv1", 33, 25},
      {"png-rgb24.mkv", pattern(33, 25, 4) + " -pix_fmt rgb24 -c:v png", 33, 25},
      {"png-pal8.mkv", pattern(33, 25, 4) + " -pix_fmt pal8 -c:v png", 33, 25},
      {"ffv1-gray.mkv", pattern(33, 25, 4) + " -pix_fmt gray -c:v ffv1", 33, 25},
  };
  for (const ClipCase& c : cases) {
    CAPTURE(c.name);
    expect_equal_to_ffmpeg(make_clip(c.name, c.make), c.width, c.height, 4);
  }
}

TEST_CASE("video reader: a display matrix turns the frames as ffmpeg's autorotate does (90, 180, 270, mirrored)") {
  const std::string base = make_clip("rotate-base.mp4", pattern(34, 26, 4) + " -pix_fmt yuv420p -c:v libx264");
  struct Rotation {
    int a, b, c, d;
    int expected_rotation;
    bool swaps;
  };
  const std::vector<Rotation> rotations = {
      {0, 1, -1, 0, 90, true},  {-1, 0, 0, -1, 180, false}, {0, -1, 1, 0, 270, true},
      {0, 1, 1, 0, 90, true},   {-1, 0, 0, 1, 180, false},  {1, 0, 0, -1, 0, false}, {0, -1, -1, 0, 270, true},
  };
  int index = 0;
  for (const Rotation& r : rotations) {
    const std::string clip = clip_dir() + "/rotated-" + std::to_string(index++) + ".mp4";
    set_mp4_matrix(base, clip, r.a, r.b, r.c, r.d);
    CAPTURE(clip);
    const VideoReader reader(clip);
    CHECK(reader.info().rotation == r.expected_rotation);
    CHECK(reader.info().width == (r.swaps ? 26 : 34));
    CHECK(reader.info().height == (r.swaps ? 34 : 26));
    expect_equal_to_ffmpeg(clip, r.swaps ? 26 : 34, r.swaps ? 34 : 26, 4);
  }
}

TEST_CASE("video reader: header information (size, frame rate as a rational, frame count, codec)") {
  const std::string clip = make_clip("info.mp4", "-f lavfi -i testsrc2=size=32x24:rate=30000/1001 -frames:v 7 "
                                                 "-pix_fmt yuv420p -c:v libx264");
  const VideoReader reader(clip);
  CHECK(reader.info().width == 32);
  CHECK(reader.info().height == 24);
  CHECK(reader.info().frame_rate.num == 30000);
  CHECK(reader.info().frame_rate.den == 1001);
  CHECK(reader.info().frame_count == 7);
  CHECK(reader.info().codec == "h264");
  CHECK(reader.info().pixel_format == "yuv420p");
  CHECK_FALSE(reader.info().has_audio);
  CHECK(reader.info().duration_seconds == doctest::Approx(7 * 1001 / 30000.0).epsilon(0.01));
  // Matroska does not count frames in its header.
  const VideoReader mkv(make_clip("info.mkv", pattern(32, 24, 3) + " -c:v ffv1"));
  CHECK(mkv.info().frame_count == -1);
}

TEST_CASE("video reader: start, count and every select frames by ffmpeg's 1-based numbers, decoding no further") {
  const std::string clip = make_clip("select.mkv", pattern(32, 24, 12) + " -pix_fmt yuv420p -c:v ffv1");
  const std::vector<Image> pngs = ffmpeg_png_frames(clip);
  REQUIRE(pngs.size() == 12);
  FrameSelection selection;
  selection.start = 3, selection.every = 2, selection.count = 3;
  VideoReader reader(clip, {}, selection);
  std::vector<int64_t> numbers;
  VideoFrame frame;
  while (reader.next(frame)) {
    numbers.push_back(frame.number);
    CHECK(image_difference(frame.image, pngs[static_cast<size_t>(frame.number - 1)]).bytes == 0);
    CHECK(frame.time_seconds == doctest::Approx((frame.number - 1) * 0.1));
  }
  CHECK(numbers == std::vector<int64_t>{3, 5, 7});
  CHECK(reader.frames_decoded() == 7);  // the selection was complete at frame 7: nothing after it decoded

  selection = {};
  selection.start = 10;
  const std::vector<VideoFrame> tail = read_frames(clip, selection);
  REQUIRE(tail.size() == 3);
  CHECK(tail.front().number == 10);
  CHECK(tail.back().number == 12);

  selection = {};
  selection.start = 13;
  expect_error([&] { read_frames(clip, selection); }, ErrorKind::Input, clip, "selection starts at frame 13");
  selection = {};
  selection.every = 0;
  expect_error([&] { VideoReader bad(clip, {}, selection); }, ErrorKind::Input, clip, "invalid frame selection");
}

TEST_CASE("video reader: --max-pixels and --max-frames are refused before any frame is decoded") {
  const std::string mp4 = make_clip("limits.mp4", pattern(32, 24, 10) + " -pix_fmt yuv420p -c:v libx264");
  VideoLimits limits;
  limits.max_pixels = 32 * 24 - 1;
  expect_error([&] { VideoReader reader(mp4, limits); }, ErrorKind::Limit, mp4, "raise it with --max-pixels");
  limits = {};
  limits.max_frames = 4;  // the MP4 header lists 10 frames
  expect_error([&] { VideoReader reader(mp4, limits); }, ErrorKind::Limit, mp4, "raise it with --max-frames");
  FrameSelection four;
  four.count = 4;
  CHECK(read_frames(mp4, four, limits).size() == 4);  // selecting 4 is within the limit
  FrameSelection every_third;
  every_third.every = 3;  // frames 1, 4, 7, 10
  CHECK(read_frames(mp4, every_third, limits).size() == 4);

  // Matroska has no frame count: the fifth selected frame is refused before it is converted.
  const std::string mkv = make_clip("limits.mkv", pattern(32, 24, 10) + " -c:v ffv1");
  VideoReader reader(mkv, limits);
  VideoFrame frame;
  for (int i = 0; i < 4; ++i) REQUIRE(reader.next(frame));
  expect_error([&] { reader.next(frame); }, ErrorKind::Limit, mkv, "--max-frames");
}

TEST_CASE("video reader: truncated, corrupt and frameless files are Input errors naming the file") {
  const std::string whole = make_clip("whole.mp4", pattern(32, 24, 8) + " -pix_fmt yuv420p -c:v libx264");
  const std::string bytes = read_bytes(whole);

  // MP4 as ffmpeg writes it by default: the index (moov) last, so half a file has none.
  const std::string half = clip_dir() + "/half.mp4";
  write_bytes(half, bytes.substr(0, bytes.size() / 2));
  expect_error([&] { VideoReader reader(half); }, ErrorKind::Input, half, "moov atom not found");

  // With the index first (+faststart), the frames run out where the file was cut.
  const std::string faststart = make_clip("faststart.mp4", "-i '" + whole + "' -c copy -movflags +faststart");
  const std::string cut = clip_dir() + "/faststart-cut.mp4";
  const std::string fast_bytes = read_bytes(faststart);
  write_bytes(cut, fast_bytes.substr(0, fast_bytes.size() * 2 / 3));
  expect_error([&] { read_frames(cut); }, ErrorKind::Input, cut, "truncated");

  // Matroska cut short: its demuxer only warns, the reader still says so (after the frames it had).
  const std::string mkv = make_clip("whole.mkv", pattern(33, 25, 8) + " -pix_fmt yuv420p -c:v ffv1");
  const std::string mkv_bytes = read_bytes(mkv);
  const std::string mkv_cut = clip_dir() + "/cut.mkv";
  write_bytes(mkv_cut, mkv_bytes.substr(0, mkv_bytes.size() * 2 / 3));
  expect_error([&] { read_frames(mkv_cut); }, ErrorKind::Input, mkv_cut, "truncated");

  const std::string random = clip_dir() + "/random.mp4";
  std::string noise(3000, '\0');
  uint32_t state = 12345;
  for (char& c : noise) c = static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
  write_bytes(random, noise);
  expect_error([&] { VideoReader reader(random); }, ErrorKind::Input, random, "not a readable video");

  const std::string empty = clip_dir() + "/empty.mp4";
  write_bytes(empty, "");
  expect_error([&] { VideoReader reader(empty); }, ErrorKind::Input, empty, "empty");

  // An AVI with a video stream and no frame (ffmpeg keeps the stream header with -frames:v 0).
  const std::string frameless = make_clip("frameless.avi", "-f lavfi -i testsrc=s=32x24 -f lavfi -i sine=d=0.5 "
                                                           "-map 0:v -map 1:a -c:v mjpeg -c:a pcm_s16le -frames:v 0");
  expect_error([&] { read_frames(frameless); }, ErrorKind::Input, frameless, "has no frames");
}

TEST_CASE("video reader: no video stream, a size change mid-stream, folders and FIFOs") {
  const std::string m4a = make_clip("audio-only.m4a", "-f lavfi -i sine=f=440:d=0.3 -c:a aac");
  expect_error([&] { VideoReader reader(m4a); }, ErrorKind::Input, m4a, "no video stream (an audio-only file)");
  const std::string wav = make_clip("audio-only.wav", "-f lavfi -i sine=f=440:d=0.3");
  expect_error([&] { VideoReader reader(wav); }, ErrorKind::Input, wav, "no video stream");

  // Two MJPEG clips of different sizes joined without re-encoding: frame 4 is larger.
  const std::string small = make_clip("small.avi", "-f lavfi -i testsrc=s=32x24:r=10 -frames:v 3 -c:v mjpeg");
  const std::string large = make_clip("large.avi", "-f lavfi -i testsrc=s=48x32:r=10 -frames:v 3 -c:v mjpeg");
  const std::string list = clip_dir() + "/list.txt";
  write_text(list, "file '" + small + "'\nfile '" + large + "'\n");
  const std::string joined = make_clip("joined.avi", "-f concat -safe 0 -i '" + list + "' -c copy");
  expect_error([&] { read_frames(joined); }, ErrorKind::Input, joined, "frame 4 is 48×32, but the video began at 32×24");

  const std::string folder = clip_dir() + "/a-folder.mp4";
  std::filesystem::create_directories(folder);
  expect_error([&] { VideoReader reader(folder); }, ErrorKind::Input, folder, "is a directory");
  // A FIFO is refused by name, without waiting for a writer.
  const std::string fifo = clip_dir() + "/fifo.mp4";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  expect_error([&] { VideoReader reader(fifo); }, ErrorKind::Input, fifo, "not a regular file");
  const std::string missing = clip_dir() + "/missing.mp4";
  expect_error([&] { VideoReader reader(missing); }, ErrorKind::Input, missing, "no such file");
}

TEST_CASE("video reader: a file in memory reads like the same file on disk") {
  const std::string clip = make_clip("memory.mp4", pattern(33, 25, 5) + " -pix_fmt yuv444p -c:v libx264");
  const std::string bytes = read_bytes(clip);
  VideoReader memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "memory.mp4");
  const std::vector<VideoFrame> on_disk = read_frames(clip);
  VideoFrame frame;
  size_t n = 0;
  while (memory.next(frame)) {
    REQUIRE(n < on_disk.size());
    CHECK(image_difference(frame.image, on_disk[n].image).bytes == 0);
    ++n;
  }
  CHECK(n == on_disk.size());
}

TEST_CASE("video reader: a variable-frame-rate stream gives each decoded frame once, as ffmpeg -fps_mode passthrough") {
  // ffmpeg's CLI writes an image sequence at a constant rate (its image2 muxer is not
  // variable-rate), duplicating frames to fill gaps; the reader does not invent frames. This
  // pins both facts: passthrough equals the reader, the default CLI output has more frames.
  const std::string clip = make_clip("vfr.mkv", "-f lavfi -i testsrc2=size=32x24:rate=10 -frames:v 9 "
                                                "-vf setpts='PTS+if(gt(N\\,5)\\,3\\,0)/TB/10' -fps_mode vfr -c:v ffv1");
  const std::vector<VideoFrame> ours = read_frames(clip);
  const std::vector<Image> passthrough = ffmpeg_png_frames(clip, "-fps_mode passthrough");
  REQUIRE(ours.size() == 9);
  REQUIRE(passthrough.size() == ours.size());
  for (size_t i = 0; i < ours.size(); ++i) CHECK(image_difference(ours[i].image, passthrough[i]).bytes == 0);
  CHECK(ours[6].time_seconds == doctest::Approx(0.9));
  CHECK(ffmpeg_png_frames(clip).size() > ours.size());
}
