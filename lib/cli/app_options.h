// Flags every tool shares, declared once so they read the same everywhere.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "checkpoint/weights_limits.h"
#include "kernels/runtime.h"

namespace perceiver::cli {

// The most threads -t accepts: far more than any machine's cores, far fewer than the 65,536 at
// which libgomp fails to create its threads and the process dies.
inline constexpr int kMaxThreads = 1024;

// -t/--threads N (env PERCEIVER_THREADS; 0 = all cores).
inline CLI::Option* add_threads_option(CLI::App& app, int& threads) {
  return app.add_option("-t,--threads", threads, "worker threads (0 = all cores; at most 1024)")
      ->envname("PERCEIVER_THREADS")
      ->check(CLI::Range(0, kMaxThreads))
      ->capture_default_str();
}

// How a tool computes and what weights files it accepts: -t/--threads, --precision f32|bf16
// (env PERCEIVER_PRECISION), --max-header-bytes, --max-tensors.
struct ModelOptions {
  int threads = 0;
  std::string precision = "f32";
  WeightsLimits limits;
};

inline void add_model_options(CLI::App& app, ModelOptions& options) {
  add_threads_option(app, options.threads);
  app.add_option("--precision", options.precision,
                 "f32, or bf16: bf16 matrix products with f32 accumulation, about 1.8x faster (CPUs with AVX512_BF16)")
      ->envname("PERCEIVER_PRECISION")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  app.add_option("--max-header-bytes", options.limits.max_header_bytes,
                 "largest weights-file header accepted (safetensors JSON header, a .bin file's data.pkl, a shard index)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-tensors", options.limits.max_tensors, "most tensors a weights file may declare")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// Before the model is built: primitives capture the thread count and the precision.
// Error(Usage) for bf16 on a CPU without AVX512_BF16.
inline void apply_model_options(const ModelOptions& options) {
  kernels::set_num_threads(options.threads);
  kernels::set_precision(kernels::parse_precision(options.precision));
}

// --shard I/N (cli/shard.h; without it the Slurm array variables decide).
inline CLI::Option* add_shard_option(CLI::App& app, std::string& shard) {
  return app.add_option("--shard", shard,
                        "process only block I (from 0) of N contiguous blocks of the ordered inputs; default from "
                        "SLURM_ARRAY_TASK_ID/_MIN/_COUNT when set (docs/scaling.md)");
}

// --skip-existing (cli/resume.h, cli/output.h); `what` says what is skipped for this tool.
inline CLI::Option* add_skip_existing_flag(CLI::App& app, bool& skip, const std::string& what) {
  return app.add_flag("--skip-existing", skip, what);
}

// Parses argv (adding --version); returns -1 to go on, else the code to exit with (0 after --help or --version, 2 on bad usage,
// reported as one line: "tool: error: …", control characters escaped).
int parse_arguments(CLI::App& app, int argc, char** argv);

}  // namespace perceiver::cli
