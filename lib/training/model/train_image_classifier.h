// The learned-position and Fourier image classifiers with their backward
// (models/image_classifier.h, docs/spec/preprocessors_postprocessors.md §1.2–§1.3 and §2.2):
//   learned: per pixel conv1x1 3→256, concatenated with Linear(256→256) of a learned
//            [S², 256] position table → [B, S², 512] (kLearnedImageChannels = 256);
//   Fourier: the pixels concatenated with fixed Fourier features (kImageFourierBands = 64
//            bands, max resolution 224×224, as the HF class hard-wires: checkpoint/config.h)
//            → [B, H·W, 261]; no parameters, so its backward only carries gradients past it
//            (to nothing: pixels are data).
// Then the encoder, one learned query [1, D] through the classifiers' decoder (models/
// image_classifier.h's classification_decoder_shape: 1 head, query residual, final_layer D →
// num_labels).
#pragma once

#include <vector>

#include "models/image_classifier.h"
#include "core/position_encoding.h"
#include "core/tensor_names.h"
#include "training/ops/cross_entropy.h"
#include "training/model/train_encoder.h"

namespace perceiver::training {

inline bool is_learned_image_classifier(const PerceiverConfig& config) {
  return config.architecture == "PerceiverForImageClassificationLearned";
}

template <typename T>
class TrainImageClassifier {
 public:
  explicit TrainImageClassifier(const PerceiverConfig& config)
      : config_(config),
        learned_(is_learned_image_classifier(config)),
        encoder_(add_preprocessor(config), config, input_channels()),
        query_(&params_.add(names::decoder_queries(names::kWrappedDecoder), {1, config.d_latents}, Init::Normal)),
        decoder_(params_, names::decoding_cross_attention(names::kWrappedDecoder),
                 decoding_attention_shape(classification_decoder_shape(config))),
        final_layer_(params_, names::final_layer(names::kWrappedDecoder), config.d_latents,
                     classification_decoder_shape(config).final_project_channels) {
    if (!learned_ && config.architecture != "PerceiverForImageClassificationFourier")
      fail(ErrorKind::ConfigInvalid, "perceiver-train classify trains PerceiverForImageClassificationLearned or "
                                     "PerceiverForImageClassificationFourier, not " + config.architecture);
  }

  ParameterSet<T>& parameters() { return params_; }
  const PerceiverConfig& config() const { return config_; }
  int64_t num_labels() const { return final_layer_.out; }

  // pixels [B, 3, H, W] (as the image processor makes them), labels [B]. logits() → [B, K].
  LossResult step(GemmBackend backend, const T* pixels, const int64_t* labels, int64_t batch, int64_t height,
                  int64_t width, bool backward) {
    const int64_t m = height * width, channels = input_channels(), d = config_.d_latents;
    make_inputs(backend, pixels, batch, height, width);  // [B, M, C]
    const std::vector<T>& latents = encoder_.forward(backend, batch, m, inputs_.data(), nullptr);
    queries_.resize(batch * d);  // [B, 1, D]
    for (int64_t b = 0; b < batch; ++b) std::copy(query_->value.begin(), query_->value.end(), queries_.begin() + b * d);
    decoded_.resize(batch * d);
    decoder_.forward(backend, batch, 1, queries_.data(), encoder_.num_latents(), latents.data(), nullptr,
                     decoded_.data());
    logits_.resize(batch * num_labels());  // [B, K]
    final_layer_.forward(backend, decoded_.data(), batch, logits_.data());
    d_logits_.resize(backward ? logits_.size() : 0);
    const LossResult loss =
        softmax_cross_entropy(logits_.data(), batch, num_labels(), labels, backward ? d_logits_.data() : nullptr);
    if (!backward) return loss;

    d_decoded_.resize(batch * d);
    final_layer_.backward(backend, decoded_.data(), batch, d_logits_.data(), d_decoded_.data(), false);
    d_queries_.resize(batch * d);
    d_latents_.resize(latents.size());
    decoder_.backward(backend, d_decoded_.data(), d_queries_.data(), d_latents_.data());
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < d; ++i) query_->grad[i] += d_queries_[b * d + i];
    if (!learned_) {
      encoder_.backward(backend, d_latents_.data(), nullptr);
      return loss;
    }
    d_inputs_.resize(batch * m * channels);
    encoder_.backward(backend, d_latents_.data(), d_inputs_.data());
    learned_backward(backend, batch, m);
    return loss;
  }

  const std::vector<T>& logits() const { return logits_; }

 private:
  int64_t input_channels() const {
    return learned_ ? 2 * kLearnedImageChannels : 3 + fourier_channels(2, kImageFourierBands);
  }

