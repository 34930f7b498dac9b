// perceiver-bench: forward passes of full-size models built from the released configs
// (docs/spec/checkpoints.md) with random weights — nothing is downloaded — timed beside the machine's
// oneDNN matmul rate (same precision) measured in the same process just before each case.
//   perceiver-bench --list
//   perceiver-bench --case mlm [--runs 5] [--threads N] [--precision f32|bf16|f32,bf16]
//   perceiver-bench --sweep mlm|flow|multimodal [--precision ...]   (bench/sweeps.h)
// One JSON line per case: case, precision, gflop (2·M·N·K of every matrix product executed),
// seconds (median after a warm-up), gflops, matmul_peak_gflops (2048³, best of 5), ratio,
// peak_rss_mb, load_seconds (loading the model file, cached in --cache after the first run:
// mapping, packing).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <malloc.h>

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>

#include "bench/flops.h"
#include "bench/matmul_peak.h"
#include "bench/memory.h"
#include "bench/sweeps.h"
#include "bench/weights_file.h"
#include "bench/released_configs.h"
#include "checkpoint/weights.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "kernels/linear.h"
#include "kernels/runtime.h"
#include "models/image_classifier.h"
#include "models/masked_lm.h"
#include "models/multimodal_autoencoder.h"
#include "models/optical_flow.h"

using namespace perceiver;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Stage timings of the last forward pass, for cases that report them (e.g. encoder vs decoder).
nlohmann::json last_parts = nlohmann::json::object();

struct Case {
  std::string name, description;
  std::function<PerceiverConfig()> config;
  // Builds the model from weights and returns a forward function and its FLOP count.
  std::function<std::pair<std::function<void()>, double>(const PerceiverConfig&, Weights&)> build;
};



std::pair<std::function<void()>, double> build_mlm(const PerceiverConfig& c, Weights& weights) {
  auto model = std::make_shared<MaskedLanguageModel>(c, weights);
  const int64_t length = c.max_position_embeddings;  // 2048 bytes, all decoded
  Tensor ids = Tensor::zeros(DType::I64, {1, length});
  std::mt19937 rng(7);
  for (int64_t i = 0; i < length; ++i) ids.mutable_data<int64_t>()[i] = 6 + static_cast<int64_t>(rng() % 256);
  const LayerShape decoder = cross_attention_shape(c.d_model, c.d_latents, 256, c.d_model, 8, 1, false, "kv");
  const double p = c.max_position_embeddings;
  const double flops = bench::encoder_flops(c, length, c.d_model) + bench::layer_flops(decoder, p, c.num_latents) +
                       bench::matmul_flops(p, c.vocab_size, c.d_model);
  return {[model, ids] { model->forward(ids); }, flops};
}

std::function<std::pair<std::function<void()>, double>(const PerceiverConfig&, Weights&)> build_classifier(int64_t batch) {
  return [batch](const PerceiverConfig& c, Weights& weights) -> std::pair<std::function<void()>, double> {
    auto model = std::make_shared<ImageClassifier>(c, weights);
    Tensor pixels = Tensor::f32({batch, 3, 224, 224});
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    for (int64_t i = 0; i < pixels.numel(); ++i) pixels.mutable_data<float>()[i] = normal(rng);
    double m = 224 * 224, preprocess = bench::matmul_flops(m, 256, 3);  // learned: conv1x1
    if (c.architecture == "PerceiverForImageClassificationConvProcessing") {
      m = 55 * 55;
      preprocess = bench::matmul_flops(112 * 112, 64, 3 * 7 * 7);  // the stem's 7×7 conv
    } else if (c.architecture == "PerceiverForImageClassificationFourier") {
      preprocess = 0;
    }
    const LayerShape decoder = cross_attention_shape(c.d_latents, c.d_latents, {}, {}, 1, 1, true, "kv");
    const double per_image = preprocess + bench::encoder_flops(c, m, c.d_model) + bench::layer_flops(decoder, 1, c.num_latents) +
                             bench::matmul_flops(1, 1000, c.d_latents);
    return {[model, pixels] { model->forward(pixels); }, batch * per_image};
  };
}


