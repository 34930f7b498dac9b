// perceiver-flow: optical flow between frames with the Perceiver IO optical-flow model, at any
// resolution (tiled as docs/flow.md describes), written as Middlebury .flo files in pixels.
//   perceiver-flow -m optical-flow-perceiver/ frame1.png frame2.png -o flow.flo --color flow.png
//   perceiver-flow -m optical-flow-perceiver/ --frames shots/clip01/ -o out/ [--gt gt/clip01/]
//   perceiver-flow -m optical-flow-perceiver/ --pairs pairs.txt -o out/
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "checkpoint/config.h"
#include "cli/app_options.h"
#include "common/atomic_file.h"
#include "common/escape.h"
#include "cli/exit_codes.h"
#include "cli/inputs.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/resume.h"
#include "cli/shard.h"
#include "cli/summary.h"
#include "kernels/runtime.h"
#include "media/flo.h"
#include "media/flow_color.h"
#include "media/flow_metrics.h"
#include "media/image.h"
#include "models/flow_estimator.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

// Thrown from the tile callback when SIGINT/SIGTERM arrives during a pair.
struct AbandonedPair {};

constexpr const char* kProgram = "perceiver-flow";

struct Options {
  std::string model_dir, frames_dir, pairs_file, output, color, gt;
  std::vector<std::string> inputs;
  int64_t max_pixels = 100'000'000;
  double color_max = 0;
  std::string shard;
  bool quiet = false, skip_existing = false;
  cli::ModelOptions model;  // threads, precision, weights-file limits
};

struct Pair {
  std::string first, second;
  std::string flo, png, gt;  // outputs and ground truth; empty = none
};

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

