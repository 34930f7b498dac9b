#include "training/loop/training_loop.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/interrupt.h"
#include "common/error.h"
#include "common/json.h"
#include "training/ops/gemm.h"
#include "training/loop/training_checkpoint.h"

namespace perceiver::training {

namespace {

using Clock = std::chrono::steady_clock;

std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

// On resume, the metrics lines past the checkpoint belong to the run that was cut short: keep
// only those at or before `step`, so the file reads as one uninterrupted run.
void truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json entry;
    try {
      entry = parse_json(line, path, ErrorKind::Input);
    } catch (const Error&) {
    }
    if (entry.is_object() && entry.contains("step") && entry["step"].is_number_integer() && entry["step"].get<int64_t>() <= step)
      kept << line << '\n';
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  out << kept.str();
}

class MetricsFile {
 public:
  explicit MetricsFile(const std::string& path) : out_(path, std::ios::app) {
    if (!out_) fail(ErrorKind::Output, path + ": cannot open the metrics file for writing");
  }
  void write(const nlohmann::json& entry) {
    out_ << entry.dump() << '\n';
    out_.flush();  // a reader (or a crash) sees whole lines only
  }

 private:
  std::ofstream out_;
};

}  // namespace

void check_output_dir(const RunSettings& settings) {
  namespace fs = std::filesystem;
  const fs::path dir(settings.output_dir);
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (fs::exists(status) && !fs::is_directory(status))
    fail(ErrorKind::Output, settings.output_dir + ": not a folder (-o names the model folder to write)");
  if (settings.resume) {
    if (!fs::exists(dir / "training_state.safetensors"))
      fail(ErrorKind::ModelMissing, settings.output_dir + ": no training_state.safetensors to --resume from");
    return;
  }
  if (fs::exists(status) && !fs::is_empty(dir, error) && !settings.overwrite)
    fail(ErrorKind::Usage, settings.output_dir + ": not empty; give --resume to continue the run saved there, or "
                                                 "--overwrite to replace its model and metrics");
}

std::vector<std::string> describe_differences(const std::map<std::string, std::string>& saved,
                                              const std::map<std::string, std::string>& now) {
  std::vector<std::string> differences;
  for (const auto& [name, value] : now) {
    const auto it = saved.find(name);
    if (it == saved.end() || it->second == value) continue;
    differences.push_back(name + " " + (value.empty() ? "(not given)" : value) + " (the checkpoint has " +
                          (it->second.empty() ? "none" : it->second) + ")");
  }
  return differences;
}

