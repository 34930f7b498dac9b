// GIF: the first frame, as Pillow 9.4 gives it for Image.open(f).convert("RGB")
// (GifImagePlugin.py, GifDecode.c), byte for byte:
//  * size: the logical screen, grown to hold the first frame where it reaches past it;
//  * pixels the frame does not cover: its transparency index (from a graphic control extension
//    before it) when it has one, else index 0 (not the background colour);
//  * colours: the frame's local colour table, else the global one; a transparent index keeps its
//    palette colour (convert("RGB") ignores transparency); an index past the table, or any index
//    when there is no table, is grey (i, i, i), Pillow's default palette;
//  * data: LZW with a minimum code size of 0..12 (codes under the clear code are pixel values,
//    kept to their low 8 bits), rows in the four interlace passes when the frame is interlaced,
//    stopped at the frame's last pixel (what follows is not read).
// Refused, as Pillow refuses them: no image before the trailer, an empty first frame, a malformed
// graphic control extension, an invalid LZW code, and data (or a sub-block) ending before the
// frame's last pixel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver {

// Error(Input) "<name>: not a readable image (<reason>)"; Error(Limit) when the size exceeds
// limits.max_pixels (checked before any pixel memory is taken).
Image decode_gif(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits);

// The size decode_gif gives, from the records up to the first frame's descriptor (no LZW
// decoding); the same errors for records it cannot read.
void gif_size(const uint8_t* bytes, size_t size, const std::string& name, int64_t& width, int64_t& height);

}  // namespace perceiver
