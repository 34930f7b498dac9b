#include "media/video_rgb.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <cmath>
#include <cstring>
#include <utility>

#include "common/error.h"
#include "media/video_ffmpeg.h"

namespace perceiver {

namespace {

// How a frame is turned: out[y][x] = in[R][C] with, without transpose, R = flip_rows ? H−1−y : y
// and C = flip_columns ? W−1−x : x; with transpose (out is H wide, W high), R = flip_rows ? H−1−x
// : x and C = flip_columns ? W−1−y : y. These are ffmpeg's transpose filter (dir & 1 flips the
// rows, dir & 2 the columns), and its hflip/vflip filters, on each plane.
struct Orientation {
  bool transpose = false, flip_rows = false, flip_columns = false;
  bool identity() const { return !transpose && !flip_rows && !flip_columns; }
};

// fftools 5.1 (configure_input_video_filter, autorotate): the filters for a display matrix.
// `rotation` is get_rotation's angle, already checked to be near 0, 90, 180 or 270.
Orientation cli_orientation(const int32_t* matrix, int rotation) {
  Orientation o;
  if (!matrix) return o;
  if (rotation == 90) {  // transpose=clock (dir 1), or cclock_flip (dir 0) for a mirrored matrix
    o.transpose = true;
    o.flip_rows = !(matrix[3] > 0);
  } else if (rotation == 180) {  // hflip when matrix[0] < 0, vflip when matrix[4] < 0
    o.flip_columns = matrix[0] < 0;
    o.flip_rows = matrix[4] < 0;
  } else if (rotation == 270) {  // transpose=cclock (dir 2), or clock_flip (dir 3) when mirrored
    o.transpose = true;
    o.flip_columns = true;
    o.flip_rows = matrix[3] < 0;
  } else {  // about 0°: vflip when matrix[4] < 0
    o.flip_rows = matrix[4] < 0;
  }
  return o;
}

// Whether ffmpeg's transpose (or hflip/vflip) filters take `format` as it is, which the plane by
// plane remapping below reproduces: not paletted, hardware or bitstream, not packed with
// subsampled chroma, and for transpose the same subsampling both ways.
bool remappable(int format, bool transpose) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(format));
  if (!desc) return false;
  if (desc->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)) return false;
  if (desc->log2_chroma_w != desc->log2_chroma_h && (transpose || desc->comp[0].plane == desc->comp[1].plane))
    return false;
  return true;
}

ffmpeg::FramePtr remap(const AVFrame& in, const Orientation& o) {
  const auto format = static_cast<AVPixelFormat>(in.format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  ffmpeg::FramePtr out = ffmpeg::new_frame();
  out->format = in.format;
  out->width = o.transpose ? in.height : in.width;
  out->height = o.transpose ? in.width : in.height;
  if (av_frame_get_buffer(out.get(), 0) < 0) fail(ErrorKind::Limit, "out of memory (rotated frame)");
  av_frame_copy_props(out.get(), &in);
  int steps[4] = {};
  av_image_fill_max_pixsteps(steps, nullptr, desc);
  const int planes = av_pix_fmt_count_planes(format);
  for (int p = 0; p < planes; ++p) {
    const bool chroma = p == 1 || p == 2;
    const int in_w = chroma ? AV_CEIL_RSHIFT(in.width, desc->log2_chroma_w) : in.width;
    const int in_h = chroma ? AV_CEIL_RSHIFT(in.height, desc->log2_chroma_h) : in.height;
    const int out_w = o.transpose ? in_h : in_w, out_h = o.transpose ? in_w : in_h;
    const int step = steps[p];
    for (int y = 0; y < out_h; ++y) {
      uint8_t* row = out->data[p] + static_cast<ptrdiff_t>(y) * out->linesize[p];
      for (int x = 0; x < out_w; ++x) {
        const int r = o.transpose ? (o.flip_rows ? in_h - 1 - x : x) : (o.flip_rows ? in_h - 1 - y : y);
        const int c = o.transpose ? (o.flip_columns ? in_w - 1 - y : y) : (o.flip_columns ? in_w - 1 - x : x);
        std::memcpy(row + static_cast<ptrdiff_t>(x) * step,
                    in.data[p] + static_cast<ptrdiff_t>(r) * in.linesize[p] + static_cast<ptrdiff_t>(c) * step,
                    static_cast<size_t>(step));
      }
    }
  }
  return out;
}

// vf_scale's parse_yuv_type for in_color_matrix "auto": the frame's own colorspace, with
// anything outside 1..10 and YCgCo (8) taken as BT.470BG (BT.601).
const int* cli_yuv_coefficients(AVColorSpace colorspace) {
  int cs = colorspace;
  if (cs < 1 || cs > 10 || cs == 8) cs = AVCOL_SPC_BT470BG;
  return sws_getCoefficients(cs);
}

}  // namespace

