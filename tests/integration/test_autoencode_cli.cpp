// perceiver-autoencode end to end on the golden tiny multimodal model (2 frames of 8×8 per
// window, 16 audio samples = 2 × 8, 4 samples per patch, 5 labels), with synthetic media made
// here: PNG frames and a sine WAV. Also the library pieces it rests on: chunked window
// reconstruction, PSNR, frame fitting.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "common/error.h"
#include "media/audio.h"
#include "media/image.h"
#include "media/video_frames.h"
#include "tasks/clip_autoencoder.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

// The golden model's audio rate with the default --fps 25: 25 × 8 samples per frame.
constexpr int64_t kRate = 200;

std::string model_dir() { return test::golden_dir() + "/multimodal_full"; }

std::string autoencode(const std::string& args) {
  return test::bin_dir() + "/perceiver-autoencode -q -t 1 -m " + model_dir() + " " + args;
}

Image pattern_frame(int64_t width, int64_t height, int seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < 3; ++c)
        image.rgb[static_cast<size_t>((y * width + x) * 3 + c)] = static_cast<uint8_t>((x * 37 + y * 11 + c * 70 + seed * 29) % 256);
  return image;
}

// `count` frames of width × height as dir/frames/000000.png … and a sine of `samples` samples.
struct Clip {
  std::string dir, frames, audio;
};
Clip make_clip(int count, int64_t samples, int64_t width = 8, int64_t height = 8, int64_t rate = kRate) {
  Clip clip;
  clip.dir = test::temp_dir();
  clip.frames = clip.dir + "/frames";
  fs::create_directories(clip.frames);
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/%06d.png", i);
    write_png(clip.frames + name, pattern_frame(width, height, i));
  }
  std::vector<float> wave(static_cast<size_t>(samples));
  for (int64_t i = 0; i < samples; ++i) wave[static_cast<size_t>(i)] = static_cast<float>(0.5 * std::sin(0.3 * static_cast<double>(i)));
  clip.audio = clip.dir + "/audio.wav";
  write_audio(clip.audio, Audio{rate, wave}, AudioEncoding::Float32);
  return clip;
}

// max |a − b| / max |b|: the difference relative to the scale of the reference.
double relative_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    worst = std::max(worst, std::fabs(x - y));
    scale = std::max(scale, std::fabs(y));
  }
  return worst / std::max(scale, 1e-30);
}

}  // namespace

TEST_CASE("psnr: 10·log10(peak² / MSE) over clamped reconstructions") {
  CHECK(psnr_db(0.01) == doctest::Approx(20.0));
  CHECK(psnr_db(1e-4) == doctest::Approx(40.0));
  CHECK(psnr_db(0.25, 2.0) == doctest::Approx(10 * std::log10(16.0)));
  CHECK(std::isinf(psnr_db(0.0)));
  CHECK(std::isnan(psnr_db(ErrorTotals{}.mse())));

  ErrorTotals totals;
  const float reference[4] = {0.0f, 0.5f, 1.0f, 0.25f};
  const float recon[4] = {0.1f, 0.5f, 1.7f, 0.05f};  // 1.7 is clamped to 1: errors 0.1, 0, 0, 0.2
  totals.add(reference, recon, 4, 0.0f, 1.0f);
  CHECK(totals.count == 4);
  CHECK(totals.mse() == doctest::Approx((0.01 + 0.04) / 4));
  const float nan_recon[1] = {std::numeric_limits<float>::quiet_NaN()};
  const float one[1] = {1.0f};
  totals.add(one, nan_recon, 1, 0.0f, 1.0f);  // NaN counts as the low end: error 1
  CHECK(totals.mse() == doctest::Approx((0.05 + 1.0) / 5));
  CHECK(psnr_db(totals.mse()) == doctest::Approx(10 * std::log10(5 / 1.05)));
}

