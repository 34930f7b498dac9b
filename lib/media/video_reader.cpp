#include "media/video_reader.h"

#include <cctype>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <algorithm>

#include "common/error.h"
#include "media/video_ffmpeg.h"
#include "media/video_rgb.h"

namespace perceiver {

namespace {

std::string size_text(int64_t width, int64_t height) { return std::to_string(width) + "×" + std::to_string(height); }

// The first video stream that is a video and not a cover picture (AV_DISPOSITION_ATTACHED_PIC:
// the one still image an audio file may carry), or -1.
int first_video_stream(const AVFormatContext* format) {
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVStream* stream = format->streams[i];
    if (stream->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(stream->disposition & AV_DISPOSITION_ATTACHED_PIC))
      return static_cast<int>(i);
  }
  return -1;
}

bool has_stream_of(const AVFormatContext* format, AVMediaType type) {
  for (unsigned i = 0; i < format->nb_streams; ++i)
    if (format->streams[i]->codecpar->codec_type == type) return true;
  return false;
}

void check_pixels(int64_t width, int64_t height, const VideoLimits& limits, const std::string& name) {
  if (width > 0 && height > 0 && width * height > limits.max_pixels)
    fail(ErrorKind::Limit, name + ": frames of " + size_text(width, height) + " pixels are more than the limit of " +
                               std::to_string(limits.max_pixels) + " (raise it with " + limits.pixels_flag + ")");
}

}  // namespace

struct VideoReader::State {
  std::unique_ptr<ffmpeg::MediaInput> input;
  VideoLimits limits;
  FrameSelection selection;
  VideoInfo info;
  int stream = -1;
  ffmpeg::CodecPtr decoder;
  std::unique_ptr<CliRgbConverter> converter;
  ffmpeg::PacketPtr packet = ffmpeg::new_packet();
  ffmpeg::FramePtr frame = ffmpeg::new_frame();
  int64_t decoded = 0, returned = 0;
  int first_width = 0, first_height = 0;
  int64_t first_timestamp = AV_NOPTS_VALUE;
  bool flushing = false, done = false;

  const std::string& name() const { return input->name(); }
  void open();
  bool wanted(int64_t number) const {
    return number >= selection.start && (number - selection.start) % selection.every == 0;
  }
  // Feeds the decoder one packet of the stream (or the end of the stream); false once flushing.
  void feed();
  [[noreturn]] void finished_without_frames();
};

