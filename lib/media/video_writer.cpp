#include "media/video_writer.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <new>

#include "common/atomic_file.h"
#include "common/error.h"
#include "media/audio.h"
#include "media/video_ffmpeg.h"

namespace perceiver {

namespace {

// The muxed file, in memory: a seekable AVIOContext over a growing byte vector (MP4's muxer
// seeks back to patch sizes and, for +faststart, re-reads what it wrote through io_open).
struct MemoryFile {
  std::vector<uint8_t> bytes;
  int64_t position = 0;
};

// A read or write position of its own over a MemoryFile (the muxer's +faststart pass reads with
// one while it writes with another).
struct MemoryCursor {
  MemoryFile* file;
  int64_t position = 0;
};

int cursor_read(void* opaque, uint8_t* out, int size) {
  auto* cursor = static_cast<MemoryCursor*>(opaque);
  const int64_t left = static_cast<int64_t>(cursor->file->bytes.size()) - cursor->position;
  if (left <= 0) return AVERROR_EOF;
  const int n = static_cast<int>(std::min<int64_t>(size, left));
  std::memcpy(out, cursor->file->bytes.data() + cursor->position, static_cast<size_t>(n));
  cursor->position += n;
  return n;
}

int cursor_write(void* opaque, uint8_t* in, int size) {
  auto* cursor = static_cast<MemoryCursor*>(opaque);
  std::vector<uint8_t>& bytes = cursor->file->bytes;
  const size_t end = static_cast<size_t>(cursor->position) + static_cast<size_t>(size);
  try {
    if (end > bytes.size()) bytes.resize(end);
  } catch (const std::bad_alloc&) {
    return AVERROR(ENOMEM);
  }
  std::memcpy(bytes.data() + cursor->position, in, static_cast<size_t>(size));
  cursor->position += size;
  return size;
}

int64_t cursor_seek(void* opaque, int64_t offset, int whence) {
  auto* cursor = static_cast<MemoryCursor*>(opaque);
  const auto size = static_cast<int64_t>(cursor->file->bytes.size());
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return size;
  int64_t base = whence == SEEK_CUR ? cursor->position : whence == SEEK_END ? size : 0;
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return AVERROR(EINVAL);
  int64_t target = 0;
  if (__builtin_add_overflow(base, offset, &target) || target < 0) return AVERROR(EINVAL);
  cursor->position = target;
  return target;
}

AVIOContext* cursor_context(MemoryCursor* cursor, bool write) {
  constexpr int kBuffer = 1 << 16;
  auto* buffer = static_cast<uint8_t*>(av_malloc(kBuffer));
  if (!buffer) return nullptr;
  AVIOContext* io = avio_alloc_context(buffer, kBuffer, write ? 1 : 0, cursor, write ? nullptr : cursor_read,
                                       write ? cursor_write : nullptr, cursor_seek);
  if (!io) av_free(buffer);
  return io;
}

void free_cursor_context(AVIOContext* io) {
  if (!io) return;
  delete static_cast<MemoryCursor*>(io->opaque);
  av_freep(&io->buffer);
  avio_context_free(&io);
}

// The muxer's io_open: only its own file, for reading (movenc's +faststart second pass).
int reopen_for_reading(AVFormatContext* muxer, AVIOContext** pb, const char*, int flags, AVDictionary**) {
  if ((flags & AVIO_FLAG_WRITE) || !muxer->opaque) return AVERROR(EPERM);
  auto* cursor = new (std::nothrow) MemoryCursor{static_cast<MemoryFile*>(muxer->opaque)};
  if (!cursor) return AVERROR(ENOMEM);
  *pb = cursor_context(cursor, false);
  if (!*pb) {
    delete cursor;
    return AVERROR(ENOMEM);
  }
  return 0;
}

int close_reopened(AVFormatContext*, AVIOContext* pb) {
  free_cursor_context(pb);
  return 0;
}

std::string lower_extension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return extension;
}

// The AAC rate for `rate`: itself when AAC has it, else the lowest above, else the highest.
int aac_rate(const AVCodec* codec, int64_t rate) {
  int best = 0, highest = 0;
  for (const int* r = codec->supported_samplerates; r && *r; ++r) {
    if (*r == rate) return *r;
    highest = std::max(highest, *r);
    if (*r > rate && (best == 0 || *r < best)) best = *r;
  }
  if (!codec->supported_samplerates) return static_cast<int>(rate);
  return best ? best : highest;
}

}  // namespace