TEST_CASE("video frames: fitted by a centred crop to the aspect ratio, then resized, sizes checked") {
  const Image wide = pattern_frame(12, 8, 0);
  const Image fitted = fit_frame(wide, 8, 8);  // crop the centre 8×8 (columns 2…9), no resize
  REQUIRE(fitted.width == 8);
  REQUIRE(fitted.height == 8);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x)
      CHECK(fitted.rgb[static_cast<size_t>((y * 8 + x) * 3)] == wide.rgb[static_cast<size_t>((y * 12 + x + 2) * 3)]);
  const Image small = fit_frame(pattern_frame(30, 20, 1), 8, 8);
  CHECK(small.width == 8);
  CHECK(small.height == 8);
  const Image tall = fit_frame(pattern_frame(10, 30, 1), 4, 6);  // 10×15 crop, then resized to 4×6
  CHECK(tall.width == 4);
  CHECK(tall.height == 6);

  float unit[3 * 64];
  frame_to_unit_floats(fitted, unit);
  CHECK(unit[64 + 5] == doctest::Approx(fitted.rgb[5 * 3 + 1] / 255.0));  // channel 1, pixel 5
  std::vector<float> hwc(64 * 3);
  for (int64_t p = 0; p < 64; ++p)
    for (int64_t c = 0; c < 3; ++c) hwc[static_cast<size_t>(p * 3 + c)] = unit[c * 64 + p];
  CHECK(unit_floats_to_frame(hwc.data(), 8, 8).rgb == fitted.rgb);

  const std::string dir = test::temp_dir();
  write_png(dir + "/a.png", pattern_frame(8, 8, 0));
  write_png(dir + "/b.png", pattern_frame(8, 8, 1));
  write_png(dir + "/c.png", pattern_frame(9, 8, 2));
  const FrameSize size = check_video_frames({dir + "/a.png", dir + "/b.png"});
  CHECK(size.width == 8);
  CHECK(size.height == 8);
  try {
    check_video_frames({dir + "/a.png", dir + "/b.png", dir + "/c.png"});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Input);
    CHECK(std::string(e.what()) == dir + "/c.png: frame is 9×8, but the first frame " + dir +
                                       "/a.png is 8×8 (all frames of a video must have one size)");
  }
}

TEST_CASE("clip autoencoder: a window assembled from chunks equals decoding every point at once") {
  auto weights = open_model_weights(model_dir());
  const ClipAutoencoder model(load_config(model_dir() + "/config.json"), *weights);
  const ClipGeometry& g = model.geometry();
  CHECK(g.frames == 2);
  CHECK(g.height == 8);
  CHECK(g.width == 8);
  CHECK(g.samples == 16);
  CHECK(model.output_points() == 4 + 128);

  // The golden inputs and outputs: every point, in natural order.
  const SafetensorsFile inputs = read_safetensors(model_dir() + "/inputs.safetensors");
  const SafetensorsFile outputs = read_safetensors(model_dir() + "/outputs.safetensors");
  const Tensor video = inputs.find("inputs.image")->reshaped({2, 3, 8, 8});
  const Tensor audio = inputs.find("inputs.audio")->reshaped({16});
  const WindowReconstruction whole = model.reconstruct(video, audio, 1 << 20);
  CHECK(test::max_abs_diff(whole.video.reshaped({1, 128, 3}), *outputs.find("logits.image")) < 1e-4);
  CHECK(test::max_abs_diff(whole.audio.reshaped({1, 16}), *outputs.find("logits.audio")) < 1e-4);
  CHECK(test::max_abs_diff(whole.label.reshaped({1, 5}), *outputs.find("logits.label")) < 1e-4);

  for (int64_t chunk : {1, 3, 7, 64, 131, 132}) {
    CAPTURE(chunk);
    int64_t calls = 0, last = 0;
    const WindowReconstruction part = model.reconstruct(video, audio, chunk, [&](int64_t done, int64_t total) {
      ++calls;
      last = done;
      CHECK(total == 132);
    });
    CHECK(calls == (132 + chunk - 1) / chunk);
    CHECK(last == 132);
    CHECK(relative_diff(part.video, whole.video) <= 1e-6);
    CHECK(relative_diff(part.audio, whole.audio) <= 1e-6);
    CHECK(relative_diff(part.label, whole.label) <= 1e-5);
  }
}

