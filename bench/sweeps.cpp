#include "bench/sweeps.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <random>

#include <nlohmann/json.hpp>

#include "bench/memory.h"
#include "bench/random_frame.h"
#include "bench/released_configs.h"
#include "bench/weights_file.h"
#include "common/error.h"
#include "tasks/flow_estimator.h"
#include "models/masked_lm.h"
#include "models/multimodal_autoencoder.h"

namespace perceiver::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Point {
  double size = 0, seconds = 0, peak_rss_mb = 0;
};

// y = intercept + slope·x by least squares, with R².
nlohmann::json linear_fit(const std::vector<Point>& points, double Point::*y) {
  const double n = static_cast<double>(points.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const Point& p : points) sx += p.size, sy += p.*y, sxx += p.size * p.size, sxy += p.size * (p.*y);
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx), intercept = (sy - slope * sx) / n;
  double residual = 0, total = 0;
  for (const Point& p : points) {
    residual += (p.*y - intercept - slope * p.size) * (p.*y - intercept - slope * p.size);
    total += (p.*y - sy / n) * (p.*y - sy / n);
  }
  return {{"intercept", intercept}, {"slope", slope}, {"r2", total > 0 ? 1 - residual / total : 1.0}};
}

// Times `run(size)` (after one warm-up at the first size; the median of `repeats` runs) with the
// peak RSS of each point.
std::vector<Point> measure(const std::vector<double>& sizes, const std::function<void(double)>& run, int repeats = 1) {
  run(sizes.front());
  std::vector<Point> points;
  for (double size : sizes) {
    malloc_trim(0);
    reset_peak_rss();
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
      const auto start = Clock::now();
      run(size);
      times.push_back(seconds_since(start));
    }
    std::sort(times.begin(), times.end());
    points.push_back({size, times[times.size() / 2], peak_rss_mb()});
  }
  return points;
}

template <typename Model>
std::shared_ptr<Model> load(const std::string& folder, const PerceiverConfig& config) {
  cached_random_model(folder, [&](Weights& weights) { Model probe(config, weights); });
  malloc_trim(0);
  auto weights = open_model_weights(folder);
  auto model = std::make_shared<Model>(config, *weights);
  weights->finish();
  return model;
}

std::vector<Point> sweep_mlm(const std::string& cache_dir) {
  const auto model = load<MaskedLanguageModel>(cache_dir + "/mlm", language_config());
  std::mt19937 rng(7);
  return measure({256, 512, 768, 1024, 1280, 1536, 1792, 2046}, [&](double size) {
    const auto length = static_cast<int64_t>(size);  // bytes; 2046 + [CLS] + [SEP] fills the 2048 positions
    std::vector<int64_t> ids(static_cast<size_t>(length) + 2), positions(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = 6 + static_cast<int64_t>(rng() % 256), positions[i] = static_cast<int64_t>(i);
    model->logits_at(ids, positions);
  }, /*repeats=*/5);  // 0.6 s a point: the median keeps the small slope out of the noise
}

std::vector<Point> sweep_flow(const std::string& cache_dir) {
  const auto estimator = load<FlowEstimator>(cache_dir + "/flow_tile", flow_config());
  // Frames of 1×1, 1×2, 2×2 and 2×3 tiles of 368×496 with the minimum 20-pixel overlap
  // (height 368 + 348·j, width 496 + 476·k), so the area grows with the work.
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{368, 496}, {368, 972}, {716, 972}, {716, 1448}};
  std::vector<double> areas;
  for (const auto& [h, w] : sizes) areas.push_back(static_cast<double>(h * w));
  return measure(areas, [&](double area) {
    const auto it = std::find_if(sizes.begin(), sizes.end(), [&](const auto& s) { return s.first * s.second == area; });
    const Image first = random_frame(it->second, it->first, 1), second = random_frame(it->second, it->first, 2);
    estimator->estimate(first, second);
  });
}

std::vector<Point> sweep_multimodal(const std::string& cache_dir) {
  const PerceiverConfig config = multimodal_config();
  const auto model = load<MultimodalAutoencoder>(cache_dir + "/multimodal_clip", config);
  Tensor audio = Tensor::f32({1, config.num_frames * config.audio_samples_per_frame, 1});
  Tensor video = Tensor::f32({1, config.num_frames, 3, config.output_shape[2], config.output_shape[3]});
  const Tensor label = Tensor::f32({1, 700});
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> uniform(0, 1);
  for (Tensor* t : {&audio, &video})
    for (int64_t i = 0; i < t->numel(); ++i) t->mutable_data<float>()[i] = uniform(rng);
  const Tensor latents = model->encode(audio, video, label);
  const int64_t image_points = model->image_points(), chunk = 8192;
  return measure({8192, 65536, 131072, 262144, 524288}, [&](double size) {
    for (int64_t start = 0; start < static_cast<int64_t>(size); start += chunk) {  // pixels, in chunks
      std::vector<int64_t> points;
      for (int64_t i = start; i < std::min<int64_t>(start + chunk, static_cast<int64_t>(size)); ++i)
        points.push_back(i % image_points);
      model->decode(latents, {}, points);
    }
  });
}

}  // namespace

const std::vector<std::string>& sweep_names() {
  static const std::vector<std::string> names = {"mlm", "flow", "multimodal"};
  return names;
}

void run_sweep(const std::string& name, kernels::Precision precision, const std::string& cache_dir) {
  kernels::set_precision(precision);
  std::vector<Point> points;
  std::string unit;
  if (name == "mlm") points = sweep_mlm(cache_dir), unit = "bytes";
  else if (name == "flow") points = sweep_flow(cache_dir), unit = "pixels";
  else if (name == "multimodal") points = sweep_multimodal(cache_dir), unit = "output points";
  else fail(ErrorKind::Usage, "unknown sweep '" + name + "' (mlm, flow or multimodal)");
  for (const Point& p : points)
    std::cout << nlohmann::json{{"sweep", name}, {"precision", kernels::precision_name(precision)}, {"size", p.size},
                                {"unit", unit}, {"seconds", p.seconds}, {"peak_rss_mb", p.peak_rss_mb}}
                     .dump()
              << std::endl;
  std::cout << nlohmann::json{{"sweep", name},
                              {"precision", kernels::precision_name(precision)},
                              {"unit", unit},
                              {"seconds_fit", linear_fit(points, &Point::seconds)},
                              {"peak_rss_mb_fit", linear_fit(points, &Point::peak_rss_mb)}}
                   .dump()
            << std::endl;
}

}  // namespace perceiver::bench
