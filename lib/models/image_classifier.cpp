#include "models/image_classifier.h"

#include <cstring>

#include "common/error.h"
#include "core/tensor_names.h"

namespace perceiver {

namespace {

std::unique_ptr<InputPreprocessor> make_preprocessor(const PerceiverConfig& config, Weights& weights) {
  if (config.architecture == "PerceiverForImageClassificationLearned") return make_learned_image_preprocessor(weights, config);
  if (config.architecture == "PerceiverForImageClassificationFourier") return make_fourier_image_preprocessor(weights, config);
  if (config.architecture == "PerceiverForImageClassificationConvProcessing") return make_conv_image_preprocessor(weights, config);
  fail(ErrorKind::ConfigInvalid, "not an image classifier: " + config.architecture);
}

}  // namespace

DecoderShape classification_decoder_shape(const PerceiverConfig& config) {
  DecoderShape shape;
  shape.query_channels = config.d_latents;
  shape.latent_channels = config.d_latents;
  shape.heads = 1;
  shape.use_query_residual = true;  // HF turns it on for all three classifiers
  shape.final_project_channels = config.num_labels();
  shape.shape_for_attention = config.cross_attention_shape_for_attention;
  return shape;
}

bool is_image_classifier(const std::string& architecture) {
  return architecture == "PerceiverForImageClassificationLearned" ||
         architecture == "PerceiverForImageClassificationFourier" ||
         architecture == "PerceiverForImageClassificationConvProcessing";
}

ImageClassifier::ImageClassifier(const PerceiverConfig& config, Weights& weights)
    : weights_source_(weights.source()),
      preprocessor_(make_preprocessor(config, weights)),
      encoder_(weights, config, preprocessor_->channels()),
      query_(weights.take(names::decoder_queries(names::kWrappedDecoder), {1, config.d_latents})),
      decoder_(weights, names::kWrappedDecoder, classification_decoder_shape(config)) {}

Tensor ImageClassifier::forward(const Tensor& pixel_values, const Trace* trace) const {
  const Tensor x = preprocessor_->forward(pixel_values);  // [B, M, C]
  record(trace, "preprocessed_inputs", x);
  const Tensor latents = encoder_.forward(x, nullptr, trace);
  const int64_t batch = x.dim(0), d = query_.dim(1);
  Tensor queries = Tensor::f32({batch, 1, d});  // [B, 1, D]
  for (int64_t b = 0; b < batch; ++b) std::memcpy(queries.mutable_data<float>() + b * d, query_.data<float>(), d * sizeof(float));
  record(trace, "decoder_query", queries);
  const Tensor logits = decoder_.forward(queries, latents).reshaped({batch, num_labels()});
  record(trace, "decoder_output", logits);
  return logits;
}

}  // namespace perceiver