TEST_CASE("perceiver-autoencode: frames + WAV → PNG frames, WAV, labels, summary, compare.png") {
  const Clip clip = make_clip(2, 16);
  const std::string out = clip.dir + "/recon";
  const auto r = test::run_command(autoencode("--video " + clip.frames + " --audio " + clip.audio + " -o " + out + " -k 3"));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("video PSNR: ") != std::string::npos);
  CHECK(r.out.find("audio PSNR: ") != std::string::npos);

  for (const char* name : {"000000.png", "000001.png"}) {
    const Image frame = load_image(out + "/frames/" + name);
    CHECK(frame.width == 8);
    CHECK(frame.height == 8);
  }
  CHECK_FALSE(fs::exists(out + "/frames/000002.png"));
  const Image compare = load_image(out + "/compare.png");
  CHECK(compare.width == 8 + 2 + 8);
  CHECK(compare.height == 8);
  const Image first_input = load_image(clip.frames + "/000000.png"), first_recon = load_image(out + "/frames/000000.png");
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8 * 3; ++x) {
      CHECK(compare.rgb[static_cast<size_t>(y * 18 * 3 + x)] == first_input.rgb[static_cast<size_t>(y * 24 + x)]);
      CHECK(compare.rgb[static_cast<size_t>((y * 18 + 10) * 3 + x)] == first_recon.rgb[static_cast<size_t>(y * 24 + x)]);
    }

  const Audio audio = load_audio(out + "/audio.wav");
  CHECK(audio.sample_rate == kRate);
  CHECK(audio.samples.size() == 16);

  const nlohmann::json summary = nlohmann::json::parse(test::read_text(out + "/summary.json"));
  CHECK(summary["windows"] == 1);
  CHECK(summary["frames_used"] == 2);
  CHECK(summary["audio_samples_used"] == 16);
  CHECK(summary["sample_rate"] == kRate);
  REQUIRE(summary["labels"].size() == 3);
  const PerceiverConfig config = load_config(model_dir() + "/config.json");
  CHECK(summary["labels"][0]["label"] == config.id2label.at(summary["labels"][0]["id"].get<int64_t>()));
  CHECK(summary["psnr"]["video_db"].is_number());
  CHECK(summary["psnr"]["audio_db"].is_number());
  const std::string labels = test::read_text(out + "/labels.txt");
  CHECK(labels.find(summary["labels"][0]["label"].get<std::string>()) != std::string::npos);
  // No temporary files are left beside the outputs.
  for (const auto& entry : fs::recursive_directory_iterator(out))
    CHECK(entry.path().string().find(".tmp.") == std::string::npos);

  // The PSNR printed is that of the written float reconstruction (recomputed here).
  const auto j = test::run_command(autoencode("--json --video " + clip.frames + " --audio " + clip.audio + " --raw " + clip.dir + "/raw.safetensors"));
  REQUIRE(j.exit_code == 0);
  const nlohmann::json line = nlohmann::json::parse(j.out);
  const SafetensorsFile raw = read_safetensors(clip.dir + "/raw.safetensors");
  ErrorTotals audio_error;
  const Audio input = load_audio(clip.audio);
  audio_error.add(input.samples.data(), raw.find("audio")->data<float>(), 16, -1.0f, 1.0f);
  CHECK(line["psnr"]["audio_db"].get<double>() == doctest::Approx(psnr_db(audio_error.mse())).epsilon(1e-9));
  ErrorTotals video_error;
  for (int t = 0; t < 2; ++t) {
    char name[32];
    std::snprintf(name, sizeof name, "/%06d.png", t);
    const Image frame = load_image(clip.frames + name);
    std::vector<float> reference(frame.rgb.begin(), frame.rgb.end());
    for (float& v : reference) v /= 255.0f;
    video_error.add(reference.data(), raw.find("video")->data<float>() + t * 192, 192, 0.0f, 1.0f);
  }
  CHECK(line["psnr"]["video_db"].get<double>() == doctest::Approx(psnr_db(video_error.mse())).epsilon(1e-6));
}