void VideoReader::State::open() {
  const std::string& path = name();
  AVFormatContext* format = input->format();
  if (selection.start < 1 || selection.count < 0 || selection.every < 1)
    fail(ErrorKind::Input, path + ": invalid frame selection (start " + std::to_string(selection.start) + ", count " +
                               std::to_string(selection.count) + ", every " + std::to_string(selection.every) +
                               "; start and every must be at least 1)");
  // The size the container's header gives (MP4's sample description, Matroska's track entry)
  // is checked before avformat_find_stream_info decodes anything.
  stream = first_video_stream(format);
  if (stream >= 0) check_pixels(format->streams[stream]->codecpar->width, format->streams[stream]->codecpar->height, limits, path);
  input->find_stream_info(limits.max_pixels);
  stream = first_video_stream(format);
  if (stream < 0)
    fail(ErrorKind::Input, path + (has_stream_of(format, AVMEDIA_TYPE_AUDIO) ? ": no video stream (an audio-only file)"
                                                                              : ": no video stream"));
  AVStream* video = format->streams[stream];
  const AVCodecParameters* parameters = video->codecpar;
  check_pixels(parameters->width, parameters->height, limits, path);
  if (parameters->width <= 0 || parameters->height <= 0)
    fail(ErrorKind::Input, path + ": the video stream has no decodable frame (its frame size is unknown)");
  for (unsigned i = 0; i < format->nb_streams; ++i)
    if (static_cast<int>(i) != stream) format->streams[i]->discard = AVDISCARD_ALL;

  size_t matrix_size = 0;
  const auto* matrix = reinterpret_cast<const int32_t*>(av_stream_get_side_data(video, AV_PKT_DATA_DISPLAYMATRIX, &matrix_size));
  if (matrix_size < 9 * sizeof(int32_t)) matrix = nullptr;
  converter = std::make_unique<CliRgbConverter>(matrix, path);

  info.width = converter->transposes() ? parameters->height : parameters->width;
  info.height = converter->transposes() ? parameters->width : parameters->height;
  const AVRational rate = av_guess_frame_rate(format, video, nullptr);
  info.frame_rate = {rate.num, rate.den};
  info.frame_count = video->nb_frames > 0 ? video->nb_frames : -1;
  if (video->duration != AV_NOPTS_VALUE && video->duration > 0)
    info.duration_seconds = static_cast<double>(video->duration) * av_q2d(video->time_base);
  else if (format->duration != AV_NOPTS_VALUE && format->duration > 0)
    info.duration_seconds = static_cast<double>(format->duration) / AV_TIME_BASE;
  info.rotation = converter->rotation();
  info.codec = avcodec_get_name(parameters->codec_id);
  info.pixel_format = ffmpeg::pixel_format_name(parameters->format);
  info.has_audio = has_stream_of(format, AVMEDIA_TYPE_AUDIO);

  if (info.frame_count > 0) {
    const int64_t last = info.frame_count;
    int64_t selected = last >= selection.start ? (last - selection.start) / selection.every + 1 : 0;
    if (selection.count > 0) selected = std::min(selected, selection.count);
    if (selected > limits.max_frames)
      fail(ErrorKind::Limit, path + ": " + std::to_string(selected) + " frames selected of the " +
                                 std::to_string(last) + " the header lists, more than the limit of " +
                                 std::to_string(limits.max_frames) + " (raise it with " + limits.frames_flag + ")");
  }
  decoder = ffmpeg::open_decoder(video, limits.max_pixels, path, "video");
}

void VideoReader::State::feed() {
  for (;;) {
    ffmpeg::clear_log();
    int ret = av_read_frame(input->format(), packet.get());
    if (ret == AVERROR_EOF && input->reported_truncation())
      fail(ErrorKind::Input, name() + ": the file ends before the data it announces after frame " +
                                 std::to_string(decoded) + " (truncated)");
    if (ret == AVERROR_EOF) {
      // End of the file: the decoder gives back the frames it still holds.
      flushing = true;
      ret = avcodec_send_packet(decoder.get(), nullptr);
      if (ret < 0 && ret != AVERROR_EOF)
        fail(ErrorKind::Input, name() + ": cannot decode the end of the video stream (" + ffmpeg::error_text(ret) + ")");
      return;
    }
    if (ret < 0)
      fail(ErrorKind::Input, name() + ": cannot read the file after frame " + std::to_string(decoded) +
                                 " (truncated or damaged: " + ffmpeg::error_text(ret) + ")");
    if (packet->stream_index != stream) {
      av_packet_unref(packet.get());
      continue;
    }
    // A packet cut short by the end of the file (av_get_packet marks it): a truncated file.
    if (packet->flags & AV_PKT_FLAG_CORRUPT) {
      av_packet_unref(packet.get());
      fail(ErrorKind::Input, name() + ": the video data after frame " + std::to_string(decoded) +
                                 " is truncated or damaged");
    }
    ret = avcodec_send_packet(decoder.get(), packet.get());
    av_packet_unref(packet.get());
    if (ret < 0 && ret != AVERROR(EAGAIN))
      fail(ErrorKind::Input, name() + ": cannot decode the video after frame " + std::to_string(decoded) + " (" +
                                 ffmpeg::error_text(ret) + ")");
    return;
  }
}

