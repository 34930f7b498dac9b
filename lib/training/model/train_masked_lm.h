// PerceiverForMaskedLM with its backward (models/masked_lm.h, docs/spec/architecture.md): byte
// embeddings + learned positions → encoder → one query per position (learned) through the
// language decoder (models/masked_lm.h's language_decoder_shape) → logits against the tied
// embedding matrix plus embedding_decoder.bias.
#pragma once

#include <vector>

#include "models/masked_lm.h"
#include "core/tensor_names.h"
#include "training/ops/cross_entropy.h"
#include "training/model/train_encoder.h"

namespace perceiver::training {

template <typename T>
class TrainMaskedLm {
 public:
  explicit TrainMaskedLm(const PerceiverConfig& config)
      : config_(config),
        embeddings_(&params_.add(names::kTokenEmbeddings, {config.vocab_size, config.d_model}, Init::Normal)),
        positions_(&params_.add(names::kTextPositions, {config.max_position_embeddings, config.d_model}, Init::Normal)),
        encoder_(params_, config, config.d_model),
        queries_(&params_.add(names::decoder_queries(names::kLanguageDecoder),
                              {config.max_position_embeddings, config.d_model}, Init::Normal)),
        decoder_(params_, names::decoding_cross_attention(names::kLanguageDecoder),
                 decoding_attention_shape(language_decoder_shape(config))),
        output_bias_(&params_.add(names::kEmbeddingDecoderBias, {config.vocab_size}, Init::Zeros)) {}

  ParameterSet<T>& parameters() { return params_; }
  const PerceiverConfig& config() const { return config_; }

  // ids, labels [B, L] (label −1: not a target). Forward, loss, and with `backward` the
  // gradients added to the parameters'. logits [B·L, V] stay available through logits().
  LossResult step(GemmBackend backend, const int64_t* ids, const int64_t* labels, int64_t batch, int64_t length,
                  bool backward) {
    const int64_t dm = config_.d_model, vocab = config_.vocab_size;
    if (length > config_.max_position_embeddings)
      fail(ErrorKind::Input, "window of " + std::to_string(length) + " tokens exceeds max_position_embeddings");
    const int64_t rows = batch * length;
    inputs_.resize(rows * dm);  // [B, L, C]
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t id = ids[r], t = r % length;
      if (id < 0 || id >= vocab) fail(ErrorKind::Input, "token id " + std::to_string(id) + " outside the vocabulary");
      for (int64_t c = 0; c < dm; ++c) inputs_[r * dm + c] = embeddings_->value[id * dm + c] + positions_->value[t * dm + c];
    }
    const std::vector<T>& latents = encoder_.forward(backend, batch, length, inputs_.data(), nullptr);
    queries_batch_.resize(rows * dm);  // [B, L, C]
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(queries_->value.begin() + (r % length) * dm, dm, queries_batch_.begin() + r * dm);
    hidden_.resize(rows * dm);  // [B, L, C]
    decoder_.forward(backend, batch, length, queries_batch_.data(), encoder_.num_latents(), latents.data(), nullptr,
                     hidden_.data());
    logits_.resize(rows * vocab);  // [B·L, V] = hidden · embeddingsᵀ + bias
    linear_forward(backend, hidden_.data(), rows, dm, embeddings_->data(), output_bias_->data(), vocab, logits_.data());
    d_logits_.resize(backward ? rows * vocab : 0);
    const LossResult loss = softmax_cross_entropy(logits_.data(), rows, vocab, labels, backward ? d_logits_.data() : nullptr);
    if (!backward) return loss;

    d_hidden_.resize(rows * dm);
    linear_backward(backend, hidden_.data(), rows, dm, embeddings_->data(), vocab, d_logits_.data(), d_hidden_.data(),
                    false, embeddings_->grad.data(), output_bias_->grad.data());
    d_queries_.resize(rows * dm);
    d_latents_.resize(latents.size());
    decoder_.backward(backend, d_hidden_.data(), d_queries_.data(), d_latents_.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < dm; ++c) queries_->grad[(r % length) * dm + c] += d_queries_[r * dm + c];
    d_inputs_.resize(rows * dm);
    encoder_.backward(backend, d_latents_.data(), d_inputs_.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < dm; ++c) {
        embeddings_->grad[ids[r] * dm + c] += d_inputs_[r * dm + c];
        positions_->grad[(r % length) * dm + c] += d_inputs_[r * dm + c];
      }
    return loss;
  }

  const std::vector<T>& logits() const { return logits_; }

 private:
  PerceiverConfig config_;
  ParameterSet<T> params_;
  Parameter<T>* embeddings_;  // [V, C], also the output projection
  Parameter<T>* positions_;   // [P, C]
  TrainEncoder<T> encoder_;
  Parameter<T>* queries_;     // [P, C] decoder queries
  TrainLayer<T> decoder_;
  Parameter<T>* output_bias_;  // [V]
  std::vector<T> inputs_, queries_batch_, hidden_, logits_, d_logits_, d_hidden_, d_queries_, d_latents_, d_inputs_;
};

}  // namespace perceiver::training