TEST_CASE("perceiver-autoencode: --chunk does not change the reconstruction, long clips go window by window") {
  // 5 frames and 44 samples: two whole windows (4 frames, 32 samples); the rest is dropped.
  const Clip clip = make_clip(5, 44);
  const std::string base = "--video " + clip.frames + " --audio " + clip.audio + " --json";
  const auto whole = test::run_command(autoencode(base + " --chunk 100000 --raw " + clip.dir + "/whole.safetensors"));
  CAPTURE(whole.err);
  REQUIRE(whole.exit_code == 0);
  const auto chunked = test::run_command(autoencode(base + " --chunk 5 --raw " + clip.dir + "/chunked.safetensors -o " + clip.dir + "/out"));
  REQUIRE(chunked.exit_code == 0);
  const SafetensorsFile a = read_safetensors(clip.dir + "/whole.safetensors");
  const SafetensorsFile b = read_safetensors(clip.dir + "/chunked.safetensors");
  CHECK(a.find("video")->shape() == Shape{4, 8, 8, 3});
  CHECK(a.find("audio")->shape() == Shape{32});
  CHECK(a.find("label")->shape() == Shape{2, 5});
  CHECK(relative_diff(*b.find("video"), *a.find("video")) <= 1e-6);
  CHECK(relative_diff(*b.find("audio"), *a.find("audio")) <= 1e-6);
  CHECK(relative_diff(*b.find("label"), *a.find("label")) <= 1e-5);
  const nlohmann::json summary = nlohmann::json::parse(chunked.out);
  CHECK(summary["windows"] == 2);
  CHECK(summary["frames_total"] == 5);
  CHECK(summary["frames_used"] == 4);
  CHECK(summary["window_labels"].size() == 2);
  CHECK(fs::exists(clip.dir + "/out/frames/000003.png"));
  CHECK_FALSE(fs::exists(clip.dir + "/out/frames/000004.png"));
  CHECK(load_audio(clip.dir + "/out/audio.wav").samples.size() == 32);

  // Each window is the library's reconstruction of that window alone.
  auto weights = open_model_weights(model_dir());
  const ClipAutoencoder model(load_config(model_dir() + "/config.json"), *weights);
  const Audio audio = load_audio(clip.audio);
  for (int w = 0; w < 2; ++w) {
    Tensor video = Tensor::f32({2, 3, 8, 8}), window_audio = Tensor::f32({16});
    for (int t = 0; t < 2; ++t) {
      char name[32];
      std::snprintf(name, sizeof name, "/%06d.png", w * 2 + t);
      frame_to_unit_floats(load_image(clip.frames + name), video.mutable_data<float>() + t * 192);
    }
    std::copy_n(audio.samples.begin() + w * 16, 16, window_audio.mutable_data<float>());
    const WindowReconstruction expected = model.reconstruct(video, window_audio, 1000);
    const Tensor got_audio = Tensor::view(DType::F32, {16}, a.find("audio")->data<float>() + w * 16, nullptr);
    const Tensor got_video = Tensor::view(DType::F32, {2, 8, 8, 3}, a.find("video")->data<float>() + w * 384, nullptr);
    CHECK(relative_diff(got_audio, expected.audio) <= 1e-6);
    CHECK(relative_diff(got_video, expected.video) <= 1e-6);
  }
}