std::pair<std::function<void()>, double> build_flow_tile(const PerceiverConfig& c, Weights& weights) {
  auto model = std::make_shared<OpticalFlowModel>(c, weights);
  const int64_t h = c.train_size[0], w = c.train_size[1];
  Tensor inputs = Tensor::f32({1, 2, 27, h, w});
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < inputs.numel(); ++i) inputs.mutable_data<float>()[i] = uniform(rng);
  return {[model, inputs] { model->forward(inputs); }, bench::flow_tile_flops(c)};
}


// One clip: encode, then decode all 1920 + 802,816 points (+ the label) in chunks of 8192.
std::pair<std::function<void()>, double> build_multimodal_clip(const PerceiverConfig& c, Weights& weights) {
  auto model = std::make_shared<MultimodalAutoencoder>(c, weights);
  Tensor audio = Tensor::f32({1, c.num_frames * c.audio_samples_per_frame, 1});
  Tensor image = Tensor::f32({1, c.num_frames, 3, c.output_shape[2], c.output_shape[3]});
  Tensor label = Tensor::f32({1, 700});
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> uniform(0, 1);
  for (Tensor* t : {&audio, &image})
    for (int64_t i = 0; i < t->numel(); ++i) t->mutable_data<float>()[i] = uniform(rng);
  const int64_t audio_points = model->audio_points(), image_points = model->image_points(), chunk = 8192;
  const int64_t chunks = (audio_points + image_points + chunk - 1) / chunk;
  auto forward = [=] {
    const auto start = Clock::now();
    const Tensor latents = model->encode(audio, image, label);
    last_parts = {{"encoder_seconds", seconds_since(start)}};
    const auto decode_start = Clock::now();
    for (int64_t k = 0; k < chunks; ++k) {  // audio tokens and pixels spread evenly over the chunks
      std::vector<int64_t> a, p;
      for (int64_t i = k * audio_points / chunks; i < (k + 1) * audio_points / chunks; ++i) a.push_back(i);
      for (int64_t i = k * image_points / chunks; i < (k + 1) * image_points / chunks; ++i) p.push_back(i);
      model->decode(latents, a, p);
    }
    last_parts["decoder_seconds"] = seconds_since(decode_start);
  };
  const double m = 1920 + 50176 + 1, e = 1026, o = static_cast<double>(audio_points + image_points);
  const LayerShape decoder = cross_attention_shape(1026, c.d_latents, {}, {}, 1, 1, false, "kv");
  const double flops = bench::encoder_flops(c, m, c.d_model) + bench::layer_flops(decoder, o + chunks, c.num_latents) +
                       bench::matmul_flops(o + chunks, 512, e) + bench::matmul_flops(audio_points, 16, 512) +
                       bench::matmul_flops(image_points, 3, 512) + bench::matmul_flops(chunks, 700, 512);
  return {forward, flops};
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"mlm", "language-perceiver, one 2048-byte document, all 2048 positions decoded", bench::language_config, build_mlm},
      {"vision_learned", "vision-perceiver-learned, one 224x224 image",
       [] { return bench::vision_config("PerceiverForImageClassificationLearned", 512); }, build_classifier(1)},
      {"vision_learned_b8", "vision-perceiver-learned, a batch of 8 images",
       [] { return bench::vision_config("PerceiverForImageClassificationLearned", 512); }, build_classifier(8)},
      {"vision_conv", "vision-perceiver-conv, one 224x224 image",
       [] { return bench::vision_config("PerceiverForImageClassificationConvProcessing", 322); }, build_classifier(1)},
      {"vision_conv_b8", "vision-perceiver-conv, a batch of 8 images",
       [] { return bench::vision_config("PerceiverForImageClassificationConvProcessing", 322); }, build_classifier(8)},
      {"flow_tile", "optical-flow-perceiver, one 368x496 tile (182,528 inputs and queries)", bench::flow_config, build_flow_tile},
      {"multimodal_clip", "multimodal-perceiver, one 16-frame clip, encoder + all 804,737 output points in chunks of 8192",
       bench::multimodal_config, build_multimodal_clip},
  };
  return all;
}

