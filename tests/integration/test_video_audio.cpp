// The audio track of a video (lib/media/video_audio.h) against the WAV path: the same track
// extracted by ffmpeg to a float WAV and read by media/audio.h's load_audio gives the same mono
// samples, and after resample_audio the same resampled ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/audio.h"
#include "media/video_audio.h"
#include "support/test_support.h"
#include "video_clips.h"

using namespace perceiver;
using namespace perceiver::test;

namespace {

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

// A clip with a video stream and a two-channel audio stream (440 Hz left, 660 Hz right).
std::string stereo_clip(const std::string& name, const std::string& audio_codec) {
  return make_clip(name, "-f lavfi -i testsrc2=size=32x24:rate=10 -f lavfi -i sine=f=440:sample_rate=44100 "
                         "-f lavfi -i sine=f=660:sample_rate=44100 -filter_complex '[1:a][2:a]amerge=inputs=2[a]' "
                         "-map 0:v -map '[a]' -t 0.7 -c:v libx264 -pix_fmt yuv420p " + audio_codec);
}

void expect_equal_to_wav_path(const std::string& clip) {
  const std::string wav = clip + ".wav";
  run_ffmpeg("-i '" + clip + "' -vn -c:a pcm_f32le '" + wav + "'");
  const Audio from_wav = load_audio(wav);
  const Audio from_video = load_video_audio(clip);
  CHECK(from_video.sample_rate == from_wav.sample_rate);
  REQUIRE(from_video.samples.size() == from_wav.samples.size());
  const double mono = max_abs_diff(from_video.samples, from_wav.samples);
  const double resampled = max_abs_diff(resample_audio(from_video.samples, from_video.sample_rate, 16000),
                                        resample_audio(from_wav.samples, from_wav.sample_rate, 16000));
  MESSAGE(clip << ": " << from_video.samples.size() << " samples at " << from_video.sample_rate
               << " Hz; max |video − WAV| mono " << mono << ", resampled to 16 kHz " << resampled);
  CHECK(mono == 0.0);  // same decoder, same float conversion, same mix: the same floats
  CHECK(resampled == 0.0);
}

}  // namespace

TEST_CASE("video audio: the first audio stream, averaged and resampled, equals the WAV path for the same track") {
  expect_equal_to_wav_path(stereo_clip("stereo-aac.mp4", "-c:a aac"));       // AAC: planar float
  expect_equal_to_wav_path(stereo_clip("stereo-s16.mkv", "-c:a pcm_s16le"));  // 16-bit integers
  expect_equal_to_wav_path(stereo_clip("stereo-s32.mov", "-c:a pcm_s32le"));  // 32-bit integers
}

TEST_CASE("video audio: the channels are averaged to mono") {
  // Left +0.5, right −0.5 (a constant each): the mono mix is 0.
  const std::string clip = make_clip("opposite.mkv", "-f lavfi -i 'aevalsrc=0.5|-0.5:s=8000:d=0.25' -c:a pcm_f32le");
  const Audio audio = load_video_audio(clip);
  CHECK(audio.sample_rate == 8000);
  CHECK(audio.samples.size() == 2000);
  double worst = 0;
  for (float v : audio.samples) worst = std::max(worst, std::fabs(double(v)));
  CHECK(worst == 0.0);
}

TEST_CASE("video audio: errors and the length limit") {
  const std::string silent = make_clip("silent.mp4", "-f lavfi -i testsrc2=size=32x24:rate=10 -frames:v 3 -c:v libx264");
  expect_error([&] { load_video_audio(silent); }, ErrorKind::Input, silent, "no audio stream");
  const std::string long_audio = make_clip("long.m4a", "-f lavfi -i sine=f=440:sample_rate=8000:d=3 -c:a aac");
  AudioLimits limits;
  limits.max_frames = 8000;  // one second
  expect_error([&] { load_video_audio(long_audio, limits); }, ErrorKind::Limit, long_audio, "--max-audio-seconds");
  const std::string random = clip_dir() + "/noise.m4a";
  write_bytes(random, std::string(2000, '\x5a'));
  expect_error([&] { load_video_audio(random); }, ErrorKind::Input, random, "not a readable video");
  // An audio-only file is fine here (it is the video reader that needs a video stream).
  CHECK(load_video_audio(long_audio).samples.size() >= 24000);
}
