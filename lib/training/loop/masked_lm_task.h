// perceiver-train mlm: byte-level masked language modelling on a folder of UTF-8 text
// (training/data/masked_bytes.h for the windows and masks, training/data/text_corpus.h for the split).
#pragma once

#include <memory>
#include <string>

#include "training/data/masked_bytes.h"
#include "training/data/text_corpus.h"
#include "training/model/train_masked_lm.h"
#include "training/loop/training_loop.h"

namespace perceiver::training {

struct MaskedLmTaskSettings {
  PerceiverConfig config;       // the model's; max_position_embeddings is the window length
  int64_t batch_size = 16;
  uint64_t seed = 0;
  int64_t eval_windows = 256;   // held-out windows scored per evaluation (0: all)
  std::string init_from;        // a compatible model folder to fine-tune, or empty
  bool positional_init = false; // align_with_positions() after the random initialisation
  MaskingRule masking = MaskingRule::Mixture;  // of the training and held-out windows
  GemmBackend backend = GemmBackend::OneDnn;
};

// An initialisation that starts the model as a byte-level BERT: one latent per position
// (num_latents = window, d_latents = d_model), the latents, the input positions and the decoder
// queries sharing one random code per position, and the encoder's and decoder's query and key
// projections equal, so that latent i first attends to input i and decoder query i to latent i.
// Without it, every attention starts uniform, no output depends on its position, and training
// sits on the unigram plateau for thousands of steps (docs/training.md). Only the starting point
// differs: the architecture, and so the checkpoint, is the standard one.
void align_with_positions(ParameterSet<float>& params, const PerceiverConfig& config, uint64_t seed);

class MaskedLmTask : public TrainingTask {
 public:
  MaskedLmTask(const MaskedLmTaskSettings& settings, TextCorpus corpus);

  ParameterSet<float>& parameters() override { return model_.parameters(); }
  LossResult train_step(int64_t step) override;
  int64_t examples_per_step() const override { return settings_.batch_size; }
  EvaluationResult evaluate() override;
  void save_model(const std::string& dir) override;

 private:
  int64_t window_bytes() const { return settings_.config.max_position_embeddings - 2; }

  MaskedLmTaskSettings settings_;
  TextCorpus corpus_;
  TrainMaskedLm<float> model_;
  std::vector<MaskedWindow> held_out_;
};

}  // namespace perceiver::training