struct VideoWriter::State {
  std::string path;
  int64_t width = 0, height = 0, padded_width = 0, padded_height = 0;
  VideoWriterOptions options;
  MemoryFile file;
  AVFormatContext* muxer = nullptr;
  AVIOContext* io = nullptr;
  ffmpeg::CodecPtr video, audio;
  AVStream* video_stream = nullptr;
  AVStream* audio_stream = nullptr;
  SwsContext* sws = nullptr;
  ffmpeg::FramePtr yuv = ffmpeg::new_frame();
  ffmpeg::PacketPtr packet = ffmpeg::new_packet();
  std::vector<uint8_t> padded;  // an odd-sized frame with its last column / row repeated
  int64_t frames = 0;
  std::vector<float> pending;   // audio not encoded yet (all of it when it must be resampled)
  int64_t audio_pts = 0;
  bool resample = false, finished = false, header_written = false;

  ~State() {
    sws_freeContext(sws);
    if (muxer) {
      muxer->pb = nullptr;
      avformat_free_context(muxer);
    }
    free_cursor_context(io);
  }

  [[noreturn]] void output_error(const std::string& what, int code) {
    fail(ErrorKind::Output, path + ": " + what + " (" + ffmpeg::error_text(code) + ")");
  }

  // Every packet the encoder has ready, into the muxer (which interleaves the two streams).
  void drain(AVCodecContext* encoder, AVStream* stream) {
    for (;;) {
      int ret = avcodec_receive_packet(encoder, packet.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) output_error("cannot encode", ret);
      av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
      packet->stream_index = stream->index;
      ret = av_interleaved_write_frame(muxer, packet.get());
      if (ret < 0) output_error("cannot write a packet", ret);
    }
  }

  void encode(AVCodecContext* encoder, AVStream* stream, const AVFrame* frame) {
    ffmpeg::clear_log();
    const int ret = avcodec_send_frame(encoder, frame);
    if (ret < 0) output_error("cannot encode", ret);
    drain(encoder, stream);
  }

  // Encodes whole AAC frames from `pending` (and, at the end, the last partial one).
  void encode_audio(bool final) {
    const int size = audio->frame_size > 0 ? audio->frame_size : 1024;
    const bool small_last = audio->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME;
    size_t start = 0;
    while (pending.size() - start >= static_cast<size_t>(size) || (final && start < pending.size())) {
      const int n = static_cast<int>(std::min<size_t>(size, pending.size() - start));
      ffmpeg::FramePtr frame = ffmpeg::new_frame();
      frame->nb_samples = small_last ? n : size;
      frame->format = audio->sample_fmt;
      frame->sample_rate = audio->sample_rate;
      if (av_channel_layout_copy(&frame->ch_layout, &audio->ch_layout) < 0 || av_frame_get_buffer(frame.get(), 0) < 0)
        fail(ErrorKind::Limit, "out of memory (audio frame)");
      auto* out = reinterpret_cast<float*>(frame->data[0]);
      for (int i = 0; i < frame->nb_samples; ++i) {
        const float v = i < n ? pending[start + static_cast<size_t>(i)] : 0.0f;
        out[i] = std::isnan(v) ? 0.0f : std::clamp(v, -1.0f, 1.0f);
      }
      frame->pts = audio_pts;
      audio_pts += frame->nb_samples;
      encode(audio.get(), audio_stream, frame.get());
      start += static_cast<size_t>(n);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(start));
  }
};