RunSummary run_training(TrainingTask& task, const RunSettings& settings) {
  if (settings.steps < 1) fail(ErrorKind::Usage, "--steps must be at least 1");
  if (settings.log_every < 1) fail(ErrorKind::Usage, "--log-every must be at least 1");
  if (settings.save_every % settings.log_every || settings.eval_every % settings.log_every)
    fail(ErrorKind::Usage, "--save-every and --eval-every must be multiples of --log-every");
  ParameterSet<float>& params = task.parameters();
  AdamState<float> state;
  OptimizerSettings optimizer = settings.optimizer;
  optimizer.total_steps = settings.steps;  // the cosine spans the whole schedule
  const std::string metrics_path = settings.output_dir + "/metrics.jsonl";
  check_output_dir(settings);
  std::filesystem::create_directories(settings.output_dir);

  int64_t step = 0;
  if (settings.resume) {
    AdamState<float> saved_state;
    const std::vector<std::string> differences =
        describe_differences(load_training_state(settings.output_dir, params, saved_state), settings.description);
    if (!differences.empty()) {
      std::string list;
      for (const std::string& difference : differences) list += (list.empty() ? "" : "; ") + difference;
      fail(ErrorKind::Usage, settings.output_dir + ": --resume needs the flags of the saved run: " + list);
    }
    load_parameters(params, settings.output_dir);
    load_training_state(settings.output_dir, params, state);
    step = state.step;
    truncate_metrics(metrics_path, step);
    if (!settings.quiet) std::fprintf(stderr, "resuming %s at step %lld\n", settings.output_dir.c_str(), static_cast<long long>(step));
  } else {
    std::filesystem::remove(metrics_path);
  }
  MetricsFile metrics(metrics_path);

  auto save = [&] {
    task.save_model(settings.output_dir);
    save_training_state(settings.output_dir, params, state, settings.description);
  };
  auto evaluate = [&](int64_t done) {
    const auto start = Clock::now();
    EvaluationResult result = task.evaluate();
    nlohmann::json entry = {{"step", done}, {"split", "eval"}, {"loss", result.loss}, {"accuracy", result.accuracy},
                            {"count", result.count},
                            {"seconds", std::chrono::duration<double>(Clock::now() - start).count()}};
    for (const auto& [name, value] : result.extra) entry[name] = value;
    metrics.write(entry);
    if (!settings.quiet)
      std::fprintf(stderr, "eval step %lld: loss %.4f, accuracy %.2f%% (%lld scored)\n", static_cast<long long>(done),
                   result.loss, 100 * result.accuracy, static_cast<long long>(result.count));
    return result;
  };

  RunSummary summary;
  summary.first_step = step;
  const int64_t end = settings.stop_after > 0 ? std::min(settings.steps, step + settings.stop_after) : settings.steps;
  const auto run_start = Clock::now();
  auto interval_start = run_start;
  int64_t interval_multiply_adds = gemm_multiply_adds();
  double interval_loss = 0, interval_norm = 0;
  int64_t interval_steps = 0, interval_correct = 0, interval_counted = 0;
  while (step < end) {
    if (cli::interrupted()) {
      std::fprintf(stderr, "interrupted at step %lld: saving a checkpoint\n", static_cast<long long>(step));
      break;
    }
    params.zero_grad();
    const LossResult loss = task.train_step(step);
    const double norm = clip_gradients(params, optimizer.clip_norm);
    const double learning_rate = learning_rate_at(optimizer, step);
    adamw_update(params, state, optimizer, learning_rate);
    ++step;
    interval_loss += loss.loss;
    interval_norm += norm;
    interval_correct += loss.correct;
    interval_counted += loss.counted;
    ++interval_steps;
    summary.last_train_loss = loss.loss;

    // The first step also prints a progress line (not a metrics line), so a long run shows at
    // once that it is working and how fast.
    if (!settings.quiet && step == summary.first_step + 1 && step % settings.log_every != 0 && step != end) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();
      std::fprintf(stderr, "step %lld/%lld  loss %.4f  lr %.2e  %.1f examples/s  elapsed %s  ETA %s\n",
                   static_cast<long long>(step), static_cast<long long>(settings.steps), loss.loss, learning_rate,
                   static_cast<double>(task.examples_per_step()) / elapsed, format_duration(elapsed).c_str(),
                   format_duration(elapsed * static_cast<double>(end - step)).c_str());
    }
    if (step % settings.log_every == 0 || step == end) {
      const double seconds = std::chrono::duration<double>(Clock::now() - interval_start).count();
      const double examples_per_second = static_cast<double>(interval_steps * task.examples_per_step()) / seconds;
      // Matrix products only (2 FLOPs per multiply-add); the element-wise work is not counted.
      const double gflops = 2.0 * static_cast<double>(gemm_multiply_adds() - interval_multiply_adds) / seconds / 1e9;
      metrics.write({{"step", step},
                     {"split", "train"},
                     {"loss", interval_loss / static_cast<double>(interval_steps)},
                     {"accuracy", interval_counted ? static_cast<double>(interval_correct) / static_cast<double>(interval_counted) : 0.0},
                     {"learning_rate", learning_rate},
                     {"grad_norm", interval_norm / static_cast<double>(interval_steps)},
                     {"examples_per_second", examples_per_second},
                     {"gflops", gflops}});
      if (!settings.quiet) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();
        const double eta = elapsed / static_cast<double>(step - summary.first_step) * static_cast<double>(end - step);
        std::fprintf(stderr, "step %lld/%lld  loss %.4f  lr %.2e  %.1f examples/s  %.1f GFLOP/s  elapsed %s  ETA %s\n",
                     static_cast<long long>(step), static_cast<long long>(settings.steps),
                     interval_loss / static_cast<double>(interval_steps), learning_rate, examples_per_second, gflops,
                     format_duration(elapsed).c_str(), format_duration(eta).c_str());
      }
      interval_loss = interval_norm = 0;
      interval_steps = interval_correct = interval_counted = 0;
      interval_start = Clock::now();
      interval_multiply_adds = gemm_multiply_adds();
    }
    const bool evaluate_now = settings.eval_every > 0 && step % settings.eval_every == 0 && step < settings.steps;
    const bool save_now = settings.save_every > 0 && step % settings.save_every == 0 && step < end;
    if (evaluate_now) summary.last_evaluation = evaluate(step);
    if (save_now) save();
    if (evaluate_now || save_now) {  // keep evaluation and saving out of the training speed
      interval_start = Clock::now();
      interval_multiply_adds = gemm_multiply_adds();
    }
  }
  if (step == settings.steps) summary.last_evaluation = evaluate(step);
  save();
  summary.last_step = step;
  summary.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  return summary;
}

}  // namespace perceiver::training
