// 8-bit RGB images: decoding into RGB the way transformers' load_image does with Pillow (EXIF
// orientation applied, then PIL convert("RGB")), and writing PNG files. JPEG is decoded by
// libjpeg-turbo (media/jpeg_decoder.h), PNG by libpng (media/png_decoder.h) and GIF's first frame
// by media/gif_decoder.h, each exactly as Pillow 9.4 decodes it; BMP, TGA, PNM, PSD, HDR and PIC
// by stb_image (grayscale replicated to R, G, B; alpha dropped, not blended; palettes expanded).
// docs/images.md: which decoder reads which format, and what equals Pillow byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace perceiver {

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes per pixel (R, G, B), width * height * 3 bytes
};

struct ImageLimits {
  int64_t max_pixels = 100'000'000;  // width * height, checked before the pixels are decoded
};

// Reads and decodes `path`. Throws Error(Input) "<path>: cannot open the file" when the file
// cannot be read, Error(Input) "<path>: not a readable image (<reason>)" when it does not decode,
// and Error(Limit) when its header announces more than limits.max_pixels pixels.
Image load_image(const std::string& path, const ImageLimits& limits = {});

// The bytes of an image file as load_image reads them (common/input_file.h: sized first, a FIFO
// or device read once; refused after its first bytes when they begin no image format
// decode_image reads, so /dev/zero is not read to the end).
std::string read_image_file(const std::string& path);

// The same for an image file already in memory; `name` (usually the path) starts every message.
Image decode_image(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits = {});

// The width and height decode_image would give (EXIF orientation applied) from the header alone,
// without decoding pixels; the same errors as decode_image for a header it cannot read, and
// Error(Limit) over limits.max_pixels.
struct ImageSize {
  int64_t width = 0, height = 0;
};
ImageSize decode_image_size(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits = {});

// The EXIF Orientation tag (1..8) of a JPEG (APP1 "Exif" segment) or PNG (eXIf chunk) file, or 1
// when there is none or it cannot be parsed. Exposed for the tests.
int image_exif_orientation(const uint8_t* bytes, size_t size);

// `image` turned upright for EXIF `orientation` (2..8); other values return it unchanged.
Image apply_exif_orientation(const Image& image, int orientation);

// A PNG tEXt chunk: Latin-1 keyword (1–79 bytes) and text, e.g. the scale a flow picture was
// drawn with, so that the number travels with the picture.
struct PngText {
  std::string keyword, text;
};

// Writes `image` as an 8-bit RGB PNG, atomically (whole or not at all), with `texts` as tEXt
// chunks after the header. Error(Output) on failure.
void write_png(const std::string& path, const Image& image, const std::vector<PngText>& texts = {});

}  // namespace perceiver
