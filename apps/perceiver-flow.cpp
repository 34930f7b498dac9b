// perceiver-flow: optical flow between frames with the Perceiver IO optical-flow model, at any
// resolution (tiled as docs/flow.md describes), written as Middlebury .flo files in pixels.
//   perceiver-flow -m optical-flow-perceiver/ frame1.png frame2.png -o flow.flo --color flow.png
//   perceiver-flow -m optical-flow-perceiver/ --frames shots/clip01/ -o out/ [--gt gt/clip01/]
//   perceiver-flow -m optical-flow-perceiver/ --pairs pairs.txt -o out/
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <iostream>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "adapters/flow_patches.h"
#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "cli/app_options.h"
#include "common/atomic_file.h"
#include "common/escape.h"
#include "cli/exit_codes.h"
#include "cli/flow_report.h"
#include "cli/inputs.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/resume.h"
#include "cli/shard.h"
#include "cli/summary.h"
#include "kernels/runtime.h"
#include "media/flo.h"
#include "media/flow_color.h"
#include "media/flow_datasets.h"
#include "media/flow_error_map.h"
#include "media/flow_formats.h"
#include "media/flow_metrics.h"
#include "media/video_reader.h"
#include "media/video_writer.h"
#include "media/image.h"
#include "tasks/flow_estimator.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

// Thrown from the tile callback when SIGINT/SIGTERM arrives during a pair.
struct AbandonedPair {};

constexpr const char* kProgram = "perceiver-flow";

struct Options {
  std::string model_dir, frames_dir, pairs_file, sintel_dir, kitti_dir, pass = "clean";
  std::string output, color, gt, error_map, color_key, color_video;
  std::string flow_format = "flo";  // of the flows in an output folder
  std::vector<std::string> inputs;
  int64_t max_pixels = 100'000'000;
  std::string color_max;  // empty: each picture's largest flow; a number; or "auto": one for all pairs
  double error_max = 0;
  std::string shard, save_inputs;
  bool quiet = false, skip_existing = false, json = false;
  int64_t start = 1, every = 1, max_frames = 1'000'000;  // a video's frame selection (1-based, as ffmpeg's %06d)
  cli::ModelOptions model;  // threads, precision, weights-file limits
};

struct Pair {
  std::string set, group;  // dataset modes: what the metric lines are about
  std::string first, second;
  std::string flo, png, error_png;  // outputs; empty = none
  std::string gt, gt_noc;           // ground truth; empty = none
};

constexpr int64_t kColorKeySize = 256;

bool dataset_mode(const Options& options) { return !options.sintel_dir.empty() || !options.kitti_dir.empty(); }

std::string flow_extension(const Options& options) { return "." + options.flow_format; }

// `relative` with its extension replaced (dataset outputs: frame_0001.flo -> frame_0001.png).
std::string with_extension(const std::string& relative, const std::string& extension) {
  return fs::path(relative).replace_extension(extension).string();
}

std::string stem(const std::string& path) { return fs::path(path).stem().string(); }

// A file path for a single pair: the argument itself, or <argument>/<stem><ext> for a directory.
std::string single_output(const std::string& argument, const std::string& first, const std::string& extension) {
  if (argument.empty()) return argument;
  std::error_code error;
  if (fs::is_directory(argument, error)) return (fs::path(argument) / (stem(first) + extension)).string();
  return argument;
}

std::string in_directory(const std::string& dir, const std::string& first, const std::string& extension) {
  return dir.empty() ? dir : (fs::path(dir) / (stem(first) + extension)).string();
}

// "FIRST<TAB>SECOND", or two whitespace-separated paths on a line without a tab.
std::vector<std::pair<std::string, std::string>> read_pair_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::Input, path + ": cannot open the list file");
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> fields;
    if (line.find('\t') != std::string::npos) {
      std::istringstream split(line);
      for (std::string field; std::getline(split, field, '\t');)
        if (!field.empty()) fields.push_back(field);
    } else {
      std::istringstream split(line);
      for (std::string field; split >> field;) fields.push_back(field);
    }
    if (fields.size() != 2)
      fail(ErrorKind::Input, path + ":" + std::to_string(number) + ": expected two frame paths (FIRST<TAB>SECOND), found " +
                                 std::to_string(fields.size()) + " fields");
    pairs.emplace_back(fields[0], fields[1]);
  }
  return pairs;
}

// The outputs of a batch go into folders (created here, before any work); two outputs must not
// share a path (a KITTI flow PNG and a colour PNG in one folder would).
void check_batch_outputs(const std::vector<Pair>& pairs) {
  std::map<std::string, std::string> owners;
  for (const Pair& pair : pairs)
    for (const auto& [path, role] : {std::pair{&pair.flo, "the flow"}, std::pair{&pair.png, "the colour picture"},
                                     std::pair{&pair.error_png, "the error map"}}) {
      if (path->empty()) continue;
      const std::string key = fs::absolute(*path).lexically_normal().string();
      const std::string what = std::string(role) + " of " + pair.first;
      const auto [it, added] = owners.emplace(key, what);
      if (!added)
        fail(ErrorKind::Usage, "'" + *path + "' would be written twice: as " + it->second + " and as " + what +
                                   " (give -o, --color and --error-map different folders or formats)");
    }
  std::set<fs::path> folders;
  for (const auto& [path, owner] : owners) folders.insert(fs::path(path).parent_path());
  for (const fs::path& folder : folders) {
    std::error_code error;
    fs::create_directories(folder, error);
    if (error || !fs::is_directory(folder)) fail(ErrorKind::Output, folder.string() + ": cannot create the output directory");
  }
}

