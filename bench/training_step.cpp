// perceiver-bench-train: the speed of training steps (forward + backward + clipping + AdamW) of
// the two shipped models' configurations at their training batch sizes, on synthetic batches,
// against oneDNN's matmul peak measured in the same process. One JSON line per case:
// case, threads, batch, steps, seconds_per_step, examples_per_second, gflop_per_step (matrix
// products only, counted by the training GEMM), gflops, matmul_peak_gflops, ratio, and the
// split: matmul_share (time inside the oneDNN products / step time) and matmul_gflops (their
// rate while running; the rest of a step is the element-wise ops, data and AdamW).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

#include "bench/matmul_peak.h"
#include "checkpoint/config.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "common/random.h"
#include "training/model/initialization.h"
#include "training/loop/optimizer.h"
#include "training/model/train_image_classifier.h"
#include "training/model/train_masked_lm.h"

using namespace perceiver;
using namespace perceiver::training;

namespace {

using Clock = std::chrono::steady_clock;

// Runs `step` once to create the primitives, then `steps` timed times with an AdamW update each.
template <typename Model, typename Step>
nlohmann::json time_steps(const std::string& name, Model& model, int64_t batch, int steps, double peak, Step step) {
  OptimizerSettings settings;
  AdamState<float> state;
  auto one = [&] {
    model.parameters().zero_grad();
    step();
    clip_gradients(model.parameters(), 1.0);
    adamw_update(model.parameters(), state, settings, 1e-4);
  };
  one();
  const int64_t multiply_adds = gemm_multiply_adds();
  const double gemm_start = onednn_gemm_seconds();
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i) one();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count() / steps;
  const double gemm_seconds = (onednn_gemm_seconds() - gemm_start) / steps;
  const double gflop = 2.0 * static_cast<double>(gemm_multiply_adds() - multiply_adds) / steps / 1e9;
  return {{"case", name},
          {"threads", kernels::num_threads()},
          {"batch", batch},
          {"parameters", model.parameters().total_numel()},
          {"steps", steps},
          {"seconds_per_step", seconds},
          {"examples_per_second", static_cast<double>(batch) / seconds},
          {"gflop_per_step", gflop},
          {"gflops", gflop / seconds},
          {"matmul_peak_gflops", peak},
          {"ratio", gflop / seconds / peak},
          {"matmul_share", gemm_seconds / seconds},
          {"matmul_gflops", gflop / gemm_seconds}};
}

nlohmann::json bench_mlm(const std::string& model_dir, int64_t batch, int steps, double peak) {
  const PerceiverConfig config = load_config(model_dir + "/config.json");
  TrainMaskedLm<float> model(config);
  initialize_parameters(model.parameters(), 1);
  const int64_t length = config.max_position_embeddings;
  std::vector<int64_t> ids(batch * length), labels(batch * length, -1);
  SplitMix64 random(2);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = 6 + static_cast<int64_t>(random.below(256));
    if (random.uniform() < 0.15) labels[i] = ids[i], ids[i] = 3;
  }
  return time_steps("train_mlm", model, batch, steps, peak, [&] {
    model.step(GemmBackend::OneDnn, ids.data(), labels.data(), batch, length, true);
  });
}

nlohmann::json bench_classifier(const std::string& model_dir, int64_t batch, int steps, double peak) {
  const PerceiverConfig config = load_config(model_dir + "/config.json");
  TrainImageClassifier<float> model(config);
  initialize_parameters(model.parameters(), 1);
  const int64_t side = config.image_size;
  std::vector<float> pixels(batch * 3 * side * side);
  SplitMix64 random(3);
  for (float& p : pixels) p = static_cast<float>(random.uniform() * 2 - 1);
  std::vector<int64_t> labels(batch);
  for (int64_t& label : labels) label = static_cast<int64_t>(random.below(static_cast<uint64_t>(model.num_labels())));
  return time_steps("train_fashion_mnist", model, batch, steps, peak, [&] {
    model.step(GemmBackend::OneDnn, pixels.data(), labels.data(), batch, side, side, true);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time training steps of the shipped models' configurations against the machine's matmul rate."};
  std::string models = PERCEIVER_MODELS_DIR;
  int steps = 10, threads = 0;
  std::vector<std::string> cases = {"mlm", "fashion-mnist"};
  app.add_option("--models", models, "folder holding byte-mlm/ and fashion-mnist/ (their config.json)")->capture_default_str();
  app.add_option("-c,--case", cases, "mlm, fashion-mnist")->capture_default_str();
  app.add_option("--steps", steps, "timed steps per case")->check(CLI::PositiveNumber)->capture_default_str();
  cli::add_threads_option(app, threads);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  return cli::run_guarded("perceiver-bench-train", [&] {
    kernels::set_num_threads(threads);
    for (const std::string& c : cases) {
      const double peak = bench::matmul_peak_gflops(kernels::Precision::F32);
      if (c == "mlm") std::cout << bench_mlm(models + "/byte-mlm", 16, steps, peak).dump() << std::endl;
      else if (c == "fashion-mnist") std::cout << bench_classifier(models + "/fashion-mnist", 64, steps, peak).dump() << std::endl;
      else fail(ErrorKind::Usage, "unknown case '" + c + "' (mlm, fashion-mnist)");
    }
    return 0;
  });
}
