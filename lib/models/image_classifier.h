// The three ImageNet classifiers (PerceiverForImageClassification{Learned,Fourier,ConvProcessing}):
// image preprocessor → encoder → one learned query → decoder (1 head, qk = v = d_latents,
// query residual on) → Linear(d_latents → num_labels).
//
// Shapes: pixel_values [B, 3, H, W] → x [B, M, C] → latents [B, N, D] → logits [B, num_labels].
#pragma once

#include <string>

#include <memory>

#include "adapters/image_conv_preprocessor.h"
#include "adapters/image_fourier_preprocessor.h"
#include "adapters/image_learned_preprocessor.h"
#include "core/decoder.h"
#include "core/encoder.h"
#include "core/trace.h"

namespace perceiver {

// The classifiers' decoder: one query of d_latents, 1 head, qk = v = d_latents, query residual on,
// final Linear to num_labels.
DecoderShape classification_decoder_shape(const PerceiverConfig& config);

class ImageClassifier {
 public:
  // config.architecture selects the preprocessor.
  ImageClassifier(const PerceiverConfig& config, Weights& weights);

  int64_t num_labels() const { return decoder_.output_channels(); }
  Tensor forward(const Tensor& pixel_values, const Trace* trace = nullptr) const;  // [B, num_labels]

  // The weights file it was built from (for messages: a non-finite output blames it).
  const std::string& weights_source() const { return weights_source_; }

 private:
  std::string weights_source_;
  std::unique_ptr<InputPreprocessor> preprocessor_;
  Encoder encoder_;
  Tensor query_;  // [1, D]
  Decoder decoder_;
};

bool is_image_classifier(const std::string& architecture);

}  // namespace perceiver
