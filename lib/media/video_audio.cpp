#include "media/video_audio.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "common/error.h"
#include "media/image.h"
#include "media/video_ffmpeg.h"

namespace perceiver {

namespace {

struct SwrDeleter {
  void operator()(SwrContext* swr) const { swr_free(&swr); }
};

// Decoded frames of any sample format → interleaved float at the same rate and channel count,
// appended to `audio` as mono. libswresample does the format conversion (ffmpeg's CLI does the
// same when it writes pcm_f32le), so the floats equal those of a float WAV ffmpeg extracts.
class MonoSink {
 public:
  MonoSink(Audio& audio, const AudioLimits& limits, std::string name)
      : audio_(audio), limits_(limits), name_(std::move(name)) {}
  ~MonoSink() { av_channel_layout_uninit(&layout_); }

  void add(const AVFrame& frame) {
    if (frame.nb_samples <= 0) return;
    if (frame.sample_rate <= 0 || frame.ch_layout.nb_channels <= 0)
      fail(ErrorKind::Input, name_ + ": cannot decode the audio (a frame without a sample rate or channels)");
    if (audio_.sample_rate == 0) audio_.sample_rate = frame.sample_rate;
    if (frame.sample_rate != audio_.sample_rate)
      fail(ErrorKind::Input, name_ + ": the audio sample rate changes mid-stream (" + std::to_string(audio_.sample_rate) +
                                 " Hz, then " + std::to_string(frame.sample_rate) + " Hz)");
    if (static_cast<int64_t>(audio_.samples.size()) + frame.nb_samples > limits_.max_frames)
      fail(ErrorKind::Limit, name_ + ": more audio frames than the limit of " + std::to_string(limits_.max_frames) +
                                 " (raise it with " + limits_.flag + ")");
    if (!swr_ || frame.format != format_ || av_channel_layout_compare(&frame.ch_layout, &source_layout_) != 0)
      configure(frame);
    const int channels = layout_.nb_channels;
    buffer_.resize(static_cast<size_t>(frame.nb_samples) * static_cast<size_t>(channels));
    auto* out = reinterpret_cast<uint8_t*>(buffer_.data());
    const int got = swr_convert(swr_.get(), &out, frame.nb_samples, const_cast<const uint8_t**>(frame.extended_data),
                                frame.nb_samples);
    if (got < 0) fail(ErrorKind::Input, name_ + ": cannot convert the audio samples (" + ffmpeg::error_text(got) + ")");
    mix_to_mono(buffer_.data(), got, channels, audio_.samples, name_);
  }

 private:
  void configure(const AVFrame& frame) {
    av_channel_layout_uninit(&source_layout_);
    av_channel_layout_uninit(&layout_);
    if (av_channel_layout_copy(&source_layout_, &frame.ch_layout) < 0) fail(ErrorKind::Limit, "out of memory (audio)");
    // Same layout in and out, so no channel is remixed; a layout without a known order is given
    // the default order for its channel count (libswresample needs one to match them).
    if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || !av_channel_layout_check(&frame.ch_layout))
      av_channel_layout_default(&layout_, frame.ch_layout.nb_channels);
    else if (av_channel_layout_copy(&layout_, &frame.ch_layout) < 0)
      fail(ErrorKind::Limit, "out of memory (audio)");
    format_ = frame.format;
    SwrContext* raw = nullptr;
    ffmpeg::clear_log();
    int ret = swr_alloc_set_opts2(&raw, &layout_, AV_SAMPLE_FMT_FLT, frame.sample_rate, &layout_,
                                  static_cast<AVSampleFormat>(frame.format), frame.sample_rate, 0, nullptr);
    swr_.reset(raw);
    if (ret >= 0) ret = swr_init(swr_.get());
    if (ret < 0)
      fail(ErrorKind::Input, name_ + ": cannot convert audio samples of format " +
                                 ffmpeg::sample_format_name(frame.format) + " (" + ffmpeg::error_text(ret) + ")");
  }

