#include "media/png_decoder.h"

#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <memory>
#include <vector>

#include "media/image_codec.h"

namespace perceiver {

namespace {

// libpng reports errors through a callback that must not return; ours longjmps back to the
// setjmp in decode_png (libpng's own jmp_buf), which then throws: a C++ exception must not unwind
// through libpng's C frames. What changes after setjmp lives in this heap object.
struct PngState {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* bytes = nullptr;
  size_t size = 0, pos = 0;
  char message[256] = {};
  // The image as libpng delivers it (after the transforms below).
  png_uint_32 width = 0, height = 0;
  int color_type = 0;
  bool interlaced = false, reading_rows = false, rows_complete = false;
  size_t channels = 0, sample_bytes = 0;
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;

  ~PngState() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

// Whether every row of the last pass is in the buffer: libpng has gone on to the end of the
// image data (the zlib stream's end, its Adler-32, the IDAT CRC).
bool all_rows_read(png_structp png, const PngState& state) {
  if (!state.reading_rows) return false;
  return state.interlaced ? png_get_current_pass_number(png) >= 7 : png_get_current_row_number(png) >= state.height;
}

// Only trivially destructible locals on the way to the longjmp (it runs no destructors).
[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message ? message : "libpng error");
  // Pillow stops reading once it has every row, so what is wrong after them (a file cut in the
  // zlib stream's last bytes or in the CRC, a bad CRC) does not matter.
  state->rows_complete = all_rows_read(png, *state);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // not printed; libpng goes on, as Pillow would

void on_read(png_structp png, png_bytep out, size_t count) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (state->size - state->pos < count) png_error(png, "truncated PNG file");
  std::memcpy(out, state->bytes + state->pos, count);
  state->pos += count;
  // libpng reads image data in blocks of this size and inflates each only once it has all of it;
  // no block is let reach past the end of the file, so a file cut after its last row's data (in
  // the zlib stream's end, its Adler-32 or the CRC) still gives every row, as with Pillow.
  png_set_compression_buffer_size(png, std::max<size_t>(1, std::min<size_t>(8192, state->size - state->pos)));
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// Bits per pixel for an IHDR colour type and depth, 0 for an invalid colour type.
int bits_per_pixel(int color_type, int depth) {
  switch (color_type) {
    case 0:
    case 3:
      return depth;
    case 2:
      return 3 * depth;
    case 4:
      return 2 * depth;
    case 6:
      return 4 * depth;
    default:
      return 0;
  }
}

// Pillow's convert("RGB") of the mode it opens the PNG in (the table in png_decoder.h).
Image to_rgb(const PngState& state) {
  png_structp png = state.png;
  png_infop info = state.info;
  const int color_type = state.color_type;
  const size_t sample_bytes = state.sample_bytes;
  uint8_t palette[256][3];
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    for (int i = 0; i < 256; ++i) palette[i][0] = palette[i][1] = palette[i][2] = static_cast<uint8_t>(i);
    png_colorp entries = nullptr;
    int count = 0;
    if (png_get_PLTE(png, info, &entries, &count) & PNG_INFO_PLTE)
      for (int i = 0; i < count && i < 256; ++i) {
        palette[i][0] = entries[i].red;
        palette[i][1] = entries[i].green;
        palette[i][2] = entries[i].blue;
      }
  }

  Image image;
  image.width = state.width;
  image.height = state.height;
  const size_t count = static_cast<size_t>(state.width) * state.height;
  image.rgb.resize(count * 3);
  const uint8_t* in = state.pixels.data();
  uint8_t* out = image.rgb.data();
  const size_t stride = state.channels * sample_bytes;  // bytes per pixel
  for (size_t i = 0; i < count; ++i, in += stride, out += 3) {
    switch (color_type) {
      case PNG_COLOR_TYPE_PALETTE:
        std::memcpy(out, palette[in[0]], 3);
        break;
      case PNG_COLOR_TYPE_GRAY:  // 16 bits: Pillow's mode I, clipped to 255 by convert("RGB")
        out[0] = out[1] = out[2] = sample_bytes == 2 ? (in[0] ? 255 : in[1]) : in[0];
        break;
      case PNG_COLOR_TYPE_GRAY_ALPHA:  // the high byte at 16 bits
        out[0] = out[1] = out[2] = in[0];
        break;
      default:  // RGB, RGBA: the high byte of each sample at 16 bits
        for (size_t c = 0; c < 3; ++c) out[c] = in[c * sample_bytes];
        break;
    }
  }
  return image;
}

}  // namespace

Image decode_png(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits) {
  // The header first, so that an absurd size is refused before any memory is taken: the pixel
  // limit, and whether the file can hold the pixels at all. Deflate codes at most 258 bytes in
  // two bits (1032:1), so a file of n bytes holds at most about 1032·n bytes of pixel rows.
  if (size >= 33 && std::memcmp(bytes + 12, "IHDR", 4) == 0) {
    const int64_t width = be32(bytes + 16), height = be32(bytes + 20);
    check_pixel_limit(width, height, name, limits);
    const double row_bytes = static_cast<double>(width) * bits_per_pixel(bytes[25], bytes[24]) / 8;
    if (static_cast<double>(height) * row_bytes > 1032.0 * static_cast<double>(size) + 4096)
      refuse_image(name, "truncated PNG file: " + std::to_string(size) + " bytes cannot hold " + std::to_string(width) +
                             "x" + std::to_string(height) + " pixels");
  }

  const auto state = std::make_unique<PngState>();
  state->bytes = bytes;
  state->size = size;
  state->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, state.get(), on_error, on_warning);
  if (!state->png) refuse_image(name, "libpng could not start");
  state->info = png_create_info_struct(state->png);
  if (!state->info) refuse_image(name, "libpng could not start");
  if (setjmp(png_jmpbuf(state->png))) {
    if (!state->rows_complete) refuse_image(name, state->message);
    return to_rgb(*state);
  }
  png_structp png = state->png;
  png_infop info = state->info;
  png_set_read_fn(png, state.get(), on_read);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);  // the limit is ours (max_pixels)
  // Pillow refuses a chunk before the image data whose CRC is wrong, ancillary or not.
  png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  png_read_info(png, info);

  const png_uint_32 width = state->width = png_get_image_width(png, info);
  const png_uint_32 height = state->height = png_get_image_height(png, info);
  check_pixel_limit(width, height, name, limits);
  const int color_type = state->color_type = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  state->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
  // No expansion of palettes or tRNS: indices and samples as stored, one byte per sample below 8
  // bits (grey scaled up as Pillow's L;1/L;2/L;4 unpackers scale it), two bytes (big-endian) at 16.
  if (depth < 8) {
    png_set_packing(png);
    if (color_type == PNG_COLOR_TYPE_GRAY) png_set_expand_gray_1_2_4_to_8(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  const size_t channels = state->channels = png_get_channels(png, info);
  const size_t sample_bytes = state->sample_bytes = png_get_bit_depth(png, info) == 16 ? 2 : 1;
  if (row_bytes != width * channels * sample_bytes) refuse_image(name, "unexpected PNG row layout");
  state->pixels.resize(row_bytes * height);
  state->rows.resize(height);
  for (size_t y = 0; y < height; ++y) state->rows[y] = state->pixels.data() + y * row_bytes;
  // Pillow does not check the CRCs of the image data (IDAT) chunks.
  png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_ERROR_QUIT);
  state->reading_rows = true;
  png_read_image(png, state->rows.data());
  // No png_read_end: Pillow does not look at what follows the image data either.

  return to_rgb(*state);
}

}  // namespace perceiver
