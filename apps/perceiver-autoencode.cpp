// perceiver-autoencode: video + audio through the multimodal Perceiver IO (Kinetics-700
// autoencoder): reconstructed frames, reconstructed audio, predicted labels and PSNR.
//   perceiver-autoencode -m multimodal-perceiver/ --video frames/ --audio clip.wav -o recon/
// docs/autoencode.md describes the input policy, the windows, the outputs and the PSNR.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "cli/inputs.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/resume.h"
#include "cli/shard.h"
#include "cli/summary.h"
#include "common/atomic_file.h"
#include "kernels/runtime.h"
#include "media/audio.h"
#include "media/image.h"
#include "media/video_audio.h"
#include "media/labelled_comparison.h"
#include "media/video_frames.h"
#include "media/video_reader.h"
#include "media/video_writer.h"
#include "tasks/clip_autoencoder.h"
#include "tasks/top_labels.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

constexpr const char* kProgram = "perceiver-autoencode";

struct Options {
  std::string model_dir, video, audio, output, raw, save_inputs;
  double fps = 25;
  int64_t sample_rate = 0;  // 0: fps × audio_samples_per_frame
  bool no_resample = false, audio_float = false, json = false, quiet = false;
  int64_t chunk = 8192, top_k = 5, max_windows = 0, compare_frame = 0, max_pixels = 100'000'000;
  double max_audio_seconds = 1800;
  std::string shard;
  bool skip_existing = false;
  cli::ModelOptions model;  // threads, precision, weights-file limits
};

using Label = LabelScore;

// PSNR as JSON: a number, or null when infinite (identical) or undefined.
nlohmann::json psnr_json(double db) { return std::isfinite(db) ? nlohmann::json(db) : nlohmann::json(nullptr); }
std::string psnr_text(double db) {
  if (std::isinf(db)) return "inf dB (identical)";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f dB", db);
  return buffer;
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g s", seconds);
  return buffer;
}

std::string frame_name(int64_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%06lld.png", static_cast<long long>(index));
  return buffer;
}

