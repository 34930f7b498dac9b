// Video input as still frames (the tool lists them: a directory sorted by file name, or @LIST).
// Every frame must have the size of the first one (after EXIF orientation); each is fitted to
// the model's frame size by a centre crop to the target aspect ratio (the largest centred
// rectangle of that shape) followed by Pillow's antialiased bicubic resize (skipped when the
// size already matches), then scaled to [0, 1] as u / 255 (docs/autoencode.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "media/image.h"

namespace perceiver {

struct FrameSize {
  int64_t width = 0, height = 0;
};

// Reads the headers of every frame (no pixel decoding) and checks they all have one size:
// Error(Input) "<frame>: frame is W×H, but the first frame <first> is W0×H0 …" when not, and
// Error(Input) for a file that is not a readable image. Returns the common size.
FrameSize check_video_frames(const std::vector<std::string>& frames, const ImageLimits& limits = {});

// Centre crop of `image` to the aspect ratio width : height, then bicubic resize to width × height.
Image fit_frame(const Image& image, int64_t width, int64_t height);

// Channels-first floats [3, H, W] in [0, 1] (u / 255) written to `out`.
void frame_to_unit_floats(const Image& image, float* out);

// Channels-last floats [H, W, 3] clamped to [0, 1] and rounded to 8 bits (round(v · 255)).
Image unit_floats_to_frame(const float* hwc, int64_t width, int64_t height);

// Two images of one height side by side (left | right) with a `gap`-pixel white separator.
Image side_by_side(const Image& left, const Image& right, int64_t gap = 2);

}  // namespace perceiver
