// Video files read with FFmpeg's libraries (docs/video.md): the first video stream, decoded in
// order, each frame converted to 8-bit RGB exactly as `ffmpeg -i VIDEO -pix_fmt rgb24 %06d.png`
// converts it with Debian 12's FFmpeg 5.1 (same libswscale setup, colour matrix and range, and
// autorotation), so a frame equals the PNG ffmpeg extracts for it, byte for byte.
//
// Frames are numbered from 1, as ffmpeg's %06d numbers the files it writes: frame N is
// NNNNNN.png. A FrameSelection picks frames by those numbers while the stream is decoded once,
// sequentially (nothing is written anywhere; frames before `start` are decoded, not converted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "media/image.h"

namespace perceiver {

struct Rational {
  int64_t num = 0, den = 1;
  double value() const { return den ? static_cast<double>(num) / static_cast<double>(den) : 0.0; }
};

struct VideoLimits {
  int64_t max_pixels = 100'000'000;  // width × height, checked when the file is opened
  int64_t max_frames = 1'000'000;    // frames selected, checked when opened if the header counts them
  std::string pixels_flag = "--max-pixels", frames_flag = "--max-frames";  // named in Error(Limit)
};

struct FrameSelection {
  int64_t start = 1;  // number of the first frame wanted (1 = the first frame of the stream)
  int64_t count = 0;  // at most this many frames (0: no limit but the stream's end)
  int64_t every = 1;  // every K-th frame from `start` on: start, start + K, start + 2K, …
};

struct VideoInfo {
  int64_t width = 0, height = 0;  // of the RGB frames, upright (after autorotation)
  Rational frame_rate;            // av_guess_frame_rate, the rate ffmpeg's CLI uses for the stream
  int64_t frame_count = -1;       // frames the container's header lists; -1 when it does not say
  double duration_seconds = -1;   // of the video stream (or the file), -1 when unknown
  int rotation = 0;               // degrees clockwise the frames are turned (display matrix)
  std::string codec, pixel_format;
  bool has_audio = false;         // the file has an audio stream (media/video_audio.h reads it)
};

struct VideoFrame {
  int64_t number = 0;  // 1-based position in the stream (ffmpeg's %06d)
  double time_seconds = 0;  // presentation time from the stream's start (0 for the first frame)
  Image image;
};

// Opens `path` (a regular file: a FIFO, device or folder is refused by name) and the first
// video stream that is not an attached picture (cover art), and reads its header:
//   Error(Input) "<path>: …" for a file no demuxer reads, no video stream, a codec without a
//   decoder, or a selection that is invalid (start < 1, count < 0, every < 1);
//   Error(Limit) when width × height > limits.max_pixels, or when the header's frame count
//   shows that more than limits.max_frames frames would be selected — both before any frame is
//   decoded (libavcodec is also told max_pixels, so a frame larger than the header said is
//   refused before it is allocated).
// next() then returns the selected frames in order:
//   Error(Input) "<path>: …" for a stream that cannot be decoded (a damaged or truncated file:
//   the demuxer's or decoder's error), a frame whose size differs from the first one's
//   ("size changes mid-stream"), a stream of zero frames, or a selection that starts past the
//   last frame; Error(Limit) before converting a selected frame past limits.max_frames.
// FFmpeg prints nothing: its messages are kept, and the last one is part of an Error's text.
// True when `path` ends in an extension of a common video container (.mp4 .m4v .mkv .webm .mov
// .avi .mpg .mpeg .ts .ogv .flv, any case): how the tools tell a video among several inputs.
bool has_video_extension(const std::string& path);

class VideoReader {
 public:
  explicit VideoReader(const std::string& path, const VideoLimits& limits = {}, const FrameSelection& selection = {});
  // The same for a file already in memory (`size` bytes at `bytes`, not copied: they must
  // outlive the reader); `name` starts every message. Used by the fuzz target.
  VideoReader(const uint8_t* bytes, size_t size, const std::string& name, const VideoLimits& limits = {},
              const FrameSelection& selection = {});
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;

  // The next selected frame into `frame`; false after the last one.
  bool next(VideoFrame& frame);

  // Frames decoded so far (selected or not).
  int64_t frames_decoded() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace perceiver
