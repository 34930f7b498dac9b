// Internal to lib/media's video files (video_reader, video_audio, video_writer): FFmpeg's
// libraries behind owning handles, FFmpeg kept off stderr, its error codes as text, and demuxing
// from a regular file or from bytes in memory through our own AVIOContext, so that FFmpeg never
// opens a path, URL or protocol by itself (docs/video.md). Not a public header: it includes
// FFmpeg's headers, which only the library sees.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"

namespace perceiver::ffmpeg {

// Installs (once per process) an av_log callback that prints nothing and remembers the last
// error-level message of the calling thread, for error_text(). av_log_set_callback is
// process-wide; that is acceptable because this library is the only user of FFmpeg in the
// process and nothing in it wants FFmpeg's messages on stderr. Every entry point calls it.
void quiet_logging();

// "<av_strerror(code)>", followed by ": <last FFmpeg error message on this thread>" when FFmpeg
// logged one since clear_log() (its messages are often more specific than the code).
std::string error_text(int code);
// The last error-level message FFmpeg logged on this thread since clear_log(), or "".
std::string last_log();
void clear_log();

// The name of an AVPixelFormat / AVSampleFormat value ("yuv420p"), or "unknown".
std::string pixel_format_name(int format);
std::string sample_format_name(int format);

// Error(Limit) "out of memory" when `pointer` is null (FFmpeg's allocators return null).
template <typename T>
T* checked(T* pointer, const char* what) {
  if (!pointer) fail(ErrorKind::Limit, std::string("out of memory (") + what + ")");
  return pointer;
}

struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* codec) const { avcodec_free_context(&codec); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;

inline FramePtr new_frame() { return FramePtr(checked(av_frame_alloc(), "frame")); }
inline PacketPtr new_packet() { return PacketPtr(checked(av_packet_alloc(), "packet")); }

// A demuxer over one input: a regular file (common/input_file.h's rules: a FIFO, device or
// folder is refused by name before anything is opened) or `size` bytes at `bytes` (not copied;
// they must outlive the MediaInput). Reads never go past the end: a seek beyond it fails, so a
// demuxer that looks for data a truncated file lacks reports an error instead of finding
// nothing. Nested opens (playlists, concat lists, image sequences) are refused. Error(Input)
// "<name>: not a readable video or audio file (<reason>)" when no demuxer accepts the bytes.
class MediaInput {
 public:
  static std::unique_ptr<MediaInput> open_file(const std::string& path);
  static std::unique_ptr<MediaInput> open_memory(const uint8_t* bytes, size_t size, const std::string& name);
  ~MediaInput();
  MediaInput(const MediaInput&) = delete;
  MediaInput& operator=(const MediaInput&) = delete;

  AVFormatContext* format() const { return format_; }
  const std::string& name() const { return name_; }

  // avformat_find_stream_info with `max_pixels` passed to every probing decoder (so a frame
  // over the limit is refused by libavcodec before it is allocated). Error(Input) on failure.
  void find_stream_info(int64_t max_pixels);

  // Whether the demuxer said the file ends before the data it announces: FFmpeg 5.1's Matroska
  // demuxer says so only in a warning ("File ended prematurely"), then ends as at a normal end,
  // so the readers ask at the end of the packets (the log callback notes the warning's context).
  bool reported_truncation() const;

  // The source behind the AVIOContext (public for the C callbacks in the .cpp file).
  struct Source {
    int fd = -1;                      // a regular file, or
    const uint8_t* bytes = nullptr;   // bytes in memory
    int64_t size = 0, position = 0;
  };

 private:
  MediaInput() = default;
  void open(const std::string& url);
  Source source_;
  std::string name_;
  AVIOContext* io_ = nullptr;
  AVFormatContext* format_ = nullptr;
};

// A decoder for `stream`, opened with `max_pixels` (libavcodec's own limit) and one thread
// (decoding is sequential and deterministic; the model, not the decoder, is the slow part).
// Error(Input) "<name>: no decoder for the <kind> codec <codec>" / "cannot open the decoder".
CodecPtr open_decoder(const AVStream* stream, int64_t max_pixels, const std::string& name, const char* kind);

}  // namespace perceiver::ffmpeg