TEST_CASE("perceiver-autoencode: other sample rates are resampled, or refused with --no-resample") {
  const Clip clip = make_clip(2, 32, 8, 8, 400);  // 400 Hz: twice the model's 200 Hz
  const std::string base = "--json --video " + clip.frames + " --audio " + clip.audio;
  const auto refused = test::run_command(autoencode(base + " --no-resample"));
  CHECK(refused.exit_code == 7);
  CHECK(refused.err.find(clip.audio + ": sampled at 400 Hz, but the model takes 200 Hz") != std::string::npos);
  const auto resampled = test::run_command(autoencode(base));
  CAPTURE(resampled.err);
  REQUIRE(resampled.exit_code == 0);
  const nlohmann::json summary = nlohmann::json::parse(resampled.out);
  CHECK(summary["audio_samples_total"] == 16);
  CHECK(summary["sample_rate"] == 200);
  // --sample-rate 400 makes the file's rate the model's (as if the model ran at 50 fps).
  const auto own_rate = test::run_command(autoencode(base + " --no-resample --sample-rate 400"));
  REQUIRE(own_rate.exit_code == 0);
  CHECK(nlohmann::json::parse(own_rate.out)["audio_samples_total"] == 32);
  const auto fps = test::run_command(autoencode(base + " --no-resample --fps 50"));
  CHECK(fps.exit_code == 0);
}

TEST_CASE("perceiver-autoencode: frame fitting and stereo audio") {
  // 16×12 frames are centre-cropped to 12×12 and resized to 8×8; a stereo file is mixed to mono.
  const Clip clip = make_clip(2, 16, 16, 12);
  const std::string stereo = clip.dir + "/stereo.wav";
  {
    // A 16-bit stereo WAV written byte by byte: left = v, right = −v/2, so mono = v/4.
    std::ofstream out(stereo, std::ios::binary);
    auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xff)); };
    auto u16 = [&](uint16_t v) { for (int i = 0; i < 2; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xff)); };
    out.write("RIFF", 4);
    u32(36 + 16 * 4);
    out.write("WAVEfmt ", 8);
    u32(16);
    u16(1);
    u16(2);
    u32(kRate);
    u32(kRate * 4);
    u16(4);
    u16(16);
    out.write("data", 4);
    u32(16 * 4);
    for (int i = 0; i < 16; ++i) {
      u16(static_cast<uint16_t>(static_cast<int16_t>(i * 1000)));
      u16(static_cast<uint16_t>(static_cast<int16_t>(-i * 500)));
    }
  }
  const auto r = test::run_command(autoencode("--json --video " + clip.frames + " --audio " + stereo + " -o " + clip.dir +
                                              "/o --raw " + clip.dir + "/raw.safetensors"));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(load_image(clip.dir + "/o/frames/000000.png").width == 8);
  CHECK(load_image(clip.dir + "/o/compare.png").width == 18);

  // Same result as the library on the mixed-down audio and the fitted frames.
  auto weights = open_model_weights(model_dir());
  const ClipAutoencoder model(load_config(model_dir() + "/config.json"), *weights);
  Tensor video = Tensor::f32({2, 3, 8, 8}), audio = Tensor::f32({16});
  for (int t = 0; t < 2; ++t) {
    char name[32];
    std::snprintf(name, sizeof name, "/%06d.png", t);
    frame_to_unit_floats(fit_frame(load_image(clip.frames + name), 8, 8), video.mutable_data<float>() + t * 192);
  }
  for (int i = 0; i < 16; ++i) audio.mutable_data<float>()[i] = static_cast<float>((i * 1000 - i * 500) / 2.0 / 32768);
  const WindowReconstruction expected = model.reconstruct(video, audio, 1000);
  const SafetensorsFile raw = read_safetensors(clip.dir + "/raw.safetensors");
  CHECK(relative_diff(*raw.find("audio"), expected.audio) <= 1e-6);
  CHECK(relative_diff(*raw.find("video"), expected.video) <= 1e-6);
}

