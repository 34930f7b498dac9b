// What lib/media's image decoders (image.cpp, jpeg_decoder.cpp, png_decoder.cpp, gif_decoder.cpp)
// share: the message of a refused file and the pixel limit, which each checks from the header
// before any pixel memory is taken. Internal to lib/media.
#pragma once

#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver {

// Error(Input) "<name>: not a readable image (<reason>)".
[[noreturn]] void refuse_image(const std::string& name, const std::string& reason);

// Error(Limit) naming the size and --max-pixels when width × height exceeds limits.max_pixels
// (computed without overflow for any 32-bit header fields).
void check_pixel_limit(int64_t width, int64_t height, const std::string& name, const ImageLimits& limits);

}  // namespace perceiver