VideoWriter::VideoWriter(const std::string& path, int64_t width, int64_t height, const VideoWriterOptions& options)
    : state_(std::make_unique<State>()) {
  ffmpeg::quiet_logging();
  State& s = *state_;
  s.path = path;
  s.width = width, s.height = height, s.options = options;
  const std::string extension = lower_extension(path);
  // MP4 (or QuickTime): their edit lists trim the AAC encoder's priming, so sound and picture
  // start together (FFmpeg 5.1's Matroska muxer would keep the 1024 priming samples). A device
  // or FIFO (-o /dev/null) gets MP4 whatever its name.
  const char* format_name = extension == ".mp4" || extension == ".m4v" ? "mp4" : extension == ".mov" ? "mov" : nullptr;
  if (!format_name && classify_output(path) == OutputTarget::Stream) format_name = "mp4";
  if (!format_name) fail(ErrorKind::Usage, path + ": unknown video extension (use .mp4, .m4v or .mov)");
  if (width < 1 || height < 1 || width > 16384 || height > 16384)
    fail(ErrorKind::Usage, path + ": cannot write frames of " + std::to_string(width) + "×" + std::to_string(height));
  if (options.frame_rate.num <= 0 || options.frame_rate.den <= 0 || options.frame_rate.num > INT32_MAX ||
      options.frame_rate.den > INT32_MAX)
    fail(ErrorKind::Usage, path + ": invalid frame rate " + std::to_string(options.frame_rate.num) + "/" +
                               std::to_string(options.frame_rate.den));
  if (options.audio_sample_rate < 0 || options.audio_sample_rate > 1'000'000)
    fail(ErrorKind::Usage, path + ": invalid audio sample rate " + std::to_string(options.audio_sample_rate));
  check_output_path(path);
  s.padded_width = width + (width & 1);
  s.padded_height = height + (height & 1);

  ffmpeg::clear_log();
  int ret = avformat_alloc_output_context2(&s.muxer, nullptr, format_name, path.c_str());
  if (ret < 0 || !s.muxer) s.output_error("cannot set up the " + std::string(format_name) + " muxer", ret);
  auto* cursor = new MemoryCursor{&s.file};
  s.io = cursor_context(cursor, true);
  if (!s.io) {
    delete cursor;
    fail(ErrorKind::Limit, "out of memory (video output)");
  }
  s.muxer->pb = s.io;
  s.muxer->flags |= AVFMT_FLAG_CUSTOM_IO;
  s.muxer->opaque = &s.file;
  s.muxer->io_open = reopen_for_reading;
  s.muxer->io_close2 = close_reopened;

  // Video: libx264 when libavcodec has it (Debian's does), else MPEG-4 part 2.
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (!codec) fail(ErrorKind::Output, path + ": no H.264 or MPEG-4 encoder in this libavcodec");
  s.video.reset(ffmpeg::checked(avcodec_alloc_context3(codec), "encoder"));
  AVCodecContext* video = s.video.get();
  const AVRational rate{static_cast<int>(options.frame_rate.num), static_cast<int>(options.frame_rate.den)};
  video->width = static_cast<int>(s.padded_width);
  video->height = static_cast<int>(s.padded_height);
  video->pix_fmt = AV_PIX_FMT_YUV420P;
  video->time_base = av_inv_q(rate);
  video->framerate = rate;
  video->sample_aspect_ratio = {1, 1};
  video->color_range = AVCOL_RANGE_MPEG;
  video->colorspace = AVCOL_SPC_SMPTE170M;
  video->color_primaries = AVCOL_PRI_SMPTE170M;
  video->color_trc = AVCOL_TRC_SMPTE170M;
  if (s.muxer->oformat->flags & AVFMT_GLOBALHEADER) video->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* encoder_options = nullptr;
  if (codec->id == AV_CODEC_ID_H264) {
    av_dict_set(&encoder_options, "preset", "medium", 0);
    av_dict_set(&encoder_options, "crf", "18", 0);
  } else {
    video->flags |= AV_CODEC_FLAG_QSCALE;
    video->global_quality = FF_QP2LAMBDA * 2;
  }
  ffmpeg::clear_log();
  ret = avcodec_open2(video, codec, &encoder_options);
  av_dict_free(&encoder_options);
  if (ret < 0) s.output_error(std::string("cannot open the ") + codec->name + " encoder", ret);
  s.video_stream = ffmpeg::checked(avformat_new_stream(s.muxer, nullptr), "stream");
  s.video_stream->time_base = video->time_base;
  s.video_stream->avg_frame_rate = rate;
  if ((ret = avcodec_parameters_from_context(s.video_stream->codecpar, video)) < 0)
    s.output_error("cannot set up the video stream", ret);

  s.sws = sws_getContext(video->width, video->height, AV_PIX_FMT_RGB24, video->width, video->height, AV_PIX_FMT_YUV420P,
                         SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
  if (!s.sws) fail(ErrorKind::Output, path + ": cannot set up the RGB to YUV conversion");
  s.yuv->format = AV_PIX_FMT_YUV420P;
  s.yuv->width = video->width;
  s.yuv->height = video->height;
  if (av_frame_get_buffer(s.yuv.get(), 0) < 0) fail(ErrorKind::Limit, "out of memory (video frame)");

  if (options.audio_sample_rate > 0) {
    const AVCodec* aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!aac) fail(ErrorKind::Output, path + ": no AAC encoder in this libavcodec");
    s.audio.reset(ffmpeg::checked(avcodec_alloc_context3(aac), "encoder"));
    AVCodecContext* audio = s.audio.get();
    audio->sample_fmt = AV_SAMPLE_FMT_FLTP;
    audio->sample_rate = aac_rate(aac, options.audio_sample_rate);
    s.resample = audio->sample_rate != options.audio_sample_rate;
    const AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    if (av_channel_layout_copy(&audio->ch_layout, &mono) < 0) fail(ErrorKind::Limit, "out of memory (audio)");
    audio->bit_rate = 128000;
    audio->time_base = {1, audio->sample_rate};
    if (s.muxer->oformat->flags & AVFMT_GLOBALHEADER) audio->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ffmpeg::clear_log();
    if ((ret = avcodec_open2(audio, aac, nullptr)) < 0) s.output_error("cannot open the AAC encoder", ret);
    s.audio_stream = ffmpeg::checked(avformat_new_stream(s.muxer, nullptr), "stream");
    s.audio_stream->time_base = audio->time_base;
    if ((ret = avcodec_parameters_from_context(s.audio_stream->codecpar, audio)) < 0)
      s.output_error("cannot set up the audio stream", ret);
  }

  AVDictionary* muxer_options = nullptr;
  av_dict_set(&muxer_options, "movflags", "+faststart", 0);
  ffmpeg::clear_log();
  ret = avformat_write_header(s.muxer, &muxer_options);
  av_dict_free(&muxer_options);
  if (ret < 0) s.output_error("cannot start the file", ret);
  s.header_written = true;
}

