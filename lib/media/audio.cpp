#include "media/audio.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/atomic_file.h"
#include "common/error.h"
#include "media/wav_chunks.h"

namespace perceiver {

namespace {

struct SndCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndHandle = std::unique_ptr<SNDFILE, SndCloser>;

// The checks every opened file gets, whether it came from a path or from memory. `raw` is what
// sf_open or sf_open_virtual returned.
SndHandle checked_handle(SNDFILE* raw, const SF_INFO& info, const std::string& name) {
  if (!raw) fail(ErrorKind::Input, name + ": cannot read audio (" + sf_strerror(nullptr) + ")");
  SndHandle handle(raw);
  if (info.channels <= 0 || info.samplerate <= 0 || info.frames < 0)
    fail(ErrorKind::Input, name + ": cannot read audio (invalid header: " + std::to_string(info.channels) +
                               " channels at " + std::to_string(info.samplerate) + " Hz)");
  return handle;
}

SndHandle open_for_reading(const std::string& path, SF_INFO& info) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(ErrorKind::Input, path + ": cannot open the file");
  std::ifstream file(path, std::ios::binary);
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (!file || ec) fail(ErrorKind::Input, path + ": cannot open the file");
  check_wav_list_chunks(
      [&](uint64_t offset, uint8_t* out, size_t n) {
        file.clear();
        file.seekg(static_cast<std::streamoff>(offset));
        file.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
        return static_cast<size_t>(file.gcount());
      },
      size, path);
  std::memset(&info, 0, sizeof info);
  return checked_handle(sf_open(path.c_str(), SFM_READ, &info), info, path);
}

// The new position for a virtual-I/O seek, or -1 when it is negative or not representable (the
// offsets come from the file's own fields when reading, so they may be anything).
sf_count_t seek_target(sf_count_t position, sf_count_t length, sf_count_t offset, int whence) {
  sf_count_t base = 0;
  if (whence == SEEK_CUR) base = position;
  if (whence == SEEK_END) base = length;
  sf_count_t target = 0;
  if (__builtin_add_overflow(base, offset, &target) || target < 0) return -1;
  return target;
}

// An in-memory file for libsndfile's virtual I/O, so an encoded file can be written atomically.
struct MemoryFile {
  std::vector<char> bytes;
  sf_count_t position = 0;
};

sf_count_t memory_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->bytes.size()); }
sf_count_t memory_seek(sf_count_t offset, int whence, void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  const sf_count_t target = seek_target(file->position, static_cast<sf_count_t>(file->bytes.size()), offset, whence);
  if (target >= 0) file->position = target;
  return target;
}
sf_count_t memory_read(void* out, sf_count_t count, void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  const sf_count_t size = static_cast<sf_count_t>(file->bytes.size());
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - file->position));
  if (n > 0) std::memcpy(out, file->bytes.data() + file->position, static_cast<size_t>(n));
  file->position += n;
  return n;
}
sf_count_t memory_write(const void* in, sf_count_t count, void* user) {
  auto* file = static_cast<MemoryFile*>(user);
  const size_t end = static_cast<size_t>(file->position + count);
  if (end > file->bytes.size()) file->bytes.resize(end);
  std::memcpy(file->bytes.data() + file->position, in, static_cast<size_t>(count));
  file->position += count;
  return count;
}
sf_count_t memory_tell(void* user) { return static_cast<MemoryFile*>(user)->position; }

// A read-only in-memory file (decode_audio): the caller's bytes, never copied or written.
struct ByteSource {
  const uint8_t* bytes;
  sf_count_t size;
  sf_count_t position = 0;
};

sf_count_t source_length(void* user) { return static_cast<ByteSource*>(user)->size; }
sf_count_t source_seek(sf_count_t offset, int whence, void* user) {
  auto* source = static_cast<ByteSource*>(user);
  const sf_count_t target = seek_target(source->position, source->size, offset, whence);
  if (target >= 0) source->position = target;
  return target;
}
sf_count_t source_read(void* out, sf_count_t count, void* user) {
  auto* source = static_cast<ByteSource*>(user);
  const sf_count_t left = source->position < source->size ? source->size - source->position : 0;
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, left));
  if (n > 0) std::memcpy(out, source->bytes + source->position, static_cast<size_t>(n));
  source->position += n;
  return n;
}
sf_count_t source_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t source_tell(void* user) { return static_cast<ByteSource*>(user)->position; }

