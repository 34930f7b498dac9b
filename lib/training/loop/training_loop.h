// The loop every perceiver-train command shares: a step is forward + backward on the batch that
// the step number selects, gradient clipping, an AdamW update under the warm-up + cosine
// schedule; progress on stderr, one JSON line per log interval and per evaluation in the metrics
// file, and a checkpoint (an HF model folder plus optimizer state) at save points and at the end.
//
// Determinism: batches and masks are derived from (seed, step), not drawn from a running
// generator, and a checkpoint holds the weights and the optimizer's moments exactly, so a run
// resumed from step s continues bit-identically to one that never stopped (same thread count).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "training/ops/cross_entropy.h"
#include "training/loop/optimizer.h"
#include "training/model/parameters.h"

namespace perceiver::training {

struct EvaluationResult {
  double loss = 0;
  double accuracy = 0;
  int64_t count = 0;                          // predictions scored
  std::map<std::string, double> extra;        // e.g. the most-frequent-byte baseline
};

// Loss and accuracy summed over batches: loss weighted by the rows each batch counted.
class LossTally {
 public:
  void add(const LossResult& batch) {
    loss_sum_ += batch.loss * static_cast<double>(batch.counted);
    correct_ += batch.correct;
    count_ += batch.counted;
  }
  EvaluationResult result() const {
    EvaluationResult result;
    result.count = count_;
    if (count_) {
      result.loss = loss_sum_ / static_cast<double>(count_);
      result.accuracy = static_cast<double>(correct_) / static_cast<double>(count_);
    }
    return result;
  }

 private:
  double loss_sum_ = 0;
  int64_t correct_ = 0, count_ = 0;
};

// What the loop needs from a task (masked LM, image classification).
class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual ParameterSet<float>& parameters() = 0;
  // Forward and backward on the batch of `step`; gradients are added to the parameters'.
  virtual LossResult train_step(int64_t step) = 0;
  virtual int64_t examples_per_step() const = 0;
  virtual EvaluationResult evaluate() = 0;
  // Writes the model folder (config.json, model.safetensors and any processor files).
  virtual void save_model(const std::string& dir) = 0;
};

struct RunSettings {
  std::string output_dir;      // the model folder written and resumed from
  int64_t steps = 1000;        // the schedule's length
  int64_t stop_after = 0;      // > 0: stop (with a checkpoint) after this many steps of this run
  int64_t log_every = 10;
  int64_t eval_every = 0;      // 0: at the end only
  int64_t save_every = 0;      // 0: at the end only; must be a multiple of log_every
  uint64_t seed = 0;
  bool resume = false;
  bool overwrite = false;      // write into a non-empty output_dir that holds no run to resume
  bool quiet = false;          // no progress lines
  OptimizerSettings optimizer;
  // Saved with the optimizer state: every flag that shapes the run, by its name ("--lr" → value).
  // --resume refuses a run whose description differs from the checkpoint's, naming each flag.
  std::map<std::string, std::string> description;
};

// Before any work: a fresh run refuses a non-empty output_dir (it may hold a trained model)
// unless `overwrite` (Error(Usage) naming the folder and both flags); a resumed one needs the
// training state there (Error(ModelMissing)); Error(Output) when output_dir is not a folder.
void check_output_dir(const RunSettings& settings);

// The flags whose values differ between a checkpoint's saved description and this run's:
// "--lr 0.0003 (the checkpoint has 0.001)", in name order; keys only one side has are skipped.
std::vector<std::string> describe_differences(const std::map<std::string, std::string>& saved,
                                              const std::map<std::string, std::string>& now);

struct RunSummary {
  int64_t first_step = 0, last_step = 0;  // steps done by this run: [first, last)
  double seconds = 0;
  double last_train_loss = 0;
  EvaluationResult last_evaluation;
};

RunSummary run_training(TrainingTask& task, const RunSettings& settings);

}  // namespace perceiver::training
