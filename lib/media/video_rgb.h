// Internal to lib/media/video_reader.cpp: decoded frames to 8-bit RGB exactly as
// `ffmpeg -i VIDEO -pix_fmt rgb24 %06d.png` makes them with FFmpeg 5.1 (Debian 12), so the
// frames a tool reads from a video equal the PNGs ffmpeg extracts, byte for byte (the tests
// compare them; docs/video.md has the derivation). What the CLI does, and so what this does:
//  * autorotate: a display matrix of 90°, 180° or 270° turns the frame first, as the CLI's
//    auto-inserted transpose=clock / hflip+vflip / transpose=cclock filters do (plane by plane,
//    in the decoded pixel format, before any colour conversion);
//  * a frame already in rgb24 is copied (the CLI inserts no scale filter then);
//  * otherwise the scale filter the filter graph auto-inserts before format=rgb24 (its options
//    are the CLI's defaults: flags '' — libswscale then uses SWS_BICUBIC, no accurate_rnd, no
//    full_chroma_int — param0/param1 default, in_range/out_range auto, the input vertical chroma
//    position 128 for yuv420p only (vf_scale's MPEG-2 override), interl 0) sets up libswscale with
//    exactly those options, then, per frame, sws_setColorspaceDetails with the matrix of the
//    frame's colorspace (vf_scale's in_color_matrix "auto": unspecified or unknown → BT.601) and
//    the range of the frame's color_range (unspecified → what libswscale derives from the pixel
//    format: full for yuvj*, limited for other YUV), and converts with sws_scale_frame.
#pragma once

#include <cstdint>
#include <string>

#include "media/image.h"

struct AVFrame;
struct SwsContext;

namespace perceiver {

class CliRgbConverter {
 public:
  // `display_matrix`: the stream's (nine int32 values), or null for none; the first frame's own
  // matrix, when the decoder exports one, replaces it as in the CLI. `name` starts every message.
  // Error(Input) for a rotation that is not a multiple of 90° (the CLI's free-angle rotate filter
  // is not reproduced).
  CliRgbConverter(const int32_t* display_matrix, std::string name);
  ~CliRgbConverter();
  CliRgbConverter(const CliRgbConverter&) = delete;
  CliRgbConverter& operator=(const CliRgbConverter&) = delete;

  // The frame in RGB, turned upright. Error(Input) "<name>: … pixel format X …" for a format
  // libswscale cannot read, or a turned frame in a format the CLI would convert before turning.
  Image convert(const AVFrame& frame);

  // 0, 90, 180 or 270: degrees clockwise the frames are turned (a mirror may come with it).
  int rotation() const { return rotation_; }
  // Whether the frames come out with width and height swapped.
  bool transposes() const { return transpose_; }

 private:
  void set_matrix(const int32_t* display_matrix);
  void configure(int width, int height, int format);
  std::string name_;
  int rotation_ = 0;
  bool transpose_ = false, flip_rows_ = false, flip_columns_ = false, first_ = true;
  SwsContext* sws_ = nullptr;
  int width_ = 0, height_ = 0, format_ = -1;
};

// The clockwise rotation (0, 90, 180, 270) ffmpeg 5.1's CLI applies for a display matrix (nine
// int32 values, or null for none), as fftools' get_rotation rounds it; -1 for any other angle
// (the CLI would use its free-angle rotate filter, which is not reproduced).
int cli_rotation(const int32_t* display_matrix);

}  // namespace perceiver
