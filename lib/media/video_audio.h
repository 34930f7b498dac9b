// The audio track of a video file (docs/video.md): the first audio stream, decoded by FFmpeg's
// libraries, converted to float by libswresample (as ffmpeg's CLI converts it when it writes a
// float WAV: same rate, same channels, only the sample format changes), and mixed to mono by
// media/audio.h's mix_to_mono, the WAV path's own mix. The result is at the stream's own rate;
// a tool resamples it with media/audio.h's resample_audio, as it does a WAV file's samples, so
// the track of a video and the same track extracted to a float WAV give the same samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "media/audio.h"

namespace perceiver {

// Reads the first audio stream of `path` (a regular file; FIFOs, devices and folders refused).
//   Error(Input) "<path>: no audio stream" (a video without sound), "<path>: …" for a file no
//   demuxer reads, a codec without a decoder, damaged or truncated audio data, a sample rate
//   that changes mid-stream, or a stream of zero samples;
//   Error(Limit) when it has more than limits.max_frames frames: before decoding when the
//   stream's duration says so, else as soon as the count passes the limit.
Audio load_video_audio(const std::string& path, const AudioLimits& limits = {});

// The same for a file in memory (`size` bytes at `bytes`, not copied); `name` starts messages.
Audio decode_video_audio(const uint8_t* bytes, size_t size, const std::string& name, const AudioLimits& limits = {});

}  // namespace perceiver