  Audio& audio_;
  const AudioLimits& limits_;
  std::string name_;
  std::unique_ptr<SwrContext, SwrDeleter> swr_;
  AVChannelLayout source_layout_{}, layout_{};
  int format_ = -1;
  std::vector<float> buffer_;
};

Audio read_first_audio(ffmpeg::MediaInput& input, const AudioLimits& limits) {
  const std::string& name = input.name();
  AVFormatContext* format = input.format();
  input.find_stream_info(ImageLimits{}.max_pixels);
  int index = -1;
  for (unsigned i = 0; i < format->nb_streams; ++i)
    if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
      index = static_cast<int>(i);
      break;
    }
  if (index < 0) fail(ErrorKind::Input, name + ": no audio stream");
  for (unsigned i = 0; i < format->nb_streams; ++i)
    if (static_cast<int>(i) != index) format->streams[i]->discard = AVDISCARD_ALL;
  const AVStream* stream = format->streams[index];
  const int rate = stream->codecpar->sample_rate;
  if (rate <= 0 || stream->codecpar->ch_layout.nb_channels <= 0)
    fail(ErrorKind::Input, name + ": cannot read the audio stream (" + std::to_string(stream->codecpar->ch_layout.nb_channels) +
                               " channels at " + std::to_string(rate) + " Hz)");
  // The length the header gives, checked before anything is decoded.
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    const double frames = static_cast<double>(stream->duration) * av_q2d(stream->time_base) * rate;
    if (std::isfinite(frames) && frames > static_cast<double>(limits.max_frames) + rate)  // a second of slack for rounding
      fail(ErrorKind::Limit, name + ": about " + std::to_string(static_cast<int64_t>(frames)) +
                                 " audio frames is more than the limit of " + std::to_string(limits.max_frames) +
                                 " (raise it with " + limits.flag + ")");
  }
  ffmpeg::CodecPtr decoder = ffmpeg::open_decoder(stream, ImageLimits{}.max_pixels, name, "audio");

  Audio audio;
  MonoSink sink(audio, limits, name);
  ffmpeg::PacketPtr packet = ffmpeg::new_packet();
  ffmpeg::FramePtr frame = ffmpeg::new_frame();
  bool flushing = false;
  for (;;) {
    ffmpeg::clear_log();
    int ret = avcodec_receive_frame(decoder.get(), frame.get());
    if (ret == 0) {
      sink.add(*frame);
      av_frame_unref(frame.get());
      continue;
    }
    if (ret == AVERROR_EOF || (ret == AVERROR(EAGAIN) && flushing)) break;
    if (ret != AVERROR(EAGAIN)) fail(ErrorKind::Input, name + ": cannot decode the audio (" + ffmpeg::error_text(ret) + ")");
    ret = av_read_frame(format, packet.get());
    if (ret == AVERROR_EOF && input.reported_truncation())
      fail(ErrorKind::Input, name + ": the file ends before the audio data it announces (truncated)");
    if (ret == AVERROR_EOF) {
      flushing = true;
      ret = avcodec_send_packet(decoder.get(), nullptr);
      if (ret < 0 && ret != AVERROR_EOF)
        fail(ErrorKind::Input, name + ": cannot decode the end of the audio (" + ffmpeg::error_text(ret) + ")");
      continue;
    }
    if (ret < 0) fail(ErrorKind::Input, name + ": cannot read the audio (truncated or damaged: " + ffmpeg::error_text(ret) + ")");
    if (packet->stream_index != index) {
      av_packet_unref(packet.get());
      continue;
    }
    if (packet->flags & AV_PKT_FLAG_CORRUPT) {
      av_packet_unref(packet.get());
      fail(ErrorKind::Input, name + ": the audio data is truncated or damaged");
    }
    ret = avcodec_send_packet(decoder.get(), packet.get());
    av_packet_unref(packet.get());
    if (ret < 0 && ret != AVERROR(EAGAIN))
      fail(ErrorKind::Input, name + ": cannot decode the audio (" + ffmpeg::error_text(ret) + ")");
  }
  if (audio.samples.empty()) fail(ErrorKind::Input, name + ": the audio stream has no samples");
  return audio;
}

}  // namespace

Audio load_video_audio(const std::string& path, const AudioLimits& limits) {
  const std::unique_ptr<ffmpeg::MediaInput> input = ffmpeg::MediaInput::open_file(path);
  return read_first_audio(*input, limits);
}

Audio decode_video_audio(const uint8_t* bytes, size_t size, const std::string& name, const AudioLimits& limits) {
  const std::unique_ptr<ffmpeg::MediaInput> input = ffmpeg::MediaInput::open_memory(bytes, size, name);
  return read_first_audio(*input, limits);
}

}  // namespace perceiver