int run(const Options& options) {
  cli::apply_model_options(options.model);
  if (options.model_dir.empty()) fail(ErrorKind::Usage, "no model folder: pass -m/--model DIR or set PERCEIVER_AUTOENCODE_MODEL");
  const PerceiverConfig config = load_config((fs::path(options.model_dir) / "config.json").string());
  if (config.architecture != "PerceiverForMultimodalAutoencoding")
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": holds a " + config.architecture +
                                       ", perceiver-autoencode needs a PerceiverForMultimodalAutoencoding model");

  // The model's audio rate: 25 fps × 1920 samples per frame = 48 kHz for the released model.
  const double implied_rate = options.fps * static_cast<double>(config.audio_samples_per_frame);
  int64_t model_rate = options.sample_rate;
  if (model_rate == 0) {
    model_rate = std::llround(implied_rate);
    if (std::fabs(implied_rate - static_cast<double>(model_rate)) > 1e-6)
      fail(ErrorKind::Usage, "--fps " + std::to_string(options.fps) + " × audio_samples_per_frame " +
                                 std::to_string(config.audio_samples_per_frame) + " is not a whole sample rate; give --sample-rate");
  }

  // One clip per run: the input list of --shard and the summary has one entry.
  const cli::Shard shard = cli::resolve_shard(options.shard);
  cli::BatchCounts counts;
  counts.total = cli::shard_range(1, shard).size();
  if (counts.total == 0) return cli::finish_batch(kProgram, counts, shard);  // the clip is another shard's
  // --skip-existing: summary.json is written after every other file of -o DIR (and --raw after it).
  const std::string summary_path = options.output.empty() ? "" : (fs::path(options.output) / "summary.json").string();
  if (options.skip_existing && cli::outputs_exist({summary_path, options.raw, options.save_inputs})) {
    counts.skipped = 1;
    return cli::finish_batch(kProgram, counts, shard);
  }

  if (!options.raw.empty()) check_output_path(options.raw);  // before any work
  if (!options.save_inputs.empty()) check_output_path(options.save_inputs);
  // Inputs first, all checked before anything is computed or written.
  if (options.video.empty()) fail(ErrorKind::Usage, "no video: pass --video DIR (a folder of frames), --video @LIST or a video file");
  // --video: a folder of frames, @LIST, or a video file (by its extension, or any other file
  // that is there and not a folder).
  std::error_code error;
  const bool video_file = has_video_extension(options.video) ||
                          (!options.video.empty() && options.video[0] != '@' && fs::exists(options.video, error) &&
                           !fs::is_directory(options.video, error));
  if (options.audio.empty() && !video_file) fail(ErrorKind::Usage, "no audio: pass --audio FILE (WAV, FLAC or OGG)");
  const std::string audio_source = options.audio.empty() ? options.video : options.audio;  // a video's own track
  ImageLimits image_limits;
  image_limits.max_pixels = options.max_pixels;
  std::vector<std::string> frames;  // a folder's or list's frame files
  int64_t frame_count = 0;
  VideoLimits video_limits;
  video_limits.max_pixels = options.max_pixels;
  Rational video_rate{0, 1};
  if (video_file) {
    // The frames are decoded as the windows need them; counting them (when the header does not)
    // means one decoding pass first.
    VideoReader probe(options.video, video_limits);
    video_rate = probe.info().frame_rate;
    frame_count = probe.info().frame_count;
    if (frame_count < 0) {
      VideoFrame frame;
      for (frame_count = 0; probe.next(frame);) ++frame_count;
    }
  } else {
    const bool is_list = options.video.size() > 1 && options.video[0] == '@';
    if (!is_list && !fs::is_directory(options.video))
      fail(ErrorKind::Input, options.video + ": not a directory of frames or a video file (give a folder of images, @LIST: a "
                                             "file with one frame path per line, or a .mp4/.mkv/.webm/.mov file)");
    cli::InputOptions input_options;
    input_options.extensions = cli::image_extensions();
    input_options.program = kProgram;
    frames = cli::expand_inputs({options.video}, input_options);
    if (frames.empty()) fail(ErrorKind::Input, (is_list ? options.video.substr(1) : options.video) + ": no frames (JPEG, PNG, BMP, GIF, TGA or PNM files) found");
    check_video_frames(frames, image_limits);
    frame_count = static_cast<int64_t>(frames.size());
  }

  AudioLimits audio_limits;
  audio_limits.max_frames = static_cast<int64_t>(options.max_audio_seconds * 192000);  // any rate up to 192 kHz
  if (!options.audio.empty()) {
    const AudioInfo info = probe_audio(options.audio);
    if (info.sample_rate > 0 && static_cast<double>(info.frames) > options.max_audio_seconds * static_cast<double>(info.sample_rate))
      fail(ErrorKind::Limit, options.audio + ": " + seconds_text(static_cast<double>(info.frames) / static_cast<double>(info.sample_rate)) +
                                 " of audio is more than the limit of " + seconds_text(options.max_audio_seconds) +
                                 " (raise it with --max-audio-seconds)");
  }
  Audio audio = options.audio.empty() ? load_video_audio(options.video, audio_limits) : load_audio(options.audio, audio_limits);
  if (audio.sample_rate != model_rate && options.no_resample)
    fail(ErrorKind::Input, audio_source + ": sampled at " + std::to_string(audio.sample_rate) + " Hz, but the model takes " +
                               std::to_string(model_rate) + " Hz (drop --no-resample to resample it, or give --sample-rate)");
  if (audio.sample_rate != model_rate) {
    if (!options.quiet)
      std::cerr << kProgram << ": resampling " << audio_source << " from " << audio.sample_rate << " Hz to " << model_rate
                << " Hz" << std::endl;
    audio.samples = resample_audio(audio.samples, audio.sample_rate, model_rate);
    audio.sample_rate = model_rate;
  }

  const auto weights = open_model_weights(options.model_dir, options.model.limits);
  const ClipAutoencoder model(config, *weights);
  weights->finish();
  const ClipGeometry& g = model.geometry();

  // Windows: consecutive, non-overlapping; what does not fill a whole window is dropped.
  const int64_t video_windows = frame_count / g.frames;
  const int64_t audio_windows = static_cast<int64_t>(audio.samples.size()) / g.samples;
  int64_t windows = std::min(video_windows, audio_windows);
  if (windows == 0)
    fail(ErrorKind::Input, "the clip is shorter than one model window: it needs " + std::to_string(g.frames) + " frames and " +
                               std::to_string(g.samples) + " audio samples (" + seconds_text(static_cast<double>(g.samples) / static_cast<double>(model_rate)) +
                               " at " + std::to_string(model_rate) + " Hz), got " + std::to_string(frame_count) +
                               " frames and " + std::to_string(audio.samples.size()) + " samples");
  if (options.max_windows > 0) windows = std::min(windows, options.max_windows);
  const int64_t used_frames = windows * g.frames, used_samples = windows * g.samples;
  if (!options.quiet && (frame_count > used_frames || static_cast<int64_t>(audio.samples.size()) > used_samples))
    std::cerr << kProgram << ": using " << windows << " window(s) of " << g.frames << " frames: " << used_frames << " of "
              << frame_count << " frames and " << used_samples << " of " << audio.samples.size()
              << " audio samples (the rest does not fill a window)" << std::endl;
  if (options.compare_frame < 0 || options.compare_frame >= used_frames)
    fail(ErrorKind::Usage, "--compare-frame " + std::to_string(options.compare_frame) + " is outside the " +
                               std::to_string(used_frames) + " frames used");

  const std::string out_dir = options.output;
  if (!out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(fs::path(out_dir) / "frames", ec);
    if (ec) fail(ErrorKind::Output, out_dir + ": cannot create the output folder (" + ec.message() + ")");
  }

  Tensor raw_video, raw_labels;
  if (!options.raw.empty()) {
    raw_video = Tensor::f32({used_frames, g.height, g.width, 3});
    raw_labels = Tensor::f32({windows, g.labels});
  }
  const int64_t pixels = g.height * g.width;
  // --save-inputs: each window's model inputs, named and laid out as perceiver-run takes them.
  std::unique_ptr<SafetensorsAppender> saved;
  nlohmann::json saved_windows = nlohmann::json::array();
  if (!options.save_inputs.empty())
    saved = std::make_unique<SafetensorsAppender>(
        options.save_inputs, std::vector<SafetensorsAppender::Column>{{"inputs.image", DType::F32, {g.frames, 3, g.height, g.width}},
                                                                      {"inputs.audio", DType::F32, {g.samples, 1}},
                                                                      {"inputs.label", DType::F32, {g.labels}}});
  cli::Progress progress(kProgram, static_cast<size_t>(windows), options.quiet, "windows");
  if (options.skip_existing && !out_dir.empty()) {
    std::vector<std::string> outputs = {summary_path, options.raw};
    for (const char* name : {"audio.wav", "labels.txt", "compare.png"}) outputs.push_back((fs::path(out_dir) / name).string());
    for (int64_t index = 0; index < used_frames; ++index)
      outputs.push_back((fs::path(out_dir) / "frames" / frame_name(index)).string());
    cli::remove_stale_temporaries(outputs);
  }
  // A video file: the frames are decoded in order as the windows take them; the reconstruction
  // (with its audio) and the side-by-side comparison are also written as videos at the
  // source's frame rate.
  std::unique_ptr<VideoReader> video_reader;
  std::unique_ptr<VideoWriter> recon_writer, compare_writer;
  std::optional<LabelledComparison> compare_layout;  // compare.mp4's frames
  if (video_file) {
    video_reader = std::make_unique<VideoReader>(options.video, video_limits);
    if (!out_dir.empty()) {
      VideoWriterOptions writer_options;
      writer_options.frame_rate = video_rate.num > 0 ? video_rate : Rational{std::llround(options.fps * 1000), 1000};
      writer_options.audio_sample_rate = model_rate;
      recon_writer = std::make_unique<VideoWriter>((fs::path(out_dir) / "reconstruction.mp4").string(), g.width, g.height, writer_options);
      writer_options.audio_sample_rate = 0;
      compare_layout.emplace(g.width, g.height, "input", "reconstruction");
      compare_writer = std::make_unique<VideoWriter>((fs::path(out_dir) / "compare.mp4").string(), compare_layout->width(),
                                                     compare_layout->height(), writer_options);
    }
  }
  const auto frame_name_of = [&](int64_t index) {
    return video_file ? options.video + " frame " + std::to_string(index + 1) : frames[static_cast<size_t>(index)];
  };
  const auto load_frame = [&](int64_t index) {
    if (!video_file) return load_image(frames[static_cast<size_t>(index)], image_limits);
    VideoFrame frame;
    if (!video_reader->next(frame))
      fail(ErrorKind::Input, options.video + ": the video ended at frame " + std::to_string(index) + " of " + std::to_string(frame_count));
    return std::move(frame.image);
  };
  // SIGINT/SIGTERM: the clip is abandoned between windows; the frames written so far are whole
  // files, summary.json (which --skip-existing looks for) is not written.
  struct AbandonedClip {};
  if (cli::interrupted()) {
    progress.finish();
    return cli::finish_batch(kProgram, counts, shard);
  }
  ClipResult clip;
  try {
    clip = reconstruct_clip(model, windows, load_frame, audio.samples, options.chunk, [&](const ClipWindow& window) {
      const int64_t w = window.index;
      if (saved) {  // the label input is all zeros: the model masks it
        saved->append(0, window.video->reshaped({1, g.frames, 3, g.height, g.width}));
        saved->append(1, window.audio->reshaped({1, g.samples, 1}));
        saved->append(2, Tensor::f32({1, g.labels}));
        std::vector<std::string> names;
        for (int64_t t = 0; t < g.frames; ++t) names.push_back(frame_name_of(w * g.frames + t));
        saved_windows.push_back({{"frames", names}, {"audio_samples", {w * g.samples, (w + 1) * g.samples}}});
      }
      if (!options.raw.empty()) {
        std::copy_n(window.reconstruction->video.data<float>(), g.frames * pixels * 3,
                    raw_video.mutable_data<float>() + w * g.frames * pixels * 3);
        std::copy_n(window.reconstruction->label.data<float>(), g.labels, raw_labels.mutable_data<float>() + w * g.labels);
      }
      if (!out_dir.empty()) {
        for (int64_t t = 0; t < g.frames; ++t) {
          const int64_t index = w * g.frames + t;
          const Image& frame = (*window.frames)[static_cast<size_t>(t)];
          const Image& input = (*window.inputs)[static_cast<size_t>(t)];
          write_png((fs::path(out_dir) / "frames" / frame_name(index)).string(), frame);
          if (index == options.compare_frame) write_png((fs::path(out_dir) / "compare.png").string(), side_by_side(input, frame));
          if (recon_writer) recon_writer->add_frame(frame);
          if (compare_writer) compare_writer->add_frame(compare_layout->compose(input, frame));
        }
      }
      progress.advance();
      if (w + 1 < windows && cli::interrupted()) throw AbandonedClip{};
    });
  } catch (const AbandonedClip&) {
    progress.finish();
    return cli::finish_batch(kProgram, counts, shard);
  }
  progress.finish();
  const std::vector<float>& recon_audio = clip.audio;
  const ErrorTotals& video_error = clip.video_error;
  const ErrorTotals& audio_error = clip.audio_error;
  const std::vector<std::vector<double>>& window_probabilities = clip.window_probabilities;

  // Clip-level labels: the mean of the windows' softmax probabilities.
  const std::vector<double>& clip_p = clip.label_probabilities;
  const std::vector<Label> top = top_labels(clip_p, options.top_k);
  auto label_name = [&](int64_t id) {
    auto it = config.id2label.find(id);
    return it == config.id2label.end() ? std::to_string(id) : it->second;
  };
  const double video_psnr = psnr_db(video_error.mse()), audio_psnr = psnr_db(audio_error.mse());

  nlohmann::json summary;
  summary["model"] = options.model_dir;
  summary["video"] = options.video;
  summary["audio"] = audio_source;
  summary["windows"] = windows;
  summary["frames_used"] = used_frames;
  summary["frames_total"] = frame_count;
  summary["audio_samples_used"] = used_samples;
  summary["audio_samples_total"] = audio.samples.size();
  summary["sample_rate"] = model_rate;
  summary["fps"] = static_cast<double>(model_rate) / static_cast<double>(g.samples_per_frame);
  summary["frame_size"] = {g.width, g.height};
  summary["psnr"] = {{"video_db", psnr_json(video_psnr)},
                     {"audio_db", psnr_json(audio_psnr)},
                     {"video_mse", video_error.mse()},
                     {"audio_mse", audio_error.mse()},
                     {"definition", "10*log10(1/MSE), MSE over every value of the used clip; reconstruction clamped "
                                    "to [0,1] (video) and [-1,1] (audio); reference = the model's input"}};
  nlohmann::json labels = nlohmann::json::array();
  for (const Label& l : top) labels.push_back({{"id", l.id}, {"label", label_name(l.id)}, {"p", l.p}});
  summary["labels"] = labels;
  nlohmann::json per_window = nlohmann::json::array();
  for (const auto& p : window_probabilities) {
    nlohmann::json entries = nlohmann::json::array();
    for (const Label& l : top_labels(p, options.top_k)) entries.push_back({{"id", l.id}, {"label", label_name(l.id)}, {"p", l.p}});
    per_window.push_back(entries);
  }
  summary["window_labels"] = per_window;

  std::ostringstream text;
  text << "windows: " << windows << " (" << used_frames << " frames " << g.width << "x" << g.height << ", " << used_samples
       << " audio samples at " << model_rate << " Hz)\n";
  text << "video PSNR: " << psnr_text(video_psnr) << "\naudio PSNR: " << psnr_text(audio_psnr)
       << "\n(PSNR = 10 log10(1 / MSE) over the whole clip, peak 1; docs/autoencode.md)\nlabels:\n";
  std::ostringstream label_text;
  for (size_t r = 0; r < top.size(); ++r) {
    char line[64];
    std::snprintf(line, sizeof line, "  %2zu  %8.4f  %5lld  ", r + 1, top[r].p, static_cast<long long>(top[r].id));
    label_text << line << label_name(top[r].id) << '\n';
  }
  text << label_text.str();

  if (recon_writer) {
    recon_writer->add_audio(recon_audio);
    recon_writer->finish();
    compare_writer->finish();
  }
  if (!out_dir.empty()) {
    write_audio((fs::path(out_dir) / "audio.wav").string(), Audio{model_rate, recon_audio},
                options.audio_float ? AudioEncoding::Float32 : AudioEncoding::Pcm16);
    write_file_atomically((fs::path(out_dir) / "labels.txt").string(), [&](std::ostream& out) { out << label_text.str(); });
    write_file_atomically((fs::path(out_dir) / "summary.json").string(),
                          [&](std::ostream& out) { out << summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n'; });
  }
  if (saved)
    saved->commit({{"tool", kProgram},
                   {"audio", audio_source},
                   {"sample_rate", std::to_string(model_rate)},
                   {"windows", saved_windows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
                   {"layout", "row w of each tensor is window w: inputs.image [frames, 3, H, W] in [0, 1] (the frames "
                              "fitted to the model), inputs.audio [samples, 1] (mono, at sample_rate), inputs.label "
                              "[labels] zeros (masked by the model)"}});
  if (!options.raw.empty()) {
    Tensor raw_audio = Tensor::f32({used_samples});
    std::copy(recon_audio.begin(), recon_audio.end(), raw_audio.mutable_data<float>());
    write_safetensors(options.raw, {{"video", raw_video}, {"audio", raw_audio}, {"label", raw_labels}});
  }
  if (options.json)
    std::cout << summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  else
    std::cout << text.str();
  std::cout.flush();
  if (!std::cout) fail(ErrorKind::Output, "standard output: write failed");
  counts.done = 1;
  return cli::finish_batch(kProgram, counts, shard);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Reconstruct a video clip and its audio with the multimodal Perceiver IO autoencoder, and predict\n"
      "Kinetics-700 labels. Video: a folder of frames (sorted by name) or @LIST; audio: WAV, FLAC or OGG.\n"
      "The clip is cut into windows of num_frames frames (16 for the released model) and their audio;\n"
      "what does not fill a window is dropped. Outputs in -o DIR: frames/NNNNNN.png, audio.wav,\n"
      "labels.txt, summary.json (PSNR, labels), compare.png (input | reconstruction); with a video file\n"
      "also reconstruction.mp4 (with the reconstructed audio) and compare.mp4. docs/autoencode.md.",
      kProgram};
  Options options;
  app.add_option("-m,--model", options.model_dir, "model folder (config.json + model.safetensors)")
      ->envname("PERCEIVER_AUTOENCODE_MODEL");
  app.add_option("--video", options.video,
                 "folder of frames (sorted by file name), @LIST (one path per line), or a video file (.mp4, .mkv, .webm, .mov, ...)");
  app.add_option("--audio", options.audio,
                 "audio file (WAV, FLAC, OGG; channels are averaged to mono); default with a video file: its own audio track");
  app.add_option("-o,--output", options.output, "output folder (created); without it only the summary is printed");
  app.add_option("--fps", options.fps, "frame rate of the model's video (the released model: 25)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--sample-rate", options.sample_rate,
                 "the model's audio rate in Hz (default: fps × audio_samples_per_frame = 48000 for the released model)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-resample", options.no_resample, "refuse audio at another rate instead of resampling it");
  app.add_option("--chunk", options.chunk, "output points (queries) per decoder call; bounds memory")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("-k,--top-k", options.top_k, "labels to show (0 = all)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--max-windows", options.max_windows, "process at most this many windows (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--compare-frame", options.compare_frame, "frame (index among those used) shown in compare.png")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--raw", options.raw, "also write the unclamped float reconstruction to this .safetensors file");
  app.add_option("--save-inputs", options.save_inputs,
                 "also write what the model saw to this .safetensors file: inputs.image, inputs.audio, inputs.label "
                 "per window, as perceiver-run takes them (docs/images.md)");
  app.add_flag("--audio-float", options.audio_float, "write audio.wav as 32-bit float instead of 16-bit PCM");
  app.add_flag("--json", options.json, "print the summary as one JSON line instead of text");
  app.add_option("--max-pixels", options.max_pixels, "largest frame accepted (width × height)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-audio-seconds", options.max_audio_seconds, "longest audio file accepted")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli::add_skip_existing_flag(app, options.skip_existing,
                              "do nothing when the clip's outputs exist (-o DIR/summary.json, which is written last, "
                              "--raw FILE and --save-inputs FILE)");
  cli::add_shard_option(app, options.shard);
  app.add_flag("-q,--quiet", options.quiet, "no progress or notes on stderr");
  cli::add_model_options(app, options.model);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] { return run(options); });
}
