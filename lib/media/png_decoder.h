// PNG decoding with libpng, to what Pillow 9.4's convert("RGB") gives for the mode its PNG plugin
// opens each kind in (PngImagePlugin.py _MODES; Unpack.c, Convert.c), byte for byte:
//   grey 1, 2, 4, 8 bits  L (scaled to 0/255, ×85, ×17), replicated to R, G, B
//   grey 16 bits          I (the 16-bit value), which convert("RGB") clips: min(v, 255)
//   grey + alpha 8 / 16   L (16 bits: the high byte), replicated; alpha dropped
//   RGB, RGBA 8 / 16      the samples (16 bits: the high byte); alpha dropped, not blended
//   palette 1..8 bits     the PLTE colours; tRNS ignored; indices past PLTE are grey (i, i, i),
//                         Pillow's default palette
// Transparency (tRNS), gamma and colour profiles do not change the pixels, as in Pillow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver {

// Error(Input) "<name>: not a readable image (<libpng's message>)" for a corrupt, truncated or
// unsupported file (a file too short to hold the pixels its header announces, by deflate's
// largest ratio, is refused before the pixels are allocated); Error(Limit) when the header
// announces more than limits.max_pixels pixels. libpng's warnings are not printed.
Image decode_png(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits);

}  // namespace perceiver
