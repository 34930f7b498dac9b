// Writing video files with FFmpeg's libraries (docs/video.md): 8-bit RGB frames, and optionally
// mono float audio, into an MP4 (or QuickTime .mov, from the extension) that ordinary players
// play:
//  * video: H.264 by libx264 (preset medium, CRF 18, High profile), or MPEG-4 part 2 (qscale 2)
//    when the installed libavcodec lacks libx264; yuv420p converted by libswscale (bicubic,
//    accurate rounding) with the BT.601 matrix in limited range, and tagged so (SMPTE 170M
//    matrix, primaries and transfer, TV range); at the frame rate given, as a rational;
//  * yuv420p needs an even width and height: a frame of odd width or height is padded by one
//    column or row repeating its last one (no pixel is lost; the file is then one larger, which
//    `padded_width()` / `padded_height()` report);
//  * audio: AAC (FFmpeg's native encoder, 128 kb/s mono) at the rate given when AAC allows it
//    (7350 … 96000 Hz, the MPEG-4 rates), else resampled by media/audio.h's resample_audio to
//    the lowest AAC rate above it (96 kHz for anything higher); samples are clamped to [−1, 1]
//    (NaN → 0). The encoder's priming is trimmed by the MP4 edit list FFmpeg writes, so a
//    decoder gives back the samples written, give or take one AAC frame (1024 samples) at the end
//    (the tests measure it);
//  * the moov atom goes first (+faststart), so a player can start before the whole file is read.
// Atomic: the file is muxed in memory and written by common/atomic_file.h's write_file_atomically
// only when finish() succeeds (whole or not at all: a temporary file beside the target, renamed;
// /dev/null or a FIFO written in place). Destroyed without finish(), nothing is written.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "media/image.h"
#include "media/video_reader.h"

namespace perceiver {

struct VideoWriterOptions {
  Rational frame_rate{25, 1};  // frames per second, num / den > 0
  int64_t audio_sample_rate = 0;  // 0: no audio stream
};

class VideoWriter {
 public:
  // Error(Usage) for an extension other than .mp4, .m4v or .mov (a device or FIFO such as
  // /dev/null is written as MP4), a frame size below 1 or above 16384,
  // or a frame rate that is not positive; Error(Output) naming `path` when it cannot be written
  // (common/atomic_file.h's check_output_path, done here before any encoding) or an encoder
  // cannot be opened.
  VideoWriter(const std::string& path, int64_t width, int64_t height, const VideoWriterOptions& options);
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // The next frame (width × height, as given to the constructor; Error(Usage) otherwise).
  void add_frame(const Image& frame);
  // More mono samples at options.audio_sample_rate, in any chunks (Error(Usage) without audio).
  void add_audio(const float* samples, size_t count);
  void add_audio(const std::vector<float>& samples) { add_audio(samples.data(), samples.size()); }

  // Flushes the encoders, finishes the file and writes it to `path`. Error(Output) on failure.
  void finish();

  int64_t padded_width() const;
  int64_t padded_height() const;
  std::string video_codec() const;  // "libx264" or "mpeg4"
  int64_t audio_codec_rate() const;  // the AAC stream's rate (0 without audio)
  int64_t frames_written() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace perceiver
