// JPEG decoding with libjpeg-turbo (the libjpeg API), set up exactly as Pillow 9.4's JPEG plugin
// and decoder (JpegImagePlugin.py, JpegDecode.c) set it up for Image.open(f).convert("RGB"), so
// the result equals Pillow's byte for byte: libjpeg's own defaults (integer ISLOW IDCT, fancy
// upsampling, block smoothing, the colour space guessed from JFIF/Adobe markers), the output
// colour space chosen by the number of components (1: grayscale, 3: RGB, 4: CMYK; others are
// refused as Pillow refuses them), CMYK taken as inverted (Adobe's convention, as Pillow always
// assumes) and turned into RGB with Pillow's integer formula. docs/images.md has the details.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver {

// Decodes a JPEG file (no EXIF orientation: decode_image applies it). Error(Input)
// "<name>: not a readable image (<libjpeg's message>)" for a corrupt, truncated (data ending
// before the last scanline, which Pillow refuses too) or unsupported file, and for one with more
// than kMaxJpegScans scans; Error(Limit) when its frame header announces more than
// limits.max_pixels pixels (before any pixel memory is taken). libjpeg's warnings about corrupt
// data are not printed (Pillow's are not either) and do not stop decoding.
Image decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits);

// The width and height in the frame header (as decoded, before EXIF orientation), read without
// decoding pixels; the same errors as decode_jpeg for a header it cannot read.
void jpeg_size(const uint8_t* bytes, size_t size, const std::string& name, int64_t& width, int64_t& height);

// A progressive JPEG is decoded scan by scan over the whole image; a file of many tiny scans would
// take very long for its size. libjpeg-turbo's own fuzzers and TurboJPEG's scan limit use 500.
constexpr int kMaxJpegScans = 500;

// Pillow's convert("RGB") of a CMYK pixel (Convert.c cmyk2rgb), given the values libjpeg decodes
// from an Adobe-convention (inverted) CMYK JPEG. Exposed for the tests.
void jpeg_cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb);

}  // namespace perceiver