std::vector<Pair> dataset_pairs(const Options& options) {
  if (!options.gt.empty()) fail(ErrorKind::Usage, "--gt is not used with --sintel/--kitti: the ground truth comes from the dataset's tree");
  const bool sintel = !options.sintel_dir.empty();
  const std::vector<FlowDatasetPair> listed =
      sintel ? sintel_pairs(options.sintel_dir, sintel_passes(options.pass)) : kitti_pairs(options.kitti_dir);
  std::vector<Pair> pairs;
  for (const FlowDatasetPair& d : listed) {
    Pair pair{d.set, d.group, d.first, d.second, "", "", "", d.truth, d.truth_noc};
    // The dataset's own tree and format: Sintel .flo, KITTI 16-bit PNG.
    if (!options.output.empty()) pair.flo = (fs::path(options.output) / d.output).string();
    if (!options.color.empty()) pair.png = (fs::path(options.color) / with_extension(d.output, ".png")).string();
    if (!options.error_map.empty() && !d.truth.empty())
      pair.error_png = (fs::path(options.error_map) / with_extension(d.output, ".png")).string();
    pairs.push_back(std::move(pair));
  }
  if (options.output.empty() && options.color.empty() && pairs.front().gt.empty() && options.save_inputs.empty())
    fail(ErrorKind::Usage, "nothing to do: this split has no ground truth to evaluate; give -o OUT/ for the flows");
  check_batch_outputs(pairs);
  return pairs;
}

std::vector<Pair> make_pairs(const Options& options) {
  const int modes = !options.inputs.empty() + !options.frames_dir.empty() + !options.pairs_file.empty() +
                    !options.sintel_dir.empty() + !options.kitti_dir.empty();
  if (modes != 1)
    fail(ErrorKind::Usage, "give exactly one of: two frame files, --frames DIR, --pairs LIST, --sintel DIR, --kitti DIR");
  if (dataset_mode(options)) return dataset_pairs(options);
  if (options.output.empty() && options.color.empty() && options.gt.empty() && options.save_inputs.empty())
    fail(ErrorKind::Usage, "nothing to do: give -o/--output, --color, --gt and/or --save-inputs");
  if (!options.error_map.empty() && options.gt.empty()) fail(ErrorKind::Usage, "--error-map needs --gt (the error is against the ground truth)");
  std::vector<Pair> pairs;
  if (!options.inputs.empty()) {
    if (options.inputs.size() != 2)
      fail(ErrorKind::Usage, "give two frame files (got " + std::to_string(options.inputs.size()) +
                                 "); use --frames DIR or --pairs LIST for more");
    const std::string& first = options.inputs[0];
    Pair pair;
    pair.first = first;
    pair.second = options.inputs[1];
    pair.flo = single_output(options.output, first, flow_extension(options));
    pair.png = single_output(options.color, first, ".png");
    pair.error_png = single_output(options.error_map, first, ".png");
    pair.gt = single_output(options.gt, first, ".flo");
    if (!pair.flo.empty()) flow_output_format_of(pair.flo);  // a usage error before any work
    for (const std::string* a : {&pair.flo, &pair.png, &pair.error_png})
      for (const std::string* b : {&pair.flo, &pair.png, &pair.error_png})
        if (a < b && !a->empty() && *a == *b) fail(ErrorKind::Usage, "'" + *a + "' is given for two outputs");
    pairs.push_back(pair);
    return pairs;
  }
  std::vector<std::pair<std::string, std::string>> frames;
  if (!options.frames_dir.empty()) {
    std::error_code error;
    if (!fs::is_directory(options.frames_dir, error))
      fail(ErrorKind::Input, options.frames_dir + ": not a directory (--frames takes a folder of frames)");
    cli::InputOptions input_options;
    input_options.extensions = cli::image_extensions();
    input_options.program = kProgram;
    const auto files = cli::expand_inputs({options.frames_dir}, input_options);
    if (files.size() < 2)
      fail(ErrorKind::Input, options.frames_dir + ": holds " + std::to_string(files.size()) +
                                 " image file(s); a flow needs at least two frames");
    for (size_t i = 0; i + 1 < files.size(); ++i) frames.emplace_back(files[i], files[i + 1]);
  } else {
    frames = read_pair_list(options.pairs_file);
    if (frames.empty()) fail(ErrorKind::Input, options.pairs_file + ": lists no pairs");
  }
  // One output per pair, named after its first frame: two pairs must not share a name.
  std::map<std::string, std::string> names;
  for (const auto& [first, second] : frames) {
    const auto [it, added] = names.emplace(stem(first), first);
    if (!added && (!options.output.empty() || !options.color.empty() || !options.error_map.empty()))
      fail(ErrorKind::Usage, "the outputs of '" + it->second + "' and '" + first + "' would both be named " + stem(first) +
                                 flow_extension(options) + "; give pairs whose first frames have different names");
    Pair pair;
    pair.first = first;
    pair.second = second;
    pair.flo = in_directory(options.output, first, flow_extension(options));
    pair.png = in_directory(options.color, first, ".png");
    pair.error_png = in_directory(options.error_map, first, ".png");
    pair.gt = in_directory(options.gt, first, ".flo");
    pairs.push_back(pair);
  }
  check_batch_outputs(pairs);
  return pairs;
}

// Loads a frame, reusing the previous one when a frame directory makes it the next pair's first.
class FrameCache {
 public:
  explicit FrameCache(const ImageLimits& limits) : limits_(limits) {}
  const Image& get(const std::string& path) {
    for (auto& [name, image] : slots_)
      if (name == path) return image;
    slots_[next_] = {path, load_image(path, limits_)};
    const Image& image = slots_[next_].second;
    next_ = 1 - next_;
    return image;
  }