nlohmann::json run_case(const Case& c, kernels::Precision precision, int runs, const std::string& cache_dir) {
  kernels::set_precision(precision);  // before anything is built: kernels capture it
  const double peak = bench::matmul_peak_gflops(precision);
  const PerceiverConfig config = c.config();
  const std::string model_dir = bench::cached_random_model(cache_dir + "/" + c.name, [&](Weights& weights) {
    c.build(config, weights);
  });
  malloc_trim(0);                // what generating the file left in the heap goes back to the system
  bench::reset_peak_rss();       // so each precision in one process reports its own peak
  const auto load_start = Clock::now();
  std::pair<std::function<void()>, double> built;
  {
    auto weights = open_model_weights(model_dir);  // mapped, as the tools read it
    built = c.build(config, *weights);
    weights->finish();
  }
  auto& [forward, flops] = built;
  const double load_seconds = seconds_since(load_start);
  forward();  // warm-up: primitives are created on first use
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    forward();
    times.push_back(seconds_since(start));
  }
  const nlohmann::json parts = last_parts;  // of the last timed run
  std::sort(times.begin(), times.end());
  const double seconds = times[times.size() / 2], gflop = flops / 1e9;
  nlohmann::json line = {{"case", c.name},
                         {"precision", kernels::precision_name(precision)},
                         {"threads", kernels::num_threads()},
                         {"gflop", gflop},
                         {"seconds", seconds},
                         {"gflops", gflop / seconds},
                         {"matmul_peak_gflops", peak},
                         {"ratio", gflop / seconds / peak},
                         {"peak_rss_mb", bench::peak_rss_mb()},
                         {"load_seconds", load_seconds}};
  for (const auto& [key, value] : parts.items()) line[key] = value;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time forward passes of full-size Perceiver IO models (random weights) against the machine's matmul rate."};
  std::vector<std::string> selected;
  std::string precision = "f32";
  int runs = 5, threads = 0;
  bool list = false;
  std::string cache_dir = (std::filesystem::temp_directory_path() / "perceiver-bench").string();
  app.add_option("-c,--case", selected, "case(s) to run (default: all; see --list)");
  app.add_flag("--list", list, "print the case names and exit");
  app.add_option("--runs", runs, "timed runs (the median is reported)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--precision", precision, "f32, bf16 or both in one process: f32,bf16 (one line each)")
      ->capture_default_str();
  std::string sweep;
  app.add_option("--sweep", sweep, "instead of cases: time and memory against size (mlm, flow, multimodal)");
  app.add_option("--cache", cache_dir, "folder for the generated random-weight model files (made once per case)")
      ->capture_default_str();
  cli::add_threads_option(app, threads);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  return cli::run_guarded("perceiver-bench", [&] {
    if (list) {
      for (const Case& c : cases()) std::cout << c.name << '\t' << c.description << '\n';
      return 0;
    }
    kernels::set_num_threads(threads);
    for (const std::string& name : selected)
      if (std::none_of(cases().begin(), cases().end(), [&](const Case& c) { return c.name == name; }))
        fail(ErrorKind::Usage, "unknown case '" + name + "' (see --list)");
    std::vector<kernels::Precision> precisions;
    for (const std::string& name : split(precision, ',')) precisions.push_back(kernels::parse_precision(name));
    for (const kernels::Precision p : precisions) kernels::set_precision(p);  // refuses bf16 early where unsupported
    if (!sweep.empty()) {
      for (const kernels::Precision p : precisions) bench::run_sweep(sweep, p, cache_dir);
      return 0;
    }
    for (const Case& c : cases())
      if (selected.empty() || std::find(selected.begin(), selected.end(), c.name) != selected.end())
        for (const kernels::Precision p : precisions) std::cout << run_case(c, p, runs, cache_dir).dump() << std::endl;
    return 0;
  });
}