// Everything after opening, shared by load_audio and decode_audio: the length limit (before any
// sample buffer is allocated), then block reads mixed to mono.
Audio read_mono(SNDFILE* file, const SF_INFO& info, const std::string& name, const AudioLimits& limits) {
  if (info.frames > limits.max_frames)
    fail(ErrorKind::Limit, name + ": " + std::to_string(info.frames) + " audio frames is more than the limit of " +
                               std::to_string(limits.max_frames) + " (raise it with " + limits.flag + ")");
  Audio audio;
  audio.sample_rate = info.samplerate;
  audio.samples.reserve(static_cast<size_t>(info.frames));
  // Read in blocks and average the channels, so no frames × channels buffer is ever needed.
  const int64_t channels = info.channels, block = 4096;
  std::vector<float> buffer(static_cast<size_t>(block * channels));
  for (;;) {
    const sf_count_t got = sf_readf_float(file, buffer.data(), block);
    if (got <= 0) break;
    if (static_cast<int64_t>(audio.samples.size()) + got > limits.max_frames)
      fail(ErrorKind::Limit, name + ": more audio frames than the limit of " + std::to_string(limits.max_frames) +
                                 " (raise it with " + limits.flag + ")");
    mix_to_mono(buffer.data(), got, channels, audio.samples, name);
  }
  if (sf_error(file) != SF_ERR_NO_ERROR)
    fail(ErrorKind::Input, name + ": cannot read audio (" + sf_strerror(file) + ")");
  if (audio.samples.size() < static_cast<size_t>(info.frames))
    fail(ErrorKind::Input, name + ": cannot read audio (truncated: " + std::to_string(audio.samples.size()) + " of " +
                               std::to_string(info.frames) + " frames decoded)");
  return audio;
}

}  // namespace

void mix_to_mono(const float* interleaved, int64_t frames, int64_t channels, std::vector<float>& mono,
                 const std::string& name) {
  for (int64_t f = 0; f < frames; ++f) {
    double sum = 0;
    for (int64_t c = 0; c < channels; ++c) sum += interleaved[f * channels + c];
    // A float file can hold NaN or infinity; the model would turn one into NaN everywhere.
    if (!std::isfinite(sum))
      fail(ErrorKind::Input, name + ": cannot read audio (a NaN or infinite sample at frame " +
                                 std::to_string(mono.size()) + ")");
    mono.push_back(static_cast<float>(sum / static_cast<double>(channels)));
  }
}

namespace {

constexpr double kPi = 3.14159265358979323846;

double sinc(double x) {
  if (std::fabs(x) < 1e-12) return 1.0;
  const double px = kPi * x;
  return std::sin(px) / px;
}

}  // namespace

AudioInfo probe_audio(const std::string& path) {
  SF_INFO info;
  const SndHandle handle = open_for_reading(path, info);
  return {info.samplerate, info.channels, static_cast<int64_t>(info.frames)};
}

Audio load_audio(const std::string& path, const AudioLimits& limits) {
  SF_INFO info;
  const SndHandle handle = open_for_reading(path, info);
  return read_mono(handle.get(), info, path, limits);
}

Audio decode_audio(const uint8_t* bytes, size_t size, const std::string& name, const AudioLimits& limits) {
  if (size && !bytes) fail(ErrorKind::Internal, name + ": null buffer of " + std::to_string(size) + " bytes");
  if (size > static_cast<uint64_t>(INT64_MAX)) fail(ErrorKind::Input, name + ": cannot read audio (too large)");
  check_wav_list_chunks(
      [&](uint64_t offset, uint8_t* out, size_t n) {
        if (offset >= size) return size_t{0};
        const size_t count = std::min<uint64_t>(n, size - offset);
        std::memcpy(out, bytes + offset, count);
        return count;
      },
      size, name);
  ByteSource source{bytes, static_cast<sf_count_t>(size)};
  SF_VIRTUAL_IO io{source_length, source_seek, source_read, source_write, source_tell};
  SF_INFO info;
  std::memset(&info, 0, sizeof info);
  const SndHandle handle = checked_handle(sf_open_virtual(&io, SFM_READ, &info, &source), info, name);
  return read_mono(handle.get(), info, name, limits);
}

