#include "media/video_ffmpeg.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/input_file.h"

namespace perceiver::ffmpeg {

namespace {

// The last error-level message FFmpeg logged on each thread. thread_local, not shared: FFmpeg
// may log from its own worker threads, and two readers on two threads must not mix messages.
thread_local char t_last_log[512];
// The format context whose demuxer last warned that its file ends before the data it announces
// (see MediaInput::reported_truncation).
thread_local const void* t_truncated = nullptr;

void log_callback(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_WARNING) return;
  int print_prefix = 1;
  char line[sizeof t_last_log];
  av_log_format_line2(avcl, level, format, args, line, sizeof line, &print_prefix);
  // Matroska's demuxer reports a cut file only as this warning, then ends as at a normal end.
  if (std::strstr(line, "File ended prematurely")) t_truncated = avcl;
  if (level > AV_LOG_ERROR) return;
  // One line: FFmpeg's messages end with '\n'; the error messages of the tools are one line.
  for (char* c = line; *c; ++c)
    if (*c == '\n' || *c == '\r') *c = ' ';
  size_t n = std::strlen(line);
  while (n && line[n - 1] == ' ') line[--n] = '\0';
  if (n) std::memcpy(t_last_log, line, n + 1);
}

int read_source(void* opaque, uint8_t* out, int size) {
  auto* source = static_cast<MediaInput::Source*>(opaque);
  if (size <= 0) return 0;
  const int64_t left = source->size - source->position;
  if (left <= 0) return AVERROR_EOF;
  const int64_t want = std::min<int64_t>(size, left);
  if (source->bytes) {
    std::memcpy(out, source->bytes + source->position, static_cast<size_t>(want));
    source->position += want;
    return static_cast<int>(want);
  }
  for (;;) {  // a regular file: pread never waits on another process, only on the disk
    const ssize_t n = ::pread(source->fd, out, static_cast<size_t>(want), source->position);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return AVERROR(errno);
    if (n == 0) return AVERROR_EOF;  // the file shrank under us
    source->position += n;
    return static_cast<int>(n);
  }
}

int64_t seek_source(void* opaque, int64_t offset, int whence) {
  auto* source = static_cast<MediaInput::Source*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return source->size;
  int64_t base = 0;
  if (whence == SEEK_CUR) base = source->position;
  else if (whence == SEEK_END) base = source->size;
  else if (whence != SEEK_SET) return AVERROR(EINVAL);
  int64_t target = 0;
  // Past the end is refused (see MediaInput): a truncated file then fails where data is missing.
  if (__builtin_add_overflow(base, offset, &target) || target < 0 || target > source->size) return AVERROR(EINVAL);
  source->position = target;
  return target;
}

// No demuxer may open further files or URLs on its own (an HLS playlist, a concat list, an image
// sequence pattern): the input is the one file the user named, or the bytes given.
int refuse_nested_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

}  // namespace

void quiet_logging() {
  // Function-local static: installed once, thread-safely, on first use (see the header for why
  // a process-wide callback is acceptable).
  static const bool installed = [] {
    av_log_set_callback(log_callback);
    return true;
  }();
  (void)installed;
}

std::string last_log() { return t_last_log; }
void clear_log() { t_last_log[0] = '\0'; }
bool MediaInput::reported_truncation() const { return format_ && t_truncated == format_; }

std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  std::string result = text;
  const std::string logged = last_log();
  if (!logged.empty() && logged != result) result += ": " + logged;
  return result;
}

std::string pixel_format_name(int format) {
  const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(format));
  return name ? name : "unknown";
}

std::string sample_format_name(int format) {
  const char* name = av_get_sample_fmt_name(static_cast<AVSampleFormat>(format));
  return name ? name : "unknown";
}

std::unique_ptr<MediaInput> MediaInput::open_file(const std::string& path) {
  quiet_logging();
  require_regular_file(path, ErrorKind::Input, ErrorKind::Input);
  std::unique_ptr<MediaInput> input(new MediaInput());
  input->name_ = path;
  input->source_.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // never waits (a FIFO swapped in)
  if (input->source_.fd < 0) fail(ErrorKind::Input, path + ": cannot open the file (" + std::strerror(errno) + ")");
  struct stat info {};
  if (::fstat(input->source_.fd, &info) != 0 || !S_ISREG(info.st_mode))
    fail(ErrorKind::Input, path + ": not a regular file (a FIFO, device or socket is not read)");
  input->source_.size = static_cast<int64_t>(info.st_size);
  input->open(path);
  return input;
}

