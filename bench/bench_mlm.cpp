// bench-mlm: one 2048-byte forward pass of a language-perceiver-sized model (random weights,
// the released config of spec/checkpoints.md; nothing is downloaded), beside the machine's
// oneDNN f32 matmul rate measured in the same process. Prints one JSON line.
//   bench-mlm [--runs 5] [--threads N]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>

#include "bench/flops.h"
#include "checkpoint/weights.h"
#include "cli/app_options.h"
#include "kernels/linear.h"
#include "kernels/runtime.h"
#include "models/masked_lm.h"

using namespace perceiver;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// oneDNN f32 matmul of 2048×2048×2048, best of 5: the machine's practical ceiling.
double matmul_peak_gflops() {
  const int64_t n = 2048;
  Tensor a = Tensor::f32({n, n}), w = Tensor::f32({n, n}), y = Tensor::f32({n, n});
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < n * n; ++i) a.mutable_data<float>()[i] = uniform(rng), w.mutable_data<float>()[i] = uniform(rng);
  const kernels::Linear linear(w, Tensor());
  linear.forward(a.data<float>(), n, y.mutable_data<float>());  // warm-up
  double best = 1e30;
  for (int run = 0; run < 5; ++run) {
    const auto start = Clock::now();
    linear.forward(a.data<float>(), n, y.mutable_data<float>());
    best = std::min(best, seconds_since(start));
  }
  return bench::matmul_flops(n, n, n) / best / 1e9;
}

PerceiverConfig language_perceiver_config() {
  PerceiverConfig config;  // the defaults are the language-perceiver values
  config.architecture = "PerceiverForMaskedLM";
  config.qk_channels = 256;
  config.v_channels = 1280;
  return config;
}

double forward_flops(const PerceiverConfig& c, double length) {
  const double n = c.num_latents, p = c.max_position_embeddings;
  const LayerShape cross = cross_attention_shape(c.d_latents, c.d_model, c.qk_channels, c.v_channels,
                                                 c.num_cross_attention_heads, c.cross_attention_widening_factor, true,
                                                 c.cross_attention_shape_for_attention);
  const LayerShape self = self_attention_shape(c.d_latents, c.qk_channels, c.v_channels, c.num_self_attention_heads,
                                               c.self_attention_widening_factor);
  const LayerShape decoder = cross_attention_shape(c.d_model, c.d_latents, 256, c.d_model, 8, 1, false, "kv");
  return bench::layer_flops(cross, n, length) +
         c.num_blocks * c.num_self_attends_per_block * bench::layer_flops(self, n, n) +
         bench::layer_flops(decoder, p, n) + bench::matmul_flops(p, c.vocab_size, c.d_model);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time one 2048-byte forward pass of a language-perceiver-sized masked LM (random weights)."};
  int runs = 5, threads = 0;
  app.add_option("--runs", runs, "timed runs (the median is reported)")->check(CLI::PositiveNumber)->capture_default_str();
  cli::add_threads_option(app, threads);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  kernels::set_num_threads(threads);

  const double peak = matmul_peak_gflops();
  const PerceiverConfig config = language_perceiver_config();
  const auto load_start = Clock::now();
  auto weights = random_weights(42);
  const MaskedLanguageModel model(config, *weights);
  const double load_seconds = seconds_since(load_start);

  const int64_t length = config.max_position_embeddings;
  Tensor ids = Tensor::zeros(DType::I64, {1, length});
  std::mt19937 rng(7);
  for (int64_t i = 0; i < length; ++i) ids.mutable_data<int64_t>()[i] = 6 + static_cast<int64_t>(rng() % 256);
  model.forward(ids);  // warm-up: primitives are created on first use
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    model.forward(ids);
    times.push_back(seconds_since(start));
  }
  const double seconds = median(times), gflop = forward_flops(config, static_cast<double>(length)) / 1e9;
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json line = {{"case", "mlm"},
                         {"precision", "f32"},
                         {"threads", kernels::num_threads()},
                         {"gflop", gflop},
                         {"seconds", seconds},
                         {"gflops", gflop / seconds},
                         {"matmul_peak_gflops", peak},
                         {"ratio", gflop / seconds / peak},
                         {"peak_rss_mb", usage.ru_maxrss / 1024.0},
                         {"load_seconds", load_seconds}};
  std::cout << line.dump() << std::endl;
  return 0;
}