  // Adds the learned preprocessor's parameters first (HF order) and returns the set.
  ParameterSet<T>& add_preprocessor(const PerceiverConfig& config) {
    if (learned_) {
      const int64_t c = kLearnedImageChannels, positions = config.image_size * config.image_size;
      conv_weight_ = &params_.add(names::weight(names::kImageConv1x1), {c, 3, 1, 1}, Init::FanIn);
      conv_bias_ = &params_.add(names::bias(names::kImageConv1x1), {c}, Init::Zeros);
      table_ = &params_.add(names::kImagePositionTable, {positions, c}, Init::Normal);
      projection_ = TrainLinear<T>(params_, names::kImagePositionsProjection, c, c);
    }
    return params_;
  }

  void make_inputs(GemmBackend backend, const T* pixels, int64_t batch, int64_t height, int64_t width) {
    const int64_t m = height * width, channels = input_channels();
    pixels_last_.resize(batch * m * 3);  // [B·M, 3]
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t p = 0; p < m; ++p) pixels_last_[(b * m + p) * 3 + c] = pixels[(b * 3 + c) * m + p];
    inputs_.resize(batch * m * channels);
    if (learned_) {
      if (height != config_.image_size || width != config_.image_size)
        fail(ErrorKind::Input, "this model (learned positions) needs " + std::to_string(config_.image_size) + "x" +
                                   std::to_string(config_.image_size) + " images");
      const int64_t c = kLearnedImageChannels;
      content_.resize(batch * m * c);  // [B·M, 256]
      linear_forward(backend, pixels_last_.data(), batch * m, 3, conv_weight_->data(), conv_bias_->data(), c,
                     content_.data());
      positions_.resize(m * c);  // [M, 256], the same for every element
      projection_.forward(backend, table_->data(), m, positions_.data());
      for (int64_t r = 0; r < batch * m; ++r) {
        std::copy_n(content_.begin() + r * c, c, inputs_.begin() + r * channels);
        std::copy_n(positions_.begin() + (r % m) * c, c, inputs_.begin() + r * channels + c);
      }
      return;
    }
    if (fourier_.empty() || fourier_height_ != height || fourier_width_ != width) {
      const Tensor features = fourier_features(grid_positions({height, width}),
                                               {kImageFourierMaxResolution, kImageFourierMaxResolution}, kImageFourierBands);
      fourier_.assign(features.data<float>(), features.data<float>() + features.numel());  // [M, 258]
      fourier_height_ = height, fourier_width_ = width;
    }
    const int64_t f = channels - 3;
    for (int64_t r = 0; r < batch * m; ++r) {
      std::copy_n(pixels_last_.begin() + r * 3, 3, inputs_.begin() + r * channels);
      std::copy_n(fourier_.begin() + (r % m) * f, f, inputs_.begin() + r * channels + 3);
    }
  }

  void learned_backward(GemmBackend backend, int64_t batch, int64_t m) {
    const int64_t c = kLearnedImageChannels, channels = 2 * c;
    d_content_.resize(batch * m * c);
    d_positions_.assign(m * c, static_cast<T>(0));
    for (int64_t r = 0; r < batch * m; ++r)
      for (int64_t i = 0; i < c; ++i) {
        d_content_[r * c + i] = d_inputs_[r * channels + i];
        d_positions_[(r % m) * c + i] += d_inputs_[r * channels + c + i];
      }
    linear_backward<T>(backend, pixels_last_.data(), batch * m, 3, conv_weight_->data(), c, d_content_.data(), nullptr,
                       false, conv_weight_->grad.data(), conv_bias_->grad.data());
    // The table's gradient is the projection's input gradient, added straight into it.
    projection_.backward(backend, table_->data(), m, d_positions_.data(), table_->grad.data(), true);
  }

  PerceiverConfig config_;
  bool learned_;
  ParameterSet<T> params_;
  Parameter<T>* conv_weight_ = nullptr;  // [256, 3, 1, 1]
  Parameter<T>* conv_bias_ = nullptr;
  Parameter<T>* table_ = nullptr;        // [S², 256]
  TrainLinear<T> projection_;
  TrainEncoder<T> encoder_;
  Parameter<T>* query_;                  // [1, D]
  TrainLayer<T> decoder_;
  TrainLinear<T> final_layer_;
  std::vector<T> pixels_last_, content_, positions_, fourier_, inputs_, queries_, decoded_, logits_, d_logits_,
      d_decoded_, d_queries_, d_latents_, d_inputs_, d_content_, d_positions_;
  int64_t fourier_height_ = 0, fourier_width_ = 0;
};

}  // namespace perceiver::training