int cli_rotation(const int32_t* display_matrix) {
  // fftools' get_rotation: theta = −round(av_display_rotation_get), then wrapped into [0, 360).
  double theta = 0;
  if (display_matrix) theta = -std::round(av_display_rotation_get(display_matrix));
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  if (std::isnan(theta)) return 0;  // a degenerate matrix: the CLI's comparisons below all fail
  for (int angle : {90, 180, 270})
    if (std::fabs(theta - angle) < 1.0) return angle;
  if (std::fabs(theta) > 1.0) return -1;
  return 0;
}

CliRgbConverter::CliRgbConverter(const int32_t* display_matrix, std::string name) : name_(std::move(name)) {
  set_matrix(display_matrix);
}

CliRgbConverter::~CliRgbConverter() { sws_freeContext(sws_); }

void CliRgbConverter::set_matrix(const int32_t* display_matrix) {
  rotation_ = cli_rotation(display_matrix);
  if (rotation_ < 0)
    fail(ErrorKind::Input, name_ + ": the video is rotated by an angle that is not a multiple of 90° (not supported)");
  const Orientation o = cli_orientation(display_matrix, rotation_);
  transpose_ = o.transpose, flip_rows_ = o.flip_rows, flip_columns_ = o.flip_columns;
}

void CliRgbConverter::configure(int width, int height, int format) {
  sws_freeContext(sws_);
  sws_ = nullptr;
  width_ = width, height_ = height, format_ = format;
  if (format == AV_PIX_FMT_RGB24) return;  // no scale filter: the frame is copied as it is
  if (!sws_isSupportedInput(static_cast<AVPixelFormat>(format)))
    fail(ErrorKind::Input, name_ + ": frames in pixel format " +
                               ffmpeg::pixel_format_name(format) +
                               " cannot be converted to RGB");
  sws_ = ffmpeg::checked(sws_alloc_context(), "scaler");
  // vf_scale's config_props for the CLI's auto-inserted scaler (see the header): these options,
  // in this order, and nothing else.
  av_opt_set_int(sws_, "srcw", width, 0);
  av_opt_set_int(sws_, "srch", height, 0);
  av_opt_set_int(sws_, "src_format", format, 0);
  av_opt_set_int(sws_, "dstw", width, 0);
  av_opt_set_int(sws_, "dsth", height, 0);
  av_opt_set_int(sws_, "dst_format", AV_PIX_FMT_RGB24, 0);
  av_opt_set_int(sws_, "sws_flags", 0, 0);  // flags '' → libswscale's default scaler, SWS_BICUBIC
  av_opt_set_int(sws_, "param0", SWS_PARAM_DEFAULT, 0);
  av_opt_set_int(sws_, "param1", SWS_PARAM_DEFAULT, 0);
  // The CLI runs the scaler with the filter graph's slice threads; libswscale's slices are
  // bit-exact (1, 3 and 7 threads gave the same bytes), so one thread gives the CLI's bytes.
  av_opt_set_int(sws_, "threads", 1, 0);
  // "Override YUV420P default settings to have the correct (MPEG-2) chroma positions": vf_scale
  // sets the input's vertical chroma position to 128 for yuv420p (only; yuvj420p keeps −513).
  av_opt_set_int(sws_, "src_h_chr_pos", -513, 0);
  av_opt_set_int(sws_, "src_v_chr_pos", format == AV_PIX_FMT_YUV420P ? 128 : -513, 0);
  av_opt_set_int(sws_, "dst_h_chr_pos", -513, 0);
  av_opt_set_int(sws_, "dst_v_chr_pos", -513, 0);
  ffmpeg::clear_log();
  const int ret = sws_init_context(sws_, nullptr, nullptr);
  if (ret < 0)
    fail(ErrorKind::Input, name_ + ": cannot convert frames of pixel format " +
                               ffmpeg::pixel_format_name(format) +
                               " to RGB (" + ffmpeg::error_text(ret) + ")");
}

