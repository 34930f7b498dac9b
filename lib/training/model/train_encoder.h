// The Perceiver encoder with its backward (core/encoder.h): learned latents cross-attend to
// the inputs, then num_blocks × num_self_attends_per_block self-attention layers, the blocks
// sharing weights.
#pragma once

#include <memory>
#include <vector>

#include "checkpoint/config.h"
#include "core/encoder.h"
#include "core/tensor_names.h"
#include "training/model/train_layer.h"

namespace perceiver::training {

template <typename T>
class TrainEncoder {
 public:
  TrainEncoder(ParameterSet<T>& params, const PerceiverConfig& config, int64_t input_channels)
      : latents_(&params.add(names::kLatents, {config.num_latents, config.d_latents}, Init::Normal)),
        cross_attention_(params, names::kEncoderCrossAttention, encoder_cross_attention_shape(config, input_channels)) {
    const LayerShape self_shape = encoder_self_attention_shape(config);
    for (int64_t block = 0; block < config.num_blocks; ++block)
      for (int64_t i = 0; i < config.num_self_attends_per_block; ++i)
        self_attends_.push_back(std::make_unique<TrainLayer<T>>(params, names::encoder_self_attend(i), self_shape));
  }

  int64_t num_latents() const { return latents_->shape[0]; }
  int64_t latent_channels() const { return latents_->shape[1]; }

  // inputs [B, M, C], mask_bias [B, M] or null → latents [B, N, D] (valid until the next forward).
  const std::vector<T>& forward(GemmBackend backend, int64_t batch, int64_t m, const T* inputs, const T* mask_bias) {
    const int64_t n = num_latents(), d = latent_channels();
    batch_ = batch;
    states_.resize(self_attends_.size() + 2);
    states_[0].resize(batch * n * d);  // [B, N, D]: the same latents start every element
    for (int64_t b = 0; b < batch; ++b) std::copy(latents_->value.begin(), latents_->value.end(), states_[0].begin() + b * n * d);
    states_[1].resize(batch * n * d);
    cross_attention_.forward(backend, batch, n, states_[0].data(), m, inputs, mask_bias, states_[1].data());
    for (size_t i = 0; i < self_attends_.size(); ++i) {
      states_[i + 2].resize(batch * n * d);
      self_attends_[i]->forward(backend, batch, n, states_[i + 1].data(), 0, nullptr, nullptr, states_[i + 2].data());
    }
    return states_.back();
  }

  // d_latents [B, N, D] → d_inputs [B, M, C] (written; null when not wanted).
  void backward(GemmBackend backend, const T* d_latents, T* d_inputs) {
    const int64_t n = num_latents(), d = latent_channels();
    grad_a_.assign(d_latents, d_latents + batch_ * n * d);
    grad_b_.resize(grad_a_.size());
    for (size_t i = self_attends_.size(); i-- > 0;) {
      self_attends_[i]->backward(backend, grad_a_.data(), grad_b_.data(), nullptr);
      std::swap(grad_a_, grad_b_);
    }
    cross_attention_.backward(backend, grad_a_.data(), grad_b_.data(), d_inputs);
    for (int64_t b = 0; b < batch_; ++b)
      for (int64_t i = 0; i < n * d; ++i) latents_->grad[i] += grad_b_[b * n * d + i];
  }

 private:
  Parameter<T>* latents_;  // [N, D]
  TrainLayer<T> cross_attention_;
  std::vector<std::unique_ptr<TrainLayer<T>>> self_attends_;  // one per application, weights shared per block
  int64_t batch_ = 0;
  std::vector<std::vector<T>> states_;  // input latents, after cross-attention, after each self-attention
  std::vector<T> grad_a_, grad_b_;
};

}  // namespace perceiver::training
