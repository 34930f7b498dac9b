// Audio files through libsndfile: reading WAV, FLAC, OGG/Vorbis (and whatever else the installed
// libsndfile decodes) into mono float samples, resampling, and writing WAV/FLAC/OGG atomically.
//
// Policies (docs/autoencode.md):
//  * samples are read as float in [−1, 1] (libsndfile scales integer PCM by 1/32768 for 16-bit);
//  * several channels are mixed to mono by averaging them (frame by frame);
//  * the length is checked against AudioLimits before any sample buffer is allocated;
//  * resampling is band-limited interpolation with a Hann-windowed sinc (32 zero crossings each
//    side, cutoff at 0.95 × the lower Nyquist frequency), computed in double precision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace perceiver {

struct Audio {
  int64_t sample_rate = 0;
  std::vector<float> samples;  // mono
};

struct AudioLimits {
  int64_t max_frames = 48000LL * 60 * 30;  // 30 minutes at 48 kHz; checked before allocation
  std::string flag = "--max-audio-seconds";  // named in the Error(Limit) message
};

struct AudioInfo {
  int64_t sample_rate = 0, channels = 0, frames = 0;
};

// The header of `path` (no samples read). Error(Input) "<path>: cannot read audio (<reason>)".
AudioInfo probe_audio(const std::string& path);

// Reads `path`, mixing all channels to mono. Error(Input) when it cannot be opened or decoded,
// Error(Limit) when it has more than limits.max_frames frames.
Audio load_audio(const std::string& path, const AudioLimits& limits = {});

// The same for a file already in memory (libsndfile virtual I/O over `bytes`, which are not
// copied); `name` starts every message. Same checks and errors as load_audio.
Audio decode_audio(const uint8_t* bytes, size_t size, const std::string& name, const AudioLimits& limits = {});

// Appends `frames` frames of `channels` interleaved samples to `mono`, each frame mixed to one
// sample by averaging its channels (summed in double): the mix every reader here uses (libsndfile
// files, and media/video_audio.h's decoded audio streams). Error(Input) "<name>: cannot read
// audio (a NaN or infinite sample at frame N)", N counting from the start of `mono`.
void mix_to_mono(const float* interleaved, int64_t frames, int64_t channels, std::vector<float>& mono,
                 const std::string& name);

// Band-limited resampling of mono samples from `from_rate` to `to_rate` (Hz, both > 0). The
// output has round(n · to_rate / from_rate) samples; a same-rate call returns the input.
std::vector<float> resample_audio(const std::vector<float>& samples, int64_t from_rate, int64_t to_rate);

enum class AudioEncoding { Pcm16, Float32 };

// Writes mono `audio` to `path`; the container comes from the extension: .wav (PCM 16-bit, or
// 32-bit float with Float32), .flac (16-bit), .ogg (Vorbis). For 16-bit output samples are
// clamped to [−1, 1] first. Encoded in memory, then written atomically (whole or not at all).
// Error(Usage) for an unknown extension, Error(Output) when encoding or writing fails.
void write_audio(const std::string& path, const Audio& audio, AudioEncoding encoding = AudioEncoding::Pcm16);

}  // namespace perceiver