TEST_CASE("perceiver-autoencode: bad inputs give one-line errors and documented exit codes") {
  const Clip clip = make_clip(2, 16);
  const std::string video = " --video " + clip.frames, audio = " --audio " + clip.audio;

  auto r = test::run_command(autoencode(video + " --audio " + clip.dir + "/missing.wav"));
  CHECK(r.exit_code == 7);
  CHECK(r.err == "perceiver-autoencode: error: " + clip.dir + "/missing.wav: cannot open the file\n");

  r = test::run_command(autoencode(video));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no audio") != std::string::npos);

  r = test::run_command(autoencode(" --video " + clip.dir + "/nothing" + audio));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find(clip.dir + "/nothing: not a directory of frames") != std::string::npos);

  test::write_text(clip.dir + "/not-audio.wav", "RIFF but not really a wave file");
  r = test::run_command(autoencode(video + " --audio " + clip.dir + "/not-audio.wav"));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find(clip.dir + "/not-audio.wav: cannot read audio") != std::string::npos);

  // An unreadable frame, a frame of another size: reported before anything is written.
  const Clip bad = make_clip(2, 16);
  test::write_text(bad.frames + "/000001.png", "not a PNG");
  r = test::run_command(autoencode(" --video " + bad.frames + audio + " -o " + bad.dir + "/out"));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find(bad.frames + "/000001.png: not a readable image") != std::string::npos);
  CHECK_FALSE(fs::exists(bad.dir + "/out"));
  write_png(bad.frames + "/000001.png", pattern_frame(10, 8, 1));
  r = test::run_command(autoencode(" --video " + bad.frames + audio));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find(bad.frames + "/000001.png: frame is 10×8, but the first frame") != std::string::npos);

  // Shorter than one window.
  const Clip one_frame = make_clip(1, 16);
  r = test::run_command(autoencode(" --video " + one_frame.frames + " --audio " + one_frame.audio));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("shorter than one model window: it needs 2 frames and 16 audio samples") != std::string::npos);
  const Clip short_audio = make_clip(2, 10);
  r = test::run_command(autoencode(" --video " + short_audio.frames + " --audio " + short_audio.audio));
  CHECK(r.exit_code == 7);

  // An empty folder, a list file, a wrong model, an unwritable output.
  const std::string empty = test::temp_dir();
  r = test::run_command(autoencode(" --video " + empty + audio));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("no frames") != std::string::npos);
  test::write_text(clip.dir + "/list.txt", clip.frames + "/000001.png\n" + clip.frames + "/000000.png\n");
  r = test::run_command(autoencode(" --video @" + clip.dir + "/list.txt" + audio));
  CHECK(r.exit_code == 0);
  r = test::run_command(test::bin_dir() + "/perceiver-autoencode -q -m " + test::golden_dir() + "/vision_fourier" + video + audio);
  CHECK(r.exit_code == 6);
  test::write_text(clip.dir + "/file", "x");
  r = test::run_command(autoencode(video + audio + " -o " + clip.dir + "/file/out"));
  CHECK(r.exit_code == 8);
  r = test::run_command(autoencode(video + audio + " --compare-frame 2"));
  CHECK(r.exit_code == 2);
  r = test::run_command(autoencode(video + audio + " --max-audio-seconds 0.01"));
  CHECK(r.exit_code == 9);
  CHECK(r.err.find("--max-audio-seconds") != std::string::npos);
}

TEST_CASE("perceiver-autoencode: the sample clip (JPEG frames, 22.05 kHz speech) runs end to end") {
  const std::string clip = test::data_dir() + "/../../samples/clip";
  const std::string out = test::temp_dir();
  const auto r = test::run_command(autoencode("--json --video " + clip + "/frames --audio " + clip + "/speech.wav -o " + out));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json summary = nlohmann::json::parse(r.out);
  CHECK(summary["frames_total"] == 16);
  CHECK(summary["windows"] == 8);  // the golden model's window is 2 frames
  CHECK(summary["sample_rate"] == kRate);
  CHECK(load_image(out + "/frames/000015.png").width == 8);
  CHECK(load_audio(out + "/audio.wav").samples.size() == 128);
}