Image CliRgbConverter::convert(const AVFrame& decoded) {
  if (first_) {
    // The CLI takes the display matrix of the first frame when the decoder exports one (an
    // H.264 display-orientation SEI), else the stream's.
    first_ = false;
    if (const AVFrameSideData* side = av_frame_get_side_data(&decoded, AV_FRAME_DATA_DISPLAYMATRIX))
      if (side->size >= 9 * sizeof(int32_t)) set_matrix(reinterpret_cast<const int32_t*>(side->data));
  }
  const Orientation o{transpose_, flip_rows_, flip_columns_};
  const AVFrame* frame = &decoded;
  ffmpeg::FramePtr turned;
  if (!o.identity()) {
    if (!remappable(decoded.format, o.transpose))
      fail(ErrorKind::Input, name_ + ": a rotated or mirrored video in pixel format " +
                                 ffmpeg::pixel_format_name(decoded.format) +
                                 " is not supported (ffmpeg converts it before turning it)");
    turned = remap(decoded, o);
    frame = turned.get();
  }
  if (frame->width != width_ || frame->height != height_ || frame->format != format_)
    configure(frame->width, frame->height, frame->format);

  Image image;
  image.width = frame->width;
  image.height = frame->height;
  image.rgb.resize(static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3);
  const size_t row_bytes = static_cast<size_t>(image.width) * 3;
  if (!sws_) {  // rgb24 already
    for (int64_t y = 0; y < image.height; ++y)
      std::memcpy(image.rgb.data() + y * row_bytes, frame->data[0] + y * frame->linesize[0], row_bytes);
    return image;
  }

  // vf_scale's scale_frame: every frame, the matrix of its colorspace ("auto"), the output table
  // the same, and its range when it states one (else what sws_init_context set up).
  int* inv_table = nullptr;
  int* table = nullptr;
  int in_full = 0, out_full = 0, brightness = 0, contrast = 0, saturation = 0;
  sws_getColorspaceDetails(sws_, &inv_table, &in_full, &table, &out_full, &brightness, &contrast, &saturation);
  const int* coefficients = cli_yuv_coefficients(frame->colorspace);
  if (frame->color_range != AVCOL_RANGE_UNSPECIFIED) in_full = frame->color_range == AVCOL_RANGE_JPEG;
  sws_setColorspaceDetails(sws_, coefficients, in_full, coefficients, out_full, brightness, contrast, saturation);

  ffmpeg::FramePtr out = ffmpeg::new_frame();
  out->format = AV_PIX_FMT_RGB24;
  out->width = frame->width;
  out->height = frame->height;
  if (av_frame_get_buffer(out.get(), 0) < 0) fail(ErrorKind::Limit, "out of memory (RGB frame)");
  ffmpeg::clear_log();
  const int ret = sws_scale_frame(sws_, out.get(), frame);
  if (ret < 0) fail(ErrorKind::Input, name_ + ": cannot convert a frame to RGB (" + ffmpeg::error_text(ret) + ")");
  for (int64_t y = 0; y < image.height; ++y)
    std::memcpy(image.rgb.data() + y * row_bytes, out->data[0] + y * out->linesize[0], row_bytes);
  return image;
}

}  // namespace perceiver