std::vector<float> resample_audio(const std::vector<float>& samples, int64_t from_rate, int64_t to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    fail(ErrorKind::Usage, "resample_audio: sample rates must be positive");
  if (from_rate == to_rate) return samples;
  const int64_t n = static_cast<int64_t>(samples.size());
  const int64_t out_count = (n * to_rate + from_rate / 2) / from_rate;
  // Cutoff in cycles per input sample ×2 (1 = the input Nyquist frequency).
  const double cutoff = 0.95 * std::min(1.0, static_cast<double>(to_rate) / static_cast<double>(from_rate));
  constexpr double kZeroCrossings = 32;
  const double half_width = kZeroCrossings / cutoff;  // in input samples
  const double step = static_cast<double>(from_rate) / static_cast<double>(to_rate);
  std::vector<float> out(static_cast<size_t>(out_count));
  for (int64_t j = 0; j < out_count; ++j) {
    const double t = static_cast<double>(j) * step;  // output sample j in input-sample units
    const int64_t first = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(t - half_width)));
    const int64_t last = std::min<int64_t>(n - 1, static_cast<int64_t>(std::floor(t + half_width)));
    double sum = 0;
    for (int64_t i = first; i <= last; ++i) {
      const double x = t - static_cast<double>(i);
      const double window = 0.5 * (1.0 + std::cos(kPi * x / half_width));
      sum += samples[static_cast<size_t>(i)] * cutoff * sinc(cutoff * x) * window;
    }
    out[static_cast<size_t>(j)] = static_cast<float>(sum);
  }
  return out;
}

void write_audio(const std::string& path, const Audio& audio, AudioEncoding encoding) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  int format = 0;
  if (extension == ".wav")
    format = SF_FORMAT_WAV | (encoding == AudioEncoding::Float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
  else if (extension == ".flac")
    format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  else if (extension == ".ogg")
    format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  else
    fail(ErrorKind::Usage, path + ": unknown audio extension (use .wav, .flac or .ogg)");
  if (audio.sample_rate <= 0) fail(ErrorKind::Output, path + ": invalid sample rate " + std::to_string(audio.sample_rate));

  SF_INFO info;
  std::memset(&info, 0, sizeof info);
  info.samplerate = static_cast<int>(audio.sample_rate);
  info.channels = 1;
  info.format = format;
  if (!sf_format_check(&info)) fail(ErrorKind::Output, path + ": libsndfile cannot write this format");

  MemoryFile memory;
  SF_VIRTUAL_IO io{memory_length, memory_seek, memory_read, memory_write, memory_tell};
  SNDFILE* raw = sf_open_virtual(&io, SFM_WRITE, &info, &memory);
  if (!raw) fail(ErrorKind::Output, path + ": cannot encode audio (" + sf_strerror(nullptr) + ")");
  SndHandle handle(raw);
  const bool clamp = format != (SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const size_t block = 4096;
  std::vector<float> buffer(block);
  for (size_t start = 0; start < audio.samples.size(); start += block) {
    const size_t count = std::min(block, audio.samples.size() - start);
    for (size_t i = 0; i < count; ++i) {
      const float v = audio.samples[start + i];
      buffer[i] = clamp ? std::clamp(v, -1.0f, 1.0f) : v;
    }
    if (sf_writef_float(handle.get(), buffer.data(), static_cast<sf_count_t>(count)) != static_cast<sf_count_t>(count))
      fail(ErrorKind::Output, path + ": cannot encode audio (" + sf_strerror(handle.get()) + ")");
  }
  handle.reset();  // finishes the header and flushes the encoder into `memory`
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(memory.bytes.data(), static_cast<std::streamsize>(memory.bytes.size()));
  });
}

}  // namespace perceiver
