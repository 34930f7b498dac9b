#include "training/loop/masked_lm_task.h"

#include <cmath>

#include "common/random.h"
#include "core/tensor_names.h"
#include "training/model/initialization.h"
#include "training/loop/training_checkpoint.h"

namespace perceiver::training {

namespace {
constexpr size_t kEvaluationBatch = 16;
constexpr double kPositionCodeStd = 0.1;
constexpr double kEncoderMatchGain = 1.7, kDecoderMatchGain = 2.0;
constexpr double kBranchOutputGain = 0.1;
constexpr double kLatentCodeScale = 10;
}

void align_with_positions(ParameterSet<float>& params, const PerceiverConfig& config, uint64_t seed) {
  if (config.num_latents != config.max_position_embeddings || config.d_latents != config.d_model)
    fail(ErrorKind::Usage, "--init positional needs --num-latents equal to --window and --d-latents equal to --d-model");
  SplitMix64 random(mix_seed(seed, 0x706f73));
  // One random code per position, shared by the inputs, the latents and the decoder queries.
  Parameter<float>& positions = params.at(names::kTextPositions);
  // Sinusoids from a period of 2 positions to 2 windows: codeᵢ·codeⱼ = Σ cos(ω(i − j)) peaks at
  // i = j, and a shift by k positions is a rotation, which attention learns easily.
  const int64_t count = positions.shape[0], channels = positions.shape[1], pairs = channels / 2;
  const double amplitude = kPositionCodeStd * std::sqrt(2.0);
  for (int64_t t = 0; t < count; ++t)
    for (int64_t k = 0; k < pairs; ++k) {
      const double period = 2.0 * std::pow(static_cast<double>(count), static_cast<double>(k) / static_cast<double>(std::max<int64_t>(1, pairs - 1)));
      const double angle = kTwoPi * static_cast<double>(t) / period;
      positions.value[t * channels + 2 * k] = static_cast<float>(amplitude * std::sin(angle));
      positions.value[t * channels + 2 * k + 1] = static_cast<float>(amplitude * std::cos(angle));
    }
  // The latents carry the codes scaled up, so that they stay the bulk of the latent stream
  // (what the decoder's keys see) next to the small residual updates below.
  std::vector<float>& latents = params.at(names::kLatents).value;
  latents = positions.value;
  for (float& v : latents) v *= static_cast<float>(kLatentCodeScale);
  params.at(names::decoder_queries(names::kLanguageDecoder)).value = positions.value;
  // Query and key projections equal (a random matrix R), so scores ∝ codeᵢ·Rᵀ·R·codeⱼ peak at i = j.
  for (const auto& [layer, gain] :
       {std::pair{std::string(names::kEncoderCrossAttention), kEncoderMatchGain},
        std::pair{names::decoding_cross_attention(names::kLanguageDecoder), kDecoderMatchGain}}) {
    const names::LayerNames name(layer);
    Parameter<float>& query = params.at(names::weight(name.query));
    Parameter<float>& key = params.at(names::weight(name.key));
    const double std = gain / std::sqrt(static_cast<double>(key.shape[1]));
    for (float& v : key.value) v = static_cast<float>(random.normal(std));
    query.value = key.value;
  }
  // Residual branches of the encoder start small, so the codes survive to the decoder.
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter<float>& p = params[i];
    const bool branch_output = p.name.rfind(std::string(names::kEncoder) + ".", 0) == 0 &&
                               (p.name.find(names::weight(names::kAttentionOutput)) != std::string::npos ||
                                p.name.find(names::weight(names::kDense2)) != std::string::npos);
    if (branch_output)
      for (float& v : p.value) v *= kBranchOutputGain;
  }
}

MaskedLmTask::MaskedLmTask(const MaskedLmTaskSettings& settings, TextCorpus corpus)
    : settings_(settings), corpus_(std::move(corpus)), model_(settings.config) {
  if (settings.config.max_position_embeddings < 3)
    fail(ErrorKind::ConfigInvalid, "max_position_embeddings must be at least 3 ([CLS] byte [SEP])");
  initialize_parameters(model_.parameters(), settings.seed);
  if (settings.positional_init) align_with_positions(model_.parameters(), settings.config, settings.seed);
  if (!settings.init_from.empty()) load_parameters(model_.parameters(), settings.init_from);
  held_out_ = held_out_windows(corpus_.held_out, window_bytes(), settings.eval_windows, settings.masking);
}

LossResult MaskedLmTask::train_step(int64_t step) {
  const MaskedBatch batch = training_batch(corpus_.train, settings_.batch_size, window_bytes(), settings_.seed, step,
                                             settings_.masking);
  return model_.step(settings_.backend, batch.input_ids.data(), batch.labels.data(), batch.batch, batch.length, true);
}

EvaluationResult MaskedLmTask::evaluate() {
  MaskedByteScore score;
  for (size_t first = 0; first < held_out_.size(); first += kEvaluationBatch) {
    const MaskedBatch batch = batch_of(held_out_, first, std::min(kEvaluationBatch, held_out_.size() - first));
    model_.step(settings_.backend, batch.input_ids.data(), batch.labels.data(), batch.batch, batch.length, false);
    score.add(model_.logits().data(), batch.labels.data(), batch.batch * batch.length, settings_.config.vocab_size);
  }
  return score.result();
}

void MaskedLmTask::save_model(const std::string& dir) { save_model_folder(dir, settings_.config, model_.parameters()); }

}  // namespace perceiver::training