 private:
  ImageLimits limits_;
  std::pair<std::string, Image> slots_[2];
  int next_ = 0;
};

std::string size_text(const Image& image) { return std::to_string(image.width) + "×" + std::to_string(image.height); }

std::string format_epe(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

// --color-max: empty (each picture's own largest flow), a number of pixels, or "auto".
double fixed_color_max(const Options& options) {
  if (options.color_max.empty() || options.color_max == "auto") return 0;
  try {
    size_t used = 0;
    const double value = std::stod(options.color_max, &used);
    if (used == options.color_max.size() && value >= 0 && std::isfinite(value)) return value;  // 0: as unset
  } catch (const std::exception&) {
  }
  fail(ErrorKind::Usage, "--color-max '" + options.color_max + "': give a flow magnitude in pixels or auto");
}

std::string pixels_text(double value) {
  char text[48];
  std::snprintf(text, sizeof text, "%.4f px", value);
  return text;
}

// The colour picture, with the magnitude it was normalised by printed and kept in its tEXt.
void write_color(const Options& options, const std::string& path, const FlowField& flow, double color_max) {
  const double scale = color_scale(flow, color_max);
  write_png(path, flow_to_color(flow, color_max),
            {{"perceiver-flow color scale", pixels_text(scale) + " (flow magnitude drawn at full saturation)"}});
  if (!options.quiet) std::cerr << kProgram << ": " << escape_control(path) << ": colour scale " << pixels_text(scale) << std::endl;
}

void write_error_map(const Options& options, const std::string& path, const FlowField& flow, const FlowField& truth) {
  double scale = options.error_max > 0 ? options.error_max : largest_end_point_error(flow, truth);
  if (!(scale > 0)) scale = 1;  // an exact flow: every pixel at the bottom of the map
  write_png(path, flow_error_map(flow, truth, scale),
            {{"perceiver-flow error scale", pixels_text(scale) + " (end-point error drawn at the top of the map)"}});
  if (!options.quiet) std::cerr << kProgram << ": " << escape_control(path) << ": error scale " << pixels_text(scale) << std::endl;
}

void write_color_key(const Options& options) {
  const double color_max = fixed_color_max(options);
  write_png(options.color_key, flow_color_key(kColorKeySize),
            {{"perceiver-flow color scale", color_max > 0 ? pixels_text(color_max) + " at the edge of the disk"
                                                          : "the edge of the disk is each picture's own scale"}});
}

// One video of a run (perceiver-flow VIDEO… -o DIR/): where its outputs go. With one video the
// folders are the ones given; with several, each video has a subfolder of each named after its
// stem (clip.mp4 -> DIR/clip/NNNNNN.flo) and --color-video is a folder of <stem>.mp4 files.
struct VideoJob {
  std::string path, output, color, error_map, gt, color_video;
  int64_t pairs = -1;  // pairs of its selection, when counted (--shard); -1: not counted
};

void create_output_folders(const std::vector<std::string>& folders) {
  for (const std::string& dir : folders) {
    if (dir.empty()) continue;
    std::error_code error;
    fs::create_directories(dir, error);
    if (error || !fs::is_directory(dir)) fail(ErrorKind::Output, dir + ": cannot create the output directory");
  }
}

FrameSelection video_selection(const Options& options) {
  FrameSelection selection;
  selection.start = options.start;
  selection.every = options.every;
  if (!options.frames_dir.empty()) {
    try {
      size_t used = 0;
      selection.count = std::stoll(options.frames_dir, &used);
      if (used != options.frames_dir.size() || selection.count < 2) throw std::invalid_argument("");
    } catch (const std::exception&) {
      fail(ErrorKind::Usage, "--frames '" + options.frames_dir + "': with a video, --frames N is a number of frames (at least 2)");
    }
  }
  return selection;
}

VideoLimits video_limits(const Options& options) {
  VideoLimits limits;
  limits.max_pixels = options.max_pixels;
  limits.max_frames = options.max_frames;
  return limits;
}

std::vector<VideoJob> make_video_jobs(const Options& options) {
  if (!options.frames_dir.empty()) video_selection(options);  // a usage error before any work
  if (options.output.empty() && options.color.empty() && options.gt.empty() && options.color_video.empty() &&
      options.save_inputs.empty())
    fail(ErrorKind::Usage, "nothing to do: give -o DIR/, --color DIR/, --color-video FILE.mp4, --gt DIR/ and/or --save-inputs");
  if (!options.error_map.empty() && options.gt.empty()) fail(ErrorKind::Usage, "--error-map needs --gt (the error is against the ground truth)");
  const bool several = options.inputs.size() > 1;
  std::error_code error;
  if (several && has_video_extension(options.color_video))
    fail(ErrorKind::Usage, "--color-video '" + options.color_video + "': with several videos it is a folder (of <stem>.mp4 files)");
  const bool color_video_folder = !options.color_video.empty() && (several || fs::is_directory(options.color_video, error));
  if (!options.color_video.empty() && !color_video_folder) check_output_path(options.color_video);
  std::map<std::string, std::string> stems;
  std::vector<VideoJob> jobs;
  for (const std::string& path : options.inputs) {
    const std::string name = stem(path);
    if (several) {
      const auto [it, added] = stems.emplace(name, path);
      if (!added)
        fail(ErrorKind::Usage, "'" + it->second + "' and '" + path + "' would share the output folders " + name +
                                   "/; give videos with different names");
    }
    const auto folder = [&](const std::string& dir) { return dir.empty() || !several ? dir : (fs::path(dir) / name).string(); };
    VideoJob job{path, folder(options.output), folder(options.color), folder(options.error_map), folder(options.gt), ""};
    if (!options.color_video.empty())
      job.color_video = color_video_folder ? (fs::path(options.color_video) / (name + ".mp4")).string() : options.color_video;
    jobs.push_back(job);
  }
  if (color_video_folder) create_output_folders({options.color_video});
  return jobs;
}

// Pairs of a video's selection: its selected frames decoded once (converted too: a few
// milliseconds a frame against seconds for a flow), less one.
int64_t count_video_pairs(const VideoJob& job, const Options& options) {
  VideoReader reader(job.path, video_limits(options), video_selection(options));
  VideoFrame frame;
  int64_t frames = 0;
  while (reader.next(frame)) ++frames;
  return std::max<int64_t>(0, frames - 1);
}

// Pairs the header of a video promises (0 when it does not say).
int64_t expected_video_pairs(const VideoInfo& info, const FrameSelection& selection) {
  if (info.frame_count <= 0) return 0;
  int64_t pairs = std::max<int64_t>(0, (info.frame_count - selection.start) / selection.every);
  if (selection.count > 0) pairs = std::min(pairs, selection.count - 1);
  return pairs;
}

std::string frame_stem(int64_t number) {
  char text[32];
  std::snprintf(text, sizeof text, "%06lld", static_cast<long long>(number));
  return text;
}

// The pair of a video starting at frame `first` (its outputs named after it); the frames are
// named VIDEO:NNNNNN in messages, EPE lines and --save-inputs' metadata.
Pair video_pair(const VideoJob& job, const Options& options, int64_t first, int64_t second) {
  const std::string name = frame_stem(first);
  const auto in = [&](const std::string& dir, const std::string& extension) {
    return dir.empty() ? dir : (fs::path(dir) / (name + extension)).string();
  };
  Pair pair;
  pair.first = job.path + ":" + name;
  pair.second = job.path + ":" + frame_stem(second);
  pair.flo = in(job.output, flow_extension(options));
  pair.png = in(job.color, ".png");
  pair.error_png = in(job.error_map, ".png");
  pair.gt = in(job.gt, ".flo");
  return pair;
}

// --color-video: the colour-wheel flow of each pair of one video as one frame of an MP4 at the
// source frame rate (over --every), all drawn with one scale: --color-max when given (frames are
// encoded as they come), else the largest flow of the whole clip, known only at its end, so the
// flows are kept as files until then: the -o .flo files, or a temporary folder beside the video
// file, removed afterwards. Written whole at finish(), or not at all.
class ColorVideo {
 public:
  ColorVideo(const std::string& path, Rational frame_rate, double fixed_scale)
      : path_(path), frame_rate_(frame_rate), fixed_scale_(fixed_scale) {}
  ~ColorVideo() {
    std::error_code error;
    if (!temporary_.empty()) fs::remove_all(temporary_, error);
  }
  ColorVideo(const ColorVideo&) = delete;
  ColorVideo& operator=(const ColorVideo&) = delete;

  // The flow of the next pair; `kept` is a .flo file holding it already (or empty).
  void add(const FlowField& flow, const std::string& kept) {
    if (!writer_) {
      VideoWriterOptions writer_options;
      writer_options.frame_rate = frame_rate_;
      writer_ = std::make_unique<VideoWriter>(path_, flow.width, flow.height, writer_options);
    }
    ++frames_;
    if (fixed_scale_ > 0) {
      writer_->add_frame(flow_to_color(flow, fixed_scale_));
      return;
    }
    largest_ = std::max(largest_, largest_flow_magnitude(flow));
    if (!kept.empty()) {
      flows_.push_back(kept);
      return;
    }
    if (temporary_.empty()) {
      // Beside the video file; for a device or FIFO (/dev/null, a pipe) in the temporary folder.
      std::error_code error;
      const bool regular = !fs::exists(path_, error) || fs::is_regular_file(path_, error);
      const fs::path folder = regular ? fs::path(path_).parent_path() : fs::temp_directory_path(error);
      std::string pattern = (folder / ("." + fs::path(path_).filename().string() + ".flows-XXXXXX")).string();
      if (pattern.front() != '/' && pattern.rfind(".", 0) != 0) pattern = "./" + pattern;
      if (!mkdtemp(pattern.data())) fail(ErrorKind::Output, path_ + ": cannot create a temporary folder beside it for the flows");
      temporary_ = pattern;
    }
    flows_.push_back((fs::path(temporary_) / (frame_stem(frames_) + ".flo")).string());
    write_flow_file(flows_.back(), flow);
  }

  // Encodes what is left and writes the file; returns the scale used.
  double finish(const FloLimits& limits) {
    if (!writer_) fail(ErrorKind::Input, path_ + ": no flow to draw");
    const double scale = fixed_scale_ > 0 ? fixed_scale_ : (largest_ > 0 ? largest_ : 1);
    for (const std::string& flo : flows_) writer_->add_frame(flow_to_color(read_flow_file(flo, limits), scale));
    writer_->finish();
    return scale;
  }
  int64_t frames() const { return frames_; }

 private:
  std::string path_;
  Rational frame_rate_;
  double fixed_scale_, largest_ = 0;
  std::unique_ptr<VideoWriter> writer_;
  std::vector<std::string> flows_;
  std::string temporary_;
  int64_t frames_ = 0;
};

int run(const Options& options) {
  cli::apply_model_options(options.model);
  fixed_color_max(options);  // a usage error before any work
  const bool color_auto = options.color_max == "auto";
  const bool nothing_but_key = !options.color_key.empty() && options.inputs.empty() && options.frames_dir.empty() &&
                               options.pairs_file.empty() && !dataset_mode(options);
  if (!options.color_key.empty()) {
    check_output_path(options.color_key);
    write_color_key(options);
    if (nothing_but_key) return cli::kExitOk;  // the key needs no model
  }
  if (options.model_dir.empty()) fail(ErrorKind::Usage, "no model folder: pass -m/--model DIR or set PERCEIVER_FLOW_MODEL");
  // One input that is not an image is a video whatever its name (a .m4a without a picture gets
  // "no video stream"); several are videos when their extensions say so.
  const auto image_file = [](const std::string& path) {
    std::string extension = fs::path(path).extension().string();
    for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto known = cli::image_extensions();
    return std::find(known.begin(), known.end(), extension) != known.end();
  };
  size_t videos_given = static_cast<size_t>(std::count_if(options.inputs.begin(), options.inputs.end(), has_video_extension));
  if (options.inputs.size() == 1 && !image_file(options.inputs[0])) videos_given = 1;
  const bool video = videos_given > 0;
  if (video && videos_given != options.inputs.size())
    fail(ErrorKind::Usage, "give two frame files or one or more video files, not both kinds");
  if (video && (!options.pairs_file.empty() || dataset_mode(options)))
    fail(ErrorKind::Usage, "video files are not used with --pairs, --sintel or --kitti");
  if (!video && !options.color_video.empty())
    fail(ErrorKind::Usage, "--color-video draws the flows of a video file: give one (or use --color DIR/ for PNGs)");
  const cli::Shard shard = cli::resolve_shard(options.shard);
  std::vector<VideoJob> jobs;
  std::vector<Pair> pairs;
  if (video) {
    jobs = make_video_jobs(options);
    if (!shard.whole() && !options.color_video.empty())
      fail(ErrorKind::Usage, "--color-video is not used with --shard: a shard holds only part of the clip's flows");
  } else {
    pairs = cli::select_shard(make_pairs(options), shard);
  }
  const bool batch = video || options.inputs.empty();
  if (color_auto && batch && !options.color.empty() && options.output.empty())
    fail(ErrorKind::Usage, "--color-max auto needs -o: the flows are read back to draw them all with one scale");

  const PerceiverConfig config = load_config((fs::path(options.model_dir) / "config.json").string());
  if (config.architecture != "PerceiverForOpticalFlow")
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": holds a " + config.architecture +
                                       ", perceiver-flow needs a PerceiverForOpticalFlow model");
  // Every output is checked before any work (a pair of large frames takes minutes).
  for (const Pair& pair : pairs)
    for (const std::string& output : {pair.flo, pair.png, pair.error_png})
      if (!output.empty()) check_output_path(output);
  if (!options.save_inputs.empty()) check_output_path(options.save_inputs);
  // A single video is opened before the model loads: a file that is not a video fails at once.
  std::unique_ptr<VideoReader> first_reader;
  if (jobs.size() == 1 && shard.whole()) first_reader = std::make_unique<VideoReader>(jobs[0].path, video_limits(options), video_selection(options));
  const auto weights = open_model_weights(options.model_dir, options.model.limits);
  const FlowEstimator estimator(config, *weights);
  weights->finish();
  // --save-inputs: every tile of every pair as perceiver-run takes it (docs/images.md).
  std::unique_ptr<SafetensorsAppender> saved;
  nlohmann::json saved_pairs = nlohmann::json::array();
  if (!options.save_inputs.empty())
    saved = std::make_unique<SafetensorsAppender>(
        options.save_inputs, std::vector<SafetensorsAppender::Column>{
                                 {"inputs", DType::F32, {2, kFlowPatchChannels, estimator.tile_height(), estimator.tile_width()}}});
  // The patches of each tile of a pair, appended; the pair's entry of the metadata.
  const auto save_pair = [&](const Pair& pair, const Image& first, const Image& second) {
    const TileGrid grid = estimator.grid(first.height, first.width);
    nlohmann::json origins = nlohmann::json::array();
    const int64_t start = saved->items(0);
    for (int64_t y0 : grid.ys)
      for (int64_t x0 : grid.xs) {
        saved->append(0, flow_patches(first, second, y0, x0, grid.tile_height, grid.tile_width));
        origins.push_back({y0, x0});
      }
    saved_pairs.push_back({{"first", pair.first}, {"second", pair.second}, {"width", first.width},
                           {"height", first.height}, {"tiles", origins}, {"start", start}});
  };

  ImageLimits image_limits;
  image_limits.max_pixels = options.max_pixels;
  FloLimits flo_limits;
  flo_limits.max_pixels = options.max_pixels;
  // With --color-max auto the colour pictures are drawn at the end, from the flows written.
  const bool colors_at_end = color_auto && batch && !options.color.empty();
  if (options.skip_existing && !video) {
    std::vector<std::string> outputs;
    for (const Pair& pair : pairs) outputs.push_back(pair.flo), outputs.push_back(pair.png), outputs.push_back(pair.error_png);
    cli::remove_stale_temporaries(outputs);
  }
  const bool kitti = !options.kitti_dir.empty();
  const bool noc = std::any_of(pairs.begin(), pairs.end(), [](const Pair& p) { return !p.gt_noc.empty(); });
  std::optional<cli::FlowReport> report;
  if (dataset_mode(options) && !pairs.empty() && !pairs.front().gt.empty())
    report.emplace(std::cout, options.json, kitti, noc);
  cli::BatchCounts counts;
  size_t evaluated = 0;
  double epe_sum = 0;
  std::vector<const Pair*> to_color;  // colours drawn at the end (--color-max auto)
  std::vector<Pair> video_to_color;   // the same for video pairs (made as the frames come)

  // One pair: its frames from `load_frames` (checked to be of one size), its flow computed (or,
  // with --skip-existing, read back when needed) and its outputs written. False when a signal
  // abandoned it; `flow_out` gets the flow when there is one.
  enum class Outcome { Done, Skipped, Failed, Abandoned };
  const auto handle_pair = [&](const Pair& pair, const std::function<void(Image&, Image&)>& load_frames,
                               FlowField* flow_out) -> Outcome {
    // --skip-existing: every file asked for is there (and, with ground truth, the flow to measure).
    const std::string color_output = colors_at_end ? std::string() : pair.png;
    const bool skip = options.skip_existing && cli::outputs_exist({pair.flo, color_output, pair.error_png}) &&
                      ((pair.gt.empty() && !flow_out) || !pair.flo.empty());
    try {
      std::optional<FlowField> truth, truth_noc;
      auto read_truth = [&](int64_t width, int64_t height) {
        for (auto [path, field] : {std::pair{&pair.gt, &truth}, std::pair{&pair.gt_noc, &truth_noc}}) {
          if (path->empty()) continue;
          *field = read_flow_file(*path, flo_limits);
          if ((*field)->width != width || (*field)->height != height)
            fail(ErrorKind::Input, *path + ": the ground truth is " + std::to_string((*field)->width) + "×" +
                                       std::to_string((*field)->height) + ", the frames are " + std::to_string(width) +
                                       "×" + std::to_string(height));
        }
      };
      FlowField flow;
      if (skip) {
        if (!pair.gt.empty() || flow_out) {  // the errors of the existing flow, as the first run printed them
          flow = read_flow_file(pair.flo, flo_limits);
          read_truth(flow.width, flow.height);
        }
        if (saved) {  // the file holds every pair's inputs, computed now or not
          Image first, second;
          load_frames(first, second);
          save_pair(pair, first, second);
        }
      } else {
        Image first, second;
        load_frames(first, second);
        read_truth(first.width, first.height);
        if (saved) save_pair(pair, first, second);
        // Only --save-inputs asked for: the model need not run.
        const bool needs_flow = !pair.flo.empty() || !pair.png.empty() || !pair.error_png.empty() || truth.has_value() || flow_out;
        if (!needs_flow) return Outcome::Done;
        // A signal abandons the pair between tiles (a large frame has many): nothing is written.
        // Progress inside one pair too: a pair of large frames has many tiles and takes minutes.
        cli::Progress tile_progress(kProgram, 0, options.quiet, "tiles of " + escape_control(pair.first));
        size_t tiles_done = 0;
        flow = estimator.estimate(first, second, [&](size_t done, size_t tiles) {
          tile_progress.set_total(tiles);
          tile_progress.advance(done - tiles_done);
          tiles_done = done;
          if (done < tiles && cli::interrupted()) throw AbandonedPair{};
        });
        tile_progress.finish();
        if (!pair.flo.empty()) write_flow_file(pair.flo, flow);
        if (!color_output.empty()) write_color(options, color_output, flow, fixed_color_max(options));
        if (!pair.error_png.empty() && truth) write_error_map(options, pair.error_png, flow, *truth);
      }
      if (truth) {
        FlowErrorSums epe, epe_noc;
        epe.add(flow, *truth);
        if (truth_noc) epe_noc.add(flow, *truth_noc);
        if (report) {
          report->add(pair.set, pair.group, epe, truth_noc ? &epe_noc : nullptr);
        } else {
          // A tab, newline or backslash in a frame's name is escaped: one pair per line, three fields.
          std::cout << escape_control(pair.first, true) << '\t' << escape_control(pair.second, true) << '\t'
                    << (epe.pixels ? format_epe(epe.epe()) : "nan") << std::endl;
          if (epe.pixels) epe_sum += epe.epe(), ++evaluated;
        }
      }
      if (flow_out) *flow_out = std::move(flow);
      return skip ? Outcome::Skipped : Outcome::Done;
    } catch (const AbandonedPair&) {
      return Outcome::Abandoned;  // counted as not done by the summary
    } catch (const Error& e) {
      if (!batch || (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit)) throw;
      std::string message = e.what();
      auto starts_with = [&](const std::string& path) { return !path.empty() && message.rfind(path, 0) == 0; };
      if (!starts_with(pair.first) && !starts_with(pair.second) && !starts_with(pair.gt) && !starts_with(pair.gt_noc) &&
          message.find(pair.first) == std::string::npos)
        message = pair.first + ", " + pair.second + ": " + message;
      cli::report_input_error(kProgram, message);
      return Outcome::Failed;
    }
  };
  const auto count = [&](Outcome outcome) {
    ++counts.total;
    if (outcome == Outcome::Done) ++counts.done;
    if (outcome == Outcome::Skipped) ++counts.skipped;
    if (outcome == Outcome::Failed) ++counts.failed;
  };

  if (!video) {
    FrameCache frames(image_limits);
    cli::Progress progress(kProgram, pairs.size(), options.quiet, "pairs");
    for (const Pair& pair : pairs) {
      if (cli::interrupted()) break;
      const Outcome outcome = handle_pair(
          pair,
          [&](Image& first, Image& second) {
            first = frames.get(pair.first);  // a copy: the cache may drop it on the next get
            second = frames.get(pair.second);
            if (first.width != second.width || first.height != second.height)
              fail(ErrorKind::Input, "the frames differ in size: " + pair.first + " is " + size_text(first) + ", " +
                                         pair.second + " is " + size_text(second));
          },
          nullptr);
      if (outcome == Outcome::Abandoned) break;
      count(outcome);
      if (colors_at_end && outcome != Outcome::Failed) to_color.push_back(&pair);
      progress.advance();
    }
    progress.finish();
    counts.total = pairs.size();
  } else {
    // --shard takes a block of all the videos' pairs, in order: each video's selection is
    // decoded once first to count them.
    const FrameSelection selection = video_selection(options);
    cli::Range range{0, std::numeric_limits<size_t>::max()};
    size_t expected = 0;
    if (!shard.whole()) {
      size_t total = 0;
      for (VideoJob& job : jobs) {
        try {
          job.pairs = count_video_pairs(job, options);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
          job.pairs = 0;  // reported by the shard that would have its pairs: the first one
          if (shard.index == 0) cli::report_input_error(kProgram, e.what()), ++counts.total, ++counts.failed;
        }
        total += static_cast<size_t>(job.pairs);
      }
      range = cli::shard_range(total, shard);
      expected = range.size();
    } else if (first_reader) {
      expected = static_cast<size_t>(expected_video_pairs(first_reader->info(), selection));
    }
    cli::Progress progress(kProgram, expected, options.quiet, "pairs");
    size_t index = 0;  // of the next pair over all the videos
    bool abandoned = false;
    for (VideoJob& job : jobs) {
      if (abandoned || cli::interrupted()) break;
      if (job.pairs >= 0 && (index >= range.end || index + static_cast<size_t>(job.pairs) <= range.begin)) {
        index += static_cast<size_t>(job.pairs);  // none of its pairs is in this shard
        continue;
      }
      int64_t failed = 0, pairs_of_video = 0;
      try {
        std::unique_ptr<VideoReader> reader = std::move(first_reader);
        if (!reader) reader = std::make_unique<VideoReader>(job.path, video_limits(options), selection);
        const VideoInfo& info = reader->info();
        create_output_folders({job.output, job.color, job.error_map});  // once the file is known to be a video
        std::optional<ColorVideo> color_video;
        if (!job.color_video.empty()) {
          Rational rate = info.frame_rate.num > 0 && info.frame_rate.den > 0 ? info.frame_rate : Rational{25, 1};
          rate.den *= selection.every;  // one flow per selected frame
          color_video.emplace(job.color_video, rate, fixed_color_max(options));
        }
        if (job.pairs < 0 && !shard.whole()) job.pairs = 0;
        VideoFrame first, second;
        if (!reader->next(first)) fail(ErrorKind::Input, job.path + ": no frame at or after frame " + std::to_string(selection.start));
        while (!cli::interrupted() && index < range.end && reader->next(second)) {
          ++pairs_of_video;
          if (range.contains(index++)) {
            Pair pair = video_pair(job, options, first.number, second.number);
            if (options.skip_existing) cli::remove_stale_temporaries({pair.flo, pair.png, pair.error_png});
            FlowField flow;
            const Outcome outcome = handle_pair(
                pair,
                [&](Image& a, Image& b) {
                  a = first.image;
                  b = second.image;
                },
                color_video ? &flow : nullptr);
            if (outcome == Outcome::Abandoned) {
              ++counts.total;  // not done: the summary says so
              abandoned = true;
              break;
            }
            count(outcome);
            failed += outcome == Outcome::Failed;
            if (color_video && outcome != Outcome::Failed) {
              const bool kept = !pair.flo.empty() && options.flow_format == "flo";
              color_video->add(flow, kept ? pair.flo : std::string());
            }
            if (colors_at_end && outcome != Outcome::Failed) video_to_color.push_back(pair);
            progress.advance();
          }
          first = std::move(second);
        }
        if (pairs_of_video == 0 && !abandoned && !cli::interrupted())
          fail(ErrorKind::Input, job.path + ": the selection holds one frame; a flow needs two");
        if (color_video && !abandoned && !cli::interrupted()) {
          if (failed > 0) {
            cli::report_input_error(kProgram, job.color_video + ": not written: " + std::to_string(failed) +
                                                  " of the video's pairs failed (above)");
          } else {
            const double scale = color_video->finish(flo_limits);
            if (!options.quiet)
              std::cerr << kProgram << ": " << escape_control(job.color_video) << ": " << color_video->frames()
                        << " frames, colour scale " << pixels_text(scale) << " for all of them" << std::endl;
          }
        }
      } catch (const Error& e) {
        // A video that cannot be read: with several, one line and on to the next.
        if (jobs.size() == 1 || (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit)) throw;
        cli::report_input_error(kProgram, e.what());
        ++counts.total, ++counts.failed;
        if (job.pairs > pairs_of_video) index += static_cast<size_t>(job.pairs - pairs_of_video);  // keep the shard's count
      }
    }
    progress.finish();
    // Stopped by a signal: the pairs still to come are not counted, but the run is not complete.
    if (cli::interrupted() && counts.complete()) ++counts.total;
    for (const Pair& pair : video_to_color) to_color.push_back(&pair);
  }
  if (report) report->finish();
  if (!options.gt.empty() && evaluated > 0)
    std::cout << "mean\t" << evaluated << " pairs\t" << format_epe(epe_sum / static_cast<double>(evaluated)) << std::endl;
  // --color-max auto: one scale, the largest flow of all the pairs, for every picture.
  if (!to_color.empty() && !cli::interrupted()) {
    double scale = 0;
    for (const Pair* pair : to_color) scale = std::max(scale, largest_flow_magnitude(read_flow_file(pair->flo, flo_limits)));
    if (!options.quiet)
      std::cerr << kProgram << ": colour scale for all " << to_color.size() << " pairs: " << pixels_text(scale) << std::endl;
    Options quiet_options = options;
    quiet_options.quiet = true;  // one scale: said once
    for (const Pair* pair : to_color) {
      if (cli::interrupted()) break;
      write_color(quiet_options, pair->png, read_flow_file(pair->flo, flo_limits), scale > 0 ? scale : 1);
    }
  }
  if (!std::cout) fail(ErrorKind::Output, "standard output: write failed");
  if (saved && counts.complete() && !cli::interrupted())
    saved->commit({{"tool", kProgram},
                   {"pairs", saved_pairs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
                   {"layout", "inputs[start + k] is tile k of the pair, the tile at (y0, x0) = tiles[k] of its first "
                              "frame, [2 frames, 27 patch channels, tile height, tile width]; pairs that fail are left out"}});
  return cli::finish_batch(kProgram, counts, shard);

}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Optical flow between two frames with the Perceiver IO optical-flow model, at any resolution.\n"
      "Inputs: two frame files; --frames DIR (every consecutive pair of its images, sorted by name);\n"
      "--pairs LIST (one pair per line: FIRST<TAB>SECOND); or a benchmark's own tree: --sintel DIR\n"
      "(MPI-Sintel training/ or test/) or --kitti DIR (KITTI 2015 training/ or testing/). Flow is in\n"
      "pixels of the first frame, u rightwards, v downwards. -o FILE: the format by its extension,\n"
      ".flo (Middlebury), .png (KITTI 16-bit) or .npy ([H, W, 2] float32); --color a colour-wheel PNG.\n"
      "With --frames/--pairs, -o, --color, --error-map and --gt are directories and files are named\n"
      "after the first frame (frame_0001.png -> frame_0001.flo). --gt prints the end-point error per\n"
      "pair (first<TAB>second<TAB>epe) and at the end 'mean<TAB>N pairs<TAB>epe'. --sintel/--kitti\n"
      "print EPE, px1/px3/px5 (and KITTI's Fl-all) per scene or image and for the whole set\n"
      "(docs/flow.md), and with -o OUT/ write the flows in the dataset's tree and format.",
      kProgram};
  Options options;
  app.add_option("pair", options.inputs, "FIRST SECOND: the two frames of one pair, or one VIDEO file (.mp4, .mkv, .webm, .mov, ...)");
  app.add_option("-m,--model", options.model_dir, "model folder (config.json + model.safetensors)")
      ->envname("PERCEIVER_FLOW_MODEL");
  app.add_option("--frames", options.frames_dir,
                 "a folder of frames: flow for every consecutive pair (with a VIDEO: the number of frames to take)");
  app.add_option("--start", options.start, "VIDEO: the first frame to take (1-based, as ffmpeg's %06d)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--every", options.every, "VIDEO: take every K-th frame from --start on")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-frames", options.max_frames, "VIDEO: the most frames a selection may hold")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--pairs", options.pairs_file, "a list file, one pair per line: FIRST<TAB>SECOND");
  app.add_option("--sintel", options.sintel_dir, "MPI-Sintel's training/ (or test/) folder: evaluate every pair of every scene");
  app.add_option("--pass", options.pass, "Sintel pass: clean, final or both")
      ->check(CLI::IsMember({"clean", "final", "both"}))
      ->capture_default_str();
  app.add_option("--kitti", options.kitti_dir, "KITTI 2015's training/ (or testing/) folder: evaluate every image pair");
  app.add_option("-o,--output", options.output,
                 "flow file, .flo/.png/.npy (one pair), or output directory (--frames/--pairs/--sintel/--kitti)");
  app.add_option("--flow-format", options.flow_format, "format of the flows in an -o directory (--frames/--pairs)")
      ->check(CLI::IsMember({"flo", "png", "npy"}))
      ->capture_default_str();
  app.add_option("--color", options.color, "colour-wheel PNG (one pair) or directory for them");
  app.add_option("--color-video", options.color_video,
                 "VIDEO: the colour-wheel flows as an MP4 at the source frame rate, one scale for the whole clip "
                 "(--color-max, else the clip's largest flow; printed); with several videos a folder of <stem>.mp4");
  app.add_option("--color-max", options.color_max,
                 "flow magnitude (pixels) drawn at full saturation; auto: one scale, the largest flow of all pairs "
                 "(default: each picture's largest)");
  app.add_option("--color-key", options.color_key, "write the colour-wheel key to this PNG (no model needed on its own)");
  app.add_option("--error-map", options.error_map,
                 "with ground truth: per-pixel end-point error as a PNG (one pair) or directory for them");
  app.add_option("--error-max", options.error_max, "end-point error (pixels) at the top of the error map (default: each map's largest)")
      ->check(CLI::PositiveNumber);
  app.add_option("--gt", options.gt,
                 "ground truth, .flo/.png (KITTI)/.pfm (one pair), or a folder of <first frame name>.flo: report EPE");
  app.add_flag("--json", options.json, "--sintel/--kitti: the metric lines as JSON lines");
  app.add_option("--max-pixels", options.max_pixels, "largest frame or flow file accepted (width × height)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli::add_skip_existing_flag(app, options.skip_existing,
                              "skip a pair whose outputs (-o, --color, --error-map) all exist; with ground truth its "
                              "errors are read from the existing flow file");
  app.add_option("--save-inputs", options.save_inputs,
                 "also write what the model saw to this .safetensors file: inputs [tiles, 2, 27, th, tw] float32, every "
                 "tile of every pair in order, as perceiver-run takes them (the tiles' pairs and origins in the "
                 "metadata; docs/images.md)");
  cli::add_shard_option(app, options.shard);
  app.add_flag("-q,--quiet", options.quiet, "no progress and no scale lines on stderr");
  cli::add_model_options(app, options.model);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] { return run(options); });
}
