// Audio I/O through libsndfile (lib/media/audio.h): WAV and FLAC round trips, mixing to mono,
// the length limit, errors, and the windowed-sinc resampler against analytic sines.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "media/audio.h"
#include "support/test_support.h"

using namespace perceiver;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> sine(int64_t n, double frequency, int64_t rate, double amplitude = 0.5, double phase = 0) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i)] = static_cast<float>(amplitude * std::sin(2 * kPi * frequency * static_cast<double>(i) / static_cast<double>(rate) + phase));
  return out;
}

// A 16-bit PCM WAV with any channel count, written byte by byte (independent of libsndfile).
void write_pcm16_wav(const std::string& path, int rate, int channels, const std::vector<int16_t>& interleaved) {
  std::ofstream out(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xff)); };
  auto u16 = [&](uint16_t v) { for (int i = 0; i < 2; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xff)); };
  const uint32_t data_bytes = static_cast<uint32_t>(interleaved.size() * 2);
  out.write("RIFF", 4);
  u32(36 + data_bytes);
  out.write("WAVEfmt ", 8);
  u32(16);
  u16(1);
  u16(static_cast<uint16_t>(channels));
  u32(static_cast<uint32_t>(rate));
  u32(static_cast<uint32_t>(rate * channels * 2));
  u16(static_cast<uint16_t>(channels * 2));
  u16(16);
  out.write("data", 4);
  u32(data_bytes);
  for (int16_t v : interleaved) u16(static_cast<uint16_t>(v));
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b, size_t from = 0, size_t to = SIZE_MAX) {
  double worst = 0;
  for (size_t i = from; i < std::min({a.size(), b.size(), to}); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

}  // namespace

TEST_CASE("audio: 16-bit WAV and FLAC round trips keep rate, length and samples to one LSB") {
  const std::string dir = test::temp_dir();
  const Audio audio{48000, sine(4801, 440, 48000, 0.8)};
  for (const char* name : {"/a.wav", "/a.flac", "/A.WAV"}) {
    CAPTURE(name);
    write_audio(dir + name, audio);
    const AudioInfo info = probe_audio(dir + name);
    CHECK(info.sample_rate == 48000);
    CHECK(info.channels == 1);
    CHECK(info.frames == 4801);
    const Audio back = load_audio(dir + name);
    CHECK(back.sample_rate == 48000);
    REQUIRE(back.samples.size() == audio.samples.size());
    CHECK(max_diff(back.samples, audio.samples) <= 1.5 / 32768);
  }
}

TEST_CASE("audio: 32-bit float WAV is exact and not clamped, 16-bit output is clamped to [-1, 1]") {
  const std::string dir = test::temp_dir();
  const Audio audio{16000, {0.0f, 0.25f, -1.5f, 1.5f, 0.123456789f}};
  write_audio(dir + "/f.wav", audio, AudioEncoding::Float32);
  CHECK(load_audio(dir + "/f.wav").samples == audio.samples);
  write_audio(dir + "/i.wav", audio);
  const Audio clamped = load_audio(dir + "/i.wav");
  REQUIRE(clamped.samples.size() == 5);
  CHECK(clamped.samples[2] == doctest::Approx(-1.0).epsilon(1e-4));
  CHECK(clamped.samples[3] == doctest::Approx(1.0).epsilon(1e-4));
}

TEST_CASE("audio: channels are averaged to mono, 16-bit PCM reads as value / 32768") {
  const std::string dir = test::temp_dir();
  // Left 16384 (0.5), right −8192 (−0.25): mono 0.125. Then left 32767, right 32767: ~1.
  write_pcm16_wav(dir + "/stereo.wav", 22050, 2, {16384, -8192, 32767, 32767, 0, 0});
  const Audio audio = load_audio(dir + "/stereo.wav");
  CHECK(audio.sample_rate == 22050);
  REQUIRE(audio.samples.size() == 3);
  CHECK(audio.samples[0] == doctest::Approx(0.125));
  CHECK(audio.samples[1] == doctest::Approx(32767.0 / 32768));
  CHECK(audio.samples[2] == 0.0f);
  write_pcm16_wav(dir + "/mono.wav", 8000, 1, {-32768, 16384});
  const Audio mono = load_audio(dir + "/mono.wav");
  REQUIRE(mono.samples.size() == 2);
  CHECK(mono.samples[0] == -1.0f);
  CHECK(mono.samples[1] == 0.5f);
  write_pcm16_wav(dir + "/six.wav", 8000, 6, {6, 6, 6, 6, 6, 6});
  CHECK(probe_audio(dir + "/six.wav").channels == 6);
  CHECK(load_audio(dir + "/six.wav").samples.at(0) == doctest::Approx(6.0 / 32768));
}

TEST_CASE("audio: errors name the file, the length limit is checked from the header") {
  const std::string dir = test::temp_dir();
  auto kind_of = [](auto&& call) {
    try {
      call();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::Internal;
  };
  CHECK(kind_of([&] { load_audio(dir + "/missing.wav"); }) == ErrorKind::Input);
  test::write_text(dir + "/junk.wav", "this is not a sound file, just text of some length");
  CHECK(kind_of([&] { load_audio(dir + "/junk.wav"); }) == ErrorKind::Input);
  try {
    load_audio(dir + "/junk.wav");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(dir + "/junk.wav: cannot read audio") == 0);
  }
  write_audio(dir + "/long.wav", Audio{8000, std::vector<float>(1000, 0.1f)});
  AudioLimits limits;
  limits.max_frames = 999;
  limits.flag = "--max-audio-seconds";
  try {
    load_audio(dir + "/long.wav", limits);
    FAIL("no limit error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Limit);
    CHECK(std::string(e.what()).find("--max-audio-seconds") != std::string::npos);
  }
  limits.max_frames = 1000;
  CHECK(load_audio(dir + "/long.wav", limits).samples.size() == 1000);
  CHECK(kind_of([&] { write_audio(dir + "/x.mp3", Audio{8000, {0.f}}); }) == ErrorKind::Usage);
  CHECK(kind_of([&] { write_audio(dir + "/no/such/dir/x.wav", Audio{8000, {0.f}}); }) == ErrorKind::Output);
}

TEST_CASE("audio: the windowed-sinc resampler reproduces band-limited sines") {
  SUBCASE("same rate is the identity") {
    const std::vector<float> x = sine(100, 1000, 48000);
    CHECK(resample_audio(x, 48000, 48000) == x);
  }
  SUBCASE("16 kHz → 48 kHz (upsampling)") {
    const std::vector<float> in = sine(16000, 440, 16000), expected = sine(48000, 440, 48000);
    const std::vector<float> out = resample_audio(in, 16000, 48000);
    CHECK(out.size() == 48000);
    CHECK(max_diff(out, expected, 400, 47600) < 2e-3);  // away from the zero-padded ends
  }
  SUBCASE("44.1 kHz → 48 kHz (non-integer ratio)") {
    const std::vector<float> in = sine(44100, 1000, 44100, 0.5, 0.3), expected = sine(48000, 1000, 48000, 0.5, 0.3);
    const std::vector<float> out = resample_audio(in, 44100, 48000);
    CHECK(out.size() == 48000);
    CHECK(max_diff(out, expected, 400, 47600) < 2e-3);
  }
  SUBCASE("48 kHz → 8 kHz (downsampling removes what lies above the new Nyquist)") {
    std::vector<float> in = sine(48000, 300, 48000), high = sine(48000, 10000, 48000, 0.3);
    for (size_t i = 0; i < in.size(); ++i) in[i] += high[i];
    const std::vector<float> out = resample_audio(in, 48000, 8000), expected = sine(8000, 300, 8000);
    CHECK(out.size() == 8000);
    CHECK(max_diff(out, expected, 100, 7900) < 5e-3);
  }
  SUBCASE("output length rounds n · to / from") {
    CHECK(resample_audio(std::vector<float>(10, 0.f), 3, 2).size() == 7);  // 6.67
    CHECK(resample_audio(std::vector<float>(10, 0.f), 4, 1).size() == 3);  // 2.5 rounds up
    CHECK(resample_audio({}, 16000, 48000).empty());
  }
}

TEST_CASE("audio: decode_audio reads files in memory exactly as load_audio reads them from disk") {
  const std::string dir = test::temp_dir();
  auto bytes_of = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const Audio audio{22050, sine(3001, 440, 22050, 0.7)};
  for (const char* name : {"/m.wav", "/m.flac"}) {
    CAPTURE(name);
    write_audio(dir + name, audio);
    const std::vector<uint8_t> bytes = bytes_of(dir + name);
    const Audio from_disk = load_audio(dir + name);
    const Audio from_memory = decode_audio(bytes.data(), bytes.size(), name);
    CHECK(from_memory.sample_rate == from_disk.sample_rate);
    CHECK(from_memory.samples == from_disk.samples);
  }
  std::vector<uint8_t> wav = bytes_of(dir + "/m.wav");
  auto error_of = [](const std::vector<uint8_t>& bytes, size_t size, const AudioLimits& limits) {
    try {
      decode_audio(bytes.data(), size, "clip.wav", limits);
    } catch (const Error& e) {
      return std::make_pair(e.kind(), std::string(e.what()));
    }
    return std::make_pair(ErrorKind::Internal, std::string("no error"));
  };
  for (size_t size : {size_t{0}, size_t{4}, size_t{20}, size_t{40}}) {  // cut inside the 44-byte header
    CAPTURE(size);
    const auto [kind, message] = error_of(wav, size, {});
    CHECK(kind == ErrorKind::Input);
    CHECK(message.find("clip.wav: cannot read audio") == 0);
  }
  // The same limit check as load_audio, from the header.
  AudioLimits limits;
  limits.max_frames = 3000;
  limits.flag = "--max-audio-seconds";
  const auto [kind, message] = error_of(wav, wav.size(), limits);
  CHECK(kind == ErrorKind::Limit);
  CHECK(message.find("--max-audio-seconds") != std::string::npos);
}

TEST_CASE("audio: a WAV LIST sub-chunk that runs past its chunk is refused before libsndfile opens it") {
  // libsndfile 1.2.0 never returns from sf_open on such a file (found by fuzzing; the fuzz corpus
  // keeps the inputs as list_*_hang.wav); a well-formed LIST INFO chunk is read as before.
  const std::string dir = test::temp_dir();
  write_pcm16_wav(dir + "/plain.wav", 8000, 1, {100, -200, 300, -400, 500});
  std::ifstream in(dir + "/plain.wav", std::ios::binary);
  const std::vector<uint8_t> plain((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(plain.size() == 54);
  auto with_list = [&](uint32_t declared) {  // a LIST INFO chunk with one INAM sub-chunk after 'fmt '
    std::vector<uint8_t> list = {'L', 'I', 'S', 'T', 18, 0, 0, 0, 'I', 'N', 'F', 'O', 'I', 'N', 'A', 'M'};
    for (int i = 0; i < 4; ++i) list.push_back(static_cast<uint8_t>((declared >> (8 * i)) & 0xff));
    for (char c : {'c', 'l', 'i', 'p', '\0', '\0'}) list.push_back(static_cast<uint8_t>(c));  // 5 bytes + pad
    std::vector<uint8_t> bytes;
    bytes.reserve(plain.size() + list.size());
    for (size_t i = 0; i < plain.size(); ++i) {
      if (i == 36) bytes.insert(bytes.end(), list.begin(), list.end());
      bytes.push_back(plain[i]);
    }
    const uint32_t riff = static_cast<uint32_t>(bytes.size() - 8);
    for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<uint8_t>((riff >> (8 * i)) & 0xff);
    return bytes;
  };
  const Audio expected = load_audio(dir + "/plain.wav");
  const std::vector<uint8_t> good = with_list(5), bad = with_list(0xFFFFFFF0u);
  const Audio from_good = decode_audio(good.data(), good.size(), "good.wav");
  CHECK(from_good.samples == expected.samples);
  {
    std::ofstream out(dir + "/good.wav", std::ios::binary);
    out.write(reinterpret_cast<const char*>(good.data()), static_cast<std::streamsize>(good.size()));
  }
  CHECK(load_audio(dir + "/good.wav").samples == expected.samples);

  {
    std::ofstream out(dir + "/bad.wav", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bad.data()), static_cast<std::streamsize>(bad.size()));
  }
  // The two inputs fuzzing found: a LIST within the file, and one that claims more than the file.
  const std::string corpus = test::data_dir() + "/../fuzz/corpus/audio/";
  for (const std::string& path : {dir + "/bad.wav", corpus + "list_subchunk_hang.wav", corpus + "list_past_file_hang.wav"}) {
    CAPTURE(path);
    test::expect_error([&] { load_audio(path); }, ErrorKind::Input, path,
                       "cannot read audio (malformed WAV: a LIST sub-chunk at byte");
  }
  test::expect_error([&] { decode_audio(bad.data(), bad.size(), "bad.wav"); }, ErrorKind::Input, "bad.wav",
                     "cannot read audio (malformed WAV: a LIST sub-chunk at byte 48 declares 4294967280 bytes");
}
