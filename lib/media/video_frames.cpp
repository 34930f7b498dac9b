#include "media/video_frames.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <iterator>

#include "common/error.h"
#include "media/image_processor.h"

namespace perceiver {

namespace {

std::string size_text(const FrameSize& size) { return std::to_string(size.width) + "×" + std::to_string(size.height); }

// The upright size of an image file from its header alone.
FrameSize header_size(const std::string& path, const ImageLimits& limits) {
  const std::string file = read_image_file(path);
  const ImageSize size = decode_image_size(reinterpret_cast<const uint8_t*>(file.data()), file.size(), path, limits);
  return {size.width, size.height};
}

}  // namespace

FrameSize check_video_frames(const std::vector<std::string>& frames, const ImageLimits& limits) {
  if (frames.empty()) fail(ErrorKind::Input, "no video frames");
  const FrameSize first = header_size(frames[0], limits);
  for (size_t i = 1; i < frames.size(); ++i) {
    const FrameSize size = header_size(frames[i], limits);
    if (size.width != first.width || size.height != first.height)
      fail(ErrorKind::Input, frames[i] + ": frame is " + size_text(size) + ", but the first frame " + frames[0] + " is " +
                                 size_text(first) + " (all frames of a video must have one size)");
  }
  return first;
}

Image fit_frame(const Image& image, int64_t width, int64_t height) {
  if (image.width <= 0 || image.height <= 0) fail(ErrorKind::Input, "empty frame");
  // The largest centred rectangle with aspect width : height (exact integer arithmetic).
  int64_t crop_w = image.width, crop_h = image.height;
  if (image.width * height > image.height * width)
    crop_w = std::max<int64_t>(1, (image.height * width + height / 2) / height);
  else
    crop_h = std::max<int64_t>(1, (image.width * height + width / 2) / width);
  Image cropped = image;
  if (crop_w != image.width || crop_h != image.height) {
    const int64_t top = (image.height - crop_h) / 2, left = (image.width - crop_w) / 2;
    cropped.width = crop_w;
    cropped.height = crop_h;
    cropped.rgb.assign(static_cast<size_t>(crop_w * crop_h * 3), 0);
    for (int64_t y = 0; y < crop_h; ++y)
      std::copy_n(image.rgb.begin() + ((top + y) * image.width + left) * 3, crop_w * 3,
                  cropped.rgb.begin() + y * crop_w * 3);
  }
  if (cropped.width == width && cropped.height == height) return cropped;
  return resize_bicubic(cropped, width, height);
}

void frame_to_unit_floats(const Image& image, float* out) {
  const int64_t plane = image.width * image.height;
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t c = 0; c < 3; ++c) out[c * plane + p] = static_cast<float>(image.rgb[static_cast<size_t>(p * 3 + c)] / 255.0);
}

Image unit_floats_to_frame(const float* hwc, int64_t width, int64_t height) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  for (size_t i = 0; i < image.rgb.size(); ++i) {
    const float v = std::isnan(hwc[i]) ? 0.0f : std::clamp(hwc[i], 0.0f, 1.0f);
    image.rgb[i] = static_cast<uint8_t>(std::lround(v * 255.0f));
  }
  return image;
}

Image side_by_side(const Image& left, const Image& right, int64_t gap) {
  if (left.height != right.height) fail(ErrorKind::Internal, "side_by_side: images of different heights");
  Image out;
  out.width = left.width + gap + right.width;
  out.height = left.height;
  out.rgb.assign(static_cast<size_t>(out.width * out.height * 3), 255);
  for (int64_t y = 0; y < out.height; ++y) {
    std::copy_n(left.rgb.begin() + y * left.width * 3, left.width * 3, out.rgb.begin() + y * out.width * 3);
    std::copy_n(right.rgb.begin() + y * right.width * 3, right.width * 3,
                out.rgb.begin() + (y * out.width + left.width + gap) * 3);
  }
  return out;
}

}  // namespace perceiver
