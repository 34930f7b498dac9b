#include "media/jpeg_decoder.h"

// jpeglib.h needs size_t and FILE declared before it.
#include <cstddef>
#include <cstdio>
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "media/image_codec.h"

namespace perceiver {

namespace {

// libjpeg reports errors through error_exit, which must not return (its default calls exit()).
// Ours longjmps back to the function that called into libjpeg, which then throws: a C++ exception
// must not unwind through libjpeg's C frames. Everything that changes after setjmp lives in this
// heap object (not in automatic variables, whose values would be indeterminate after longjmp).
struct JpegState {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr error{};  // the first member libjpeg sees; `this` is found from it by offset
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
  bool created = false;
  std::vector<uint8_t> pixels;  // output_components bytes per pixel, row after row

  ~JpegState() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegState& state_of(j_common_ptr cinfo) {
  return *reinterpret_cast<JpegState*>(reinterpret_cast<char*>(cinfo->err) - offsetof(JpegState, error));
}

// Only trivially destructible locals on the way to a longjmp (it runs no destructors).
[[noreturn]] void stop(j_common_ptr cinfo, const char* message) {
  JpegState& state = state_of(cinfo);
  std::snprintf(state.message, sizeof state.message, "%s", message);
  std::longjmp(state.jump, 1);
}

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  stop(cinfo, message);
}

// Warnings (level −1) and trace messages: never printed, as in Pillow (whose output_message does
// nothing). Decoding goes on after a corrupt-data warning, as in Pillow, except at the end of the
// data: libjpeg's memory source would pad a truncated file with a fake EOI and go on, where
// Pillow finds the file truncated and refuses it.
void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);
  ++cinfo->err->num_warnings;
}

void on_output_message(j_common_ptr) {}

void on_progress(j_common_ptr cinfo) {
  if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number > kMaxJpegScans) {
    char message[64];
    std::snprintf(message, sizeof message, "more than %d scans", kMaxJpegScans);
    stop(cinfo, message);
  }
}

std::unique_ptr<JpegState> start() {
  auto state = std::make_unique<JpegState>();
  state->cinfo.err = jpeg_std_error(&state->error);
  state->error.error_exit = on_error_exit;
  state->error.emit_message = on_emit_message;
  state->error.output_message = on_output_message;
  return state;
}

// Reads up to the first scan's header, as Pillow does (JPEG_HEADER_TABLES_ONLY: an abbreviated
// table-only datastream before the image is read past). `check` sees the frame size as soon as it
// is known. Called after setjmp.
template <class Check>
void read_header(JpegState& state, const uint8_t* bytes, size_t size, const Check& check) {
  jpeg_create_decompress(&state.cinfo);
  state.created = true;
  state.progress.progress_monitor = on_progress;
  state.cinfo.progress = &state.progress;
  jpeg_mem_src(&state.cinfo, bytes, static_cast<unsigned long>(size));
  int header;
  do {
    header = jpeg_read_header(&state.cinfo, FALSE);
    if (state.cinfo.image_width > 0 && state.cinfo.image_height > 0) check();
  } while (header == JPEG_HEADER_TABLES_ONLY);
}

}  // namespace

void jpeg_cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb) {
  // Pillow unpacks the decoded bytes inverted ("CMYK;I"), then cmyk2rgb computes, per channel,
  // nk − nk·v/255 with nk = 255 − k and v the inverted ink, the product rounded as
  // MULDIV255(a, b) = ((a·b + 128) >> 8 + a·b + 128) >> 8, clipped to 0..255.
  const int nk = 255 - (255 - cmyk[3]);
  for (int c = 0; c < 3; ++c) {
    const int product = (255 - cmyk[c]) * nk + 128;
    const int value = nk - (((product >> 8) + product) >> 8);
    rgb[c] = static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
  }
}

void jpeg_size(const uint8_t* bytes, size_t size, const std::string& name, int64_t& width, int64_t& height) {
  const std::unique_ptr<JpegState> state = start();
  if (setjmp(state->jump)) refuse_image(name, state->message);
  read_header(*state, bytes, size, [] {});
  width = state->cinfo.image_width;
  height = state->cinfo.image_height;
}

Image decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits) {
  const std::unique_ptr<JpegState> state = start();
  jpeg_decompress_struct& cinfo = state->cinfo;
  if (setjmp(state->jump)) {
    // A frame header read before the fault (a header with no scan after it) still counts.
    if (cinfo.image_width > 0 && cinfo.image_height > 0)
      check_pixel_limit(cinfo.image_width, cinfo.image_height, name, limits);
    refuse_image(name, state->message);
  }
  read_header(*state, bytes, size, [&] { check_pixel_limit(cinfo.image_width, cinfo.image_height, name, limits); });

  // Pillow's mode comes from the component count of the frame header (JpegImagePlugin.SOF), and
  // JpegDecode.c asks libjpeg for that colour space; libjpeg converts from the one it guessed.
  switch (cinfo.num_components) {
    case 1:
      cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case 3:
      cinfo.out_color_space = JCS_RGB;
      break;
    case 4:
      cinfo.out_color_space = JCS_CMYK;
      break;
    default:
      refuse_image(name, "cannot handle " + std::to_string(cinfo.num_components) + "-component JPEGs");
  }
  // libjpeg's defaults, which Pillow keeps (it changes them only for draft()).
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  cinfo.do_block_smoothing = TRUE;
  jpeg_start_decompress(&cinfo);

  const size_t width = cinfo.output_width, height = cinfo.output_height;
  const size_t components = static_cast<size_t>(cinfo.output_components);
  const size_t stride = width * components;
  // Reserved, then filled row by row: pages are touched only as rows are decoded, so a small file
  // announcing a large image fails (truncated) before using much memory.
  state->pixels.reserve(stride * height);
  while (cinfo.output_scanline < cinfo.output_height) {
    state->pixels.resize(state->pixels.size() + stride);
    JSAMPROW row = state->pixels.data() + state->pixels.size() - stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  // No jpeg_finish_decompress: what follows the last scanline (EOI, trailing bytes) does not
  // matter, as Pillow ignores whether finishing succeeds.

  Image image;
  image.width = static_cast<int64_t>(width);
  image.height = static_cast<int64_t>(height);
  image.rgb.resize(width * height * 3);
  const uint8_t* in = state->pixels.data();
  uint8_t* out = image.rgb.data();
  const size_t count = width * height;
  switch (components) {
    case 1:  // L → RGB: replicated
      for (size_t i = 0; i < count; ++i, ++in, out += 3) out[0] = out[1] = out[2] = in[0];
      break;
    case 3:
      std::memcpy(out, in, count * 3);
      break;
    default:
      for (size_t i = 0; i < count; ++i, in += 4, out += 3) jpeg_cmyk_to_rgb(in, out);
      break;
  }
  return image;
}

}  // namespace perceiver