void VideoReader::State::finished_without_frames() {
  if (decoded == 0) fail(ErrorKind::Input, name() + ": the video stream has no frames");
  fail(ErrorKind::Input, name() + ": no frame selected: the video has " + std::to_string(decoded) +
                             " frames and the selection starts at frame " + std::to_string(selection.start));
}

bool has_video_extension(const std::string& path) {
  const size_t dot = path.find_last_of("./");
  if (dot == std::string::npos || path[dot] != '.') return false;
  std::string extension = path.substr(dot);
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* known : {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg", ".ts", ".ogv", ".flv"})
    if (extension == known) return true;
  return false;
}

VideoReader::VideoReader(const std::string& path, const VideoLimits& limits, const FrameSelection& selection)
    : state_(std::make_unique<State>()) {
  state_->limits = limits;
  state_->selection = selection;
  state_->input = ffmpeg::MediaInput::open_file(path);
  state_->open();
}

VideoReader::VideoReader(const uint8_t* bytes, size_t size, const std::string& name, const VideoLimits& limits,
                         const FrameSelection& selection)
    : state_(std::make_unique<State>()) {
  state_->limits = limits;
  state_->selection = selection;
  state_->input = ffmpeg::MediaInput::open_memory(bytes, size, name);
  state_->open();
}

VideoReader::~VideoReader() = default;

const VideoInfo& VideoReader::info() const { return state_->info; }

int64_t VideoReader::frames_decoded() const { return state_->decoded; }

bool VideoReader::next(VideoFrame& out) {
  State& s = *state_;
  if (s.done) return false;
  if (s.selection.count > 0 && s.returned >= s.selection.count) {
    s.done = true;  // the selection is complete: the rest of the file is not decoded
    return false;
  }
  for (;;) {
    ffmpeg::clear_log();
    const int ret = avcodec_receive_frame(s.decoder.get(), s.frame.get());
    if (ret == AVERROR(EAGAIN) && !s.flushing) {
      s.feed();
      continue;
    }
    if (ret == AVERROR_EOF || ret == AVERROR(EAGAIN)) {  // EAGAIN while flushing cannot happen; ends too
      s.done = true;
      if (s.returned == 0) s.finished_without_frames();
      return false;
    }
    if (ret < 0)
      fail(ErrorKind::Input, s.name() + ": cannot decode frame " + std::to_string(s.decoded + 1) + " (" +
                                 ffmpeg::error_text(ret) + ")");
    AVFrame& frame = *s.frame;
    const int64_t number = ++s.decoded;
    if (number == 1) {
      s.first_width = frame.width, s.first_height = frame.height;
      s.first_timestamp = frame.best_effort_timestamp;
    } else if (frame.width != s.first_width || frame.height != s.first_height) {
      fail(ErrorKind::Input, s.name() + ": frame " + std::to_string(number) + " is " +
                                 size_text(frame.width, frame.height) + ", but the video began at " +
                                 size_text(s.first_width, s.first_height) + " (the frame size changes mid-stream)");
    }
    if (!s.wanted(number)) {
      av_frame_unref(&frame);
      continue;
    }
    if (s.returned >= s.limits.max_frames)
      fail(ErrorKind::Limit, s.name() + ": more than " + std::to_string(s.limits.max_frames) +
                                 " frames selected (raise the limit with " + s.limits.frames_flag + ")");
    out.number = number;
    const AVRational time_base = s.input->format()->streams[s.stream]->time_base;
    out.time_seconds = frame.best_effort_timestamp != AV_NOPTS_VALUE && s.first_timestamp != AV_NOPTS_VALUE
                           ? (static_cast<double>(frame.best_effort_timestamp) - static_cast<double>(s.first_timestamp)) *
                                 av_q2d(time_base)
                           : 0.0;
    out.image = s.converter->convert(frame);
    av_frame_unref(&frame);
    ++s.returned;
    return true;
  }
}

}  // namespace perceiver