std::vector<Pair> make_pairs(const Options& options) {
  const int modes = !options.inputs.empty() + !options.frames_dir.empty() + !options.pairs_file.empty();
  if (modes != 1) fail(ErrorKind::Usage, "give exactly one of: two frame files, --frames DIR, --pairs LIST");
  if (options.output.empty() && options.color.empty() && options.gt.empty())
    fail(ErrorKind::Usage, "nothing to do: give -o/--output, --color and/or --gt");
  std::vector<Pair> pairs;
  if (!options.inputs.empty()) {
    if (options.inputs.size() != 2)
      fail(ErrorKind::Usage, "give two frame files (got " + std::to_string(options.inputs.size()) +
                                 "); use --frames DIR or --pairs LIST for more");
    const std::string& first = options.inputs[0];
    pairs.push_back({first, options.inputs[1], single_output(options.output, first, ".flo"),
                     single_output(options.color, first, ".png"), single_output(options.gt, first, ".flo")});
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
    if (!added && (!options.output.empty() || !options.color.empty()))
      fail(ErrorKind::Usage, "the outputs of '" + it->second + "' and '" + first + "' would both be named " + stem(first) +
                                 ".flo; give pairs whose first frames have different names");
    pairs.push_back({first, second, in_directory(options.output, first, ".flo"), in_directory(options.color, first, ".png"),
                     in_directory(options.gt, first, ".flo")});
  }
  for (const std::string* dir : {&options.output, &options.color}) {
    if (dir->empty()) continue;
    std::error_code error;
    fs::create_directories(*dir, error);
    if (error || !fs::is_directory(*dir)) fail(ErrorKind::Output, *dir + ": cannot create the output directory");
  }
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

int run(const Options& options) {
  cli::apply_model_options(options.model);
  if (options.model_dir.empty()) fail(ErrorKind::Usage, "no model folder: pass -m/--model DIR or set PERCEIVER_FLOW_MODEL");
  const cli::Shard shard = cli::resolve_shard(options.shard);
  const std::vector<Pair> pairs = cli::select_shard(make_pairs(options), shard);
  const bool batch = options.inputs.empty();

  const PerceiverConfig config = load_config((fs::path(options.model_dir) / "config.json").string());
  if (config.architecture != "PerceiverForOpticalFlow")
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": holds a " + config.architecture +
                                       ", perceiver-flow needs a PerceiverForOpticalFlow model");
  // Every output is checked before any work (a pair of large frames takes minutes).
  for (const Pair& pair : pairs)
    for (const std::string& output : {pair.flo, pair.png})
      if (!output.empty()) check_output_path(output);
  const auto weights = open_model_weights(options.model_dir, options.model.limits);
  const FlowEstimator estimator(config, *weights);
  weights->finish();

  ImageLimits image_limits;
  image_limits.max_pixels = options.max_pixels;
  FloLimits flo_limits;
  flo_limits.max_pixels = options.max_pixels;
  FrameCache frames(image_limits);
  if (options.skip_existing) {
    std::vector<std::string> outputs;
    for (const Pair& pair : pairs) outputs.push_back(pair.flo), outputs.push_back(pair.png);
    cli::remove_stale_temporaries(outputs);
  }
  cli::BatchCounts counts;
  counts.total = pairs.size();
  cli::Progress progress(kProgram, pairs.size(), options.quiet, "pairs");
  size_t evaluated = 0;
  double epe_sum = 0;
  for (const Pair& pair : pairs) {
    if (cli::interrupted()) break;
    // --skip-existing: every file asked for is there (and, with --gt, the .flo to measure).
    const bool skip = options.skip_existing && cli::outputs_exist({pair.flo, pair.png}) && (pair.gt.empty() || !pair.flo.empty());
    try {
      std::optional<FlowField> truth;
      auto read_truth = [&](int64_t width, int64_t height) {
        if (pair.gt.empty()) return;
        truth = read_flo(pair.gt, flo_limits);
        if (truth->width != width || truth->height != height)
          fail(ErrorKind::Input, pair.gt + ": the ground truth is " + std::to_string(truth->width) + "×" +
                                     std::to_string(truth->height) + ", the frames are " + std::to_string(width) + "×" +
                                     std::to_string(height));
      };
      FlowField flow;
      if (skip) {
        if (!pair.gt.empty()) {  // the end-point error of the existing .flo, as the first run printed it
          flow = read_flo(pair.flo, flo_limits);
          read_truth(flow.width, flow.height);
        }
      } else {
        const Image first = frames.get(pair.first);  // a copy: the cache may drop it on the next get
        const Image& second = frames.get(pair.second);
        if (first.width != second.width || first.height != second.height)
          fail(ErrorKind::Input, "the frames differ in size: " + pair.first + " is " + size_text(first) + ", " +
                                     pair.second + " is " + size_text(second));
        read_truth(first.width, first.height);
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
        if (!pair.flo.empty()) write_flo(pair.flo, flow);
        if (!pair.png.empty()) write_png(pair.png, flow_to_color(flow, options.color_max));
      }
      if (truth) {
        FlowErrorSums epe;
        epe.add(flow, *truth);
        // A tab, newline or backslash in a frame's name is escaped: one pair per line, three fields.
        std::cout << escape_control(pair.first, true) << '\t' << escape_control(pair.second, true) << '\t'
                  << (epe.pixels ? format_epe(epe.epe()) : "nan")
                  << std::endl;
        if (epe.pixels) epe_sum += epe.epe(), ++evaluated;
      }
      ++(skip ? counts.skipped : counts.done);
    } catch (const AbandonedPair&) {
      break;  // counted as not done by the summary
    } catch (const Error& e) {
      if (!batch || (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit)) throw;
      ++counts.failed;
      std::string message = e.what();
      auto starts_with = [&](const std::string& path) { return !path.empty() && message.rfind(path, 0) == 0; };
      if (!starts_with(pair.first) && !starts_with(pair.second) && !starts_with(pair.gt) &&
          message.find(pair.first) == std::string::npos)
        message = pair.first + ", " + pair.second + ": " + message;
      cli::report_input_error(kProgram, message);
    }
    progress.advance();
  }
  progress.finish();
  if (!options.gt.empty() && evaluated > 0)
    std::cout << "mean\t" << evaluated << " pairs\t" << format_epe(epe_sum / static_cast<double>(evaluated)) << std::endl;
  if (!std::cout) fail(ErrorKind::Output, "standard output: write failed");
  return cli::finish_batch(kProgram, counts, shard);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Optical flow between two frames with the Perceiver IO optical-flow model, at any resolution.\n"
      "Inputs: two frame files; --frames DIR (every consecutive pair of its images, sorted by name);\n"
      "or --pairs LIST (one pair per line: FIRST<TAB>SECOND). Flow is in pixels of the first frame,\n"
      "u rightwards, v downwards, written as Middlebury .flo (-o) and/or a colour-wheel PNG (--color).\n"
      "With --frames/--pairs, -o, --color and --gt are directories and files are named after the\n"
      "first frame (frame_0001.png -> frame_0001.flo). --gt prints the end-point error per pair\n"
      "(first<TAB>second<TAB>epe) and at the end 'mean<TAB>N pairs<TAB>epe'.",
      kProgram};
  Options options;
  app.add_option("pair", options.inputs, "FIRST SECOND: the two frames of one pair");
  app.add_option("-m,--model", options.model_dir, "model folder (config.json + model.safetensors)")
      ->envname("PERCEIVER_FLOW_MODEL");
  app.add_option("--frames", options.frames_dir, "a folder of frames: flow for every consecutive pair");
  app.add_option("--pairs", options.pairs_file, "a list file, one pair per line: FIRST<TAB>SECOND");
  app.add_option("-o,--output", options.output, ".flo file (one pair) or output directory (--frames/--pairs)");
  app.add_option("--color", options.color, "colour-wheel PNG (one pair) or directory for them (--frames/--pairs)");
  app.add_option("--color-max", options.color_max,
                 "flow magnitude (pixels) drawn at full saturation (default: each image's largest)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--gt", options.gt, "ground-truth .flo (one pair) or a folder of <first frame name>.flo: report EPE");
  app.add_option("--max-pixels", options.max_pixels, "largest frame or .flo accepted (width × height)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli::add_skip_existing_flag(app, options.skip_existing,
                              "skip a pair whose outputs (-o .flo, --color .png) all exist; with --gt its EPE is "
                              "read from the existing .flo");
  cli::add_shard_option(app, options.shard);
  app.add_flag("-q,--quiet", options.quiet, "no progress line on stderr");
  cli::add_model_options(app, options.model);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] { return run(options); });
}