VideoWriter::~VideoWriter() = default;

void VideoWriter::add_frame(const Image& frame) {
  State& s = *state_;
  if (s.finished) fail(ErrorKind::Internal, s.path + ": add_frame after finish");
  if (frame.width != s.width || frame.height != s.height || frame.rgb.size() != static_cast<size_t>(s.width * s.height * 3))
    fail(ErrorKind::Usage, s.path + ": a frame of " + std::to_string(frame.width) + "×" + std::to_string(frame.height) +
                               " in a video of " + std::to_string(s.width) + "×" + std::to_string(s.height));
  const uint8_t* rgb = frame.rgb.data();
  if (s.padded_width != s.width || s.padded_height != s.height) {
    // One more column and/or row, repeating the last one (yuv420p needs even sizes).
    const size_t row = static_cast<size_t>(s.padded_width) * 3;
    s.padded.resize(row * static_cast<size_t>(s.padded_height));
    for (int64_t y = 0; y < s.padded_height; ++y) {
      const int64_t from = std::min(y, s.height - 1);
      uint8_t* out = s.padded.data() + static_cast<size_t>(y) * row;
      std::memcpy(out, rgb + from * s.width * 3, static_cast<size_t>(s.width) * 3);
      if (s.padded_width != s.width) std::memcpy(out + s.width * 3, out + (s.width - 1) * 3, 3);
    }
    rgb = s.padded.data();
  }
  if (av_frame_make_writable(s.yuv.get()) < 0) fail(ErrorKind::Limit, "out of memory (video frame)");
  const uint8_t* planes[1] = {rgb};
  const int strides[1] = {static_cast<int>(s.padded_width * 3)};
  sws_scale(s.sws, planes, strides, 0, static_cast<int>(s.padded_height), s.yuv->data, s.yuv->linesize);
  s.yuv->pts = s.frames++;
  if (s.video->flags & AV_CODEC_FLAG_QSCALE) s.yuv->quality = s.video->global_quality;
  s.encode(s.video.get(), s.video_stream, s.yuv.get());
}

void VideoWriter::add_audio(const float* samples, size_t count) {
  State& s = *state_;
  if (!s.audio) fail(ErrorKind::Usage, s.path + ": add_audio on a video without an audio stream");
  if (s.finished) fail(ErrorKind::Internal, s.path + ": add_audio after finish");
  s.pending.insert(s.pending.end(), samples, samples + count);
  if (!s.resample) s.encode_audio(false);  // resampling needs the whole track: at finish()
}

void VideoWriter::finish() {
  State& s = *state_;
  if (s.finished) return;
  s.encode(s.video.get(), s.video_stream, nullptr);
  if (s.audio) {
    if (s.resample) s.pending = resample_audio(s.pending, s.options.audio_sample_rate, s.audio->sample_rate);
    s.encode_audio(true);
    s.encode(s.audio.get(), s.audio_stream, nullptr);
  }
  ffmpeg::clear_log();
  int ret = av_write_trailer(s.muxer);
  if (ret < 0) s.output_error("cannot finish the file", ret);
  avio_flush(s.io);
  if (s.io->error < 0) s.output_error("cannot finish the file", s.io->error);
  s.finished = true;
  write_file_atomically(s.path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(s.file.bytes.data()), static_cast<std::streamsize>(s.file.bytes.size()));
  });
}

int64_t VideoWriter::padded_width() const { return state_->padded_width; }
int64_t VideoWriter::padded_height() const { return state_->padded_height; }
std::string VideoWriter::video_codec() const { return state_->video->codec->name; }
int64_t VideoWriter::audio_codec_rate() const { return state_->audio ? state_->audio->sample_rate : 0; }
int64_t VideoWriter::frames_written() const { return state_->frames; }

}  // namespace perceiver