std::unique_ptr<MediaInput> MediaInput::open_memory(const uint8_t* bytes, size_t size, const std::string& name) {
  quiet_logging();
  if (size && !bytes) fail(ErrorKind::Internal, name + ": null buffer of " + std::to_string(size) + " bytes");
  if (size > static_cast<uint64_t>(INT64_MAX)) fail(ErrorKind::Input, name + ": too large");
  std::unique_ptr<MediaInput> input(new MediaInput());
  input->name_ = name;
  static const uint8_t kEmpty = 0;
  input->source_.bytes = bytes ? bytes : &kEmpty;
  input->source_.size = static_cast<int64_t>(size);
  input->open(name);
  return input;
}

void MediaInput::open(const std::string& url) {
  clear_log();
  if (source_.size == 0) fail(ErrorKind::Input, name_ + ": not a readable video or audio file (empty)");
  constexpr int kBuffer = 1 << 16;
  auto* buffer = static_cast<uint8_t*>(checked(av_malloc(kBuffer), "I/O buffer"));
  io_ = avio_alloc_context(buffer, kBuffer, 0, &source_, read_source, nullptr, seek_source);
  if (!io_) {
    av_free(buffer);
    fail(ErrorKind::Limit, "out of memory (I/O context)");
  }
  format_ = checked(avformat_alloc_context(), "format context");
  if (t_truncated == format_) t_truncated = nullptr;  // a freed context's note, at the same address
  format_->pb = io_;
  format_->flags |= AVFMT_FLAG_CUSTOM_IO;
  format_->io_open = refuse_nested_open;
  // The url only names the input: with our AVIOContext nothing opens it, but the probe uses its
  // extension as ffmpeg's CLI does (which it must, to pick the same demuxer for the same file).
  const int ret = avformat_open_input(&format_, url.c_str(), nullptr, nullptr);
  if (ret < 0) {
    format_ = nullptr;  // avformat_open_input frees the context on failure
    fail(ErrorKind::Input, name_ + ": not a readable video or audio file (" + error_text(ret) + ")");
  }
}

void MediaInput::find_stream_info(int64_t max_pixels) {
  clear_log();
  const unsigned count = format_->nb_streams;
  std::unique_ptr<AVDictionary*[]> options(new AVDictionary*[count]());
  for (unsigned i = 0; i < count; ++i) av_dict_set_int(&options[i], "max_pixels", max_pixels, 0);
  const int ret = avformat_find_stream_info(format_, options.get());
  for (unsigned i = 0; i < count; ++i) av_dict_free(&options[i]);
  if (ret < 0) fail(ErrorKind::Input, name_ + ": cannot read the streams (" + error_text(ret) + ")");
}

MediaInput::~MediaInput() {
  if (t_truncated && t_truncated == format_) t_truncated = nullptr;
  if (format_) avformat_close_input(&format_);
  if (io_) {
    av_freep(&io_->buffer);
    avio_context_free(&io_);
  }
  if (source_.fd >= 0) ::close(source_.fd);
}

namespace {

// The pixel format ffmpeg's CLI picks from a decoder's list (fftools' get_format): the first one
// that is not a hardware format. libavcodec's default picks the last; for the codecs that offer
// a choice of software formats the two differ, so the CLI's rule is followed.
AVPixelFormat first_software_format(AVCodecContext*, const AVPixelFormat* formats) {
  const AVPixelFormat* p = formats;
  for (; *p != AV_PIX_FMT_NONE; ++p) {
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(*p);
    if (desc && !(desc->flags & AV_PIX_FMT_FLAG_HWACCEL)) break;
  }
  return *p;
}

}  // namespace

CodecPtr open_decoder(const AVStream* stream, int64_t max_pixels, const std::string& name, const char* kind) {
  clear_log();
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec)
    fail(ErrorKind::Input, name + ": no decoder for the " + kind + " codec " +
                               avcodec_get_name(stream->codecpar->codec_id));
  CodecPtr context(checked(avcodec_alloc_context3(codec), "decoder"));
  int ret = avcodec_parameters_to_context(context.get(), stream->codecpar);
  if (ret < 0) fail(ErrorKind::Input, name + ": cannot open the " + kind + " decoder (" + error_text(ret) + ")");
  context->pkt_timebase = stream->time_base;
  context->thread_count = 1;
  context->get_format = first_software_format;
  AVDictionary* options = nullptr;
  av_dict_set_int(&options, "max_pixels", max_pixels, 0);
  ret = avcodec_open2(context.get(), codec, &options);
  av_dict_free(&options);
  if (ret < 0) fail(ErrorKind::Input, name + ": cannot open the " + kind + " decoder (" + error_text(ret) + ")");
  return context;
}

}  // namespace perceiver::ffmpeg
