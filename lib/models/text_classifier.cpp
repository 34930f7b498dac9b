#include "models/text_classifier.h"

#include <cstring>

#include "common/error.h"
#include "models/image_classifier.h"  // classification_decoder_shape: HF uses one decoder class for both
#include "core/tensor_names.h"

namespace perceiver {

TextClassifier::TextClassifier(const PerceiverConfig& config, Weights& weights)
    : weights_source_(weights.source()),
      max_length_(config.max_position_embeddings),
      preprocessor_(weights, config),
      encoder_(weights, config, config.d_model),
      query_(weights.take(names::decoder_queries(names::kWrappedDecoder), {1, config.d_latents})),
      decoder_(weights, names::kWrappedDecoder, classification_decoder_shape(config)) {}

Tensor TextClassifier::forward(const Tensor& input_ids, const Tensor* attention_mask, const Trace* trace) const {
  if (attention_mask && attention_mask->shape() != input_ids.shape())
    fail(ErrorKind::Input, "attention_mask " + shape_to_string(attention_mask->shape()) + " does not match input_ids " +
                               shape_to_string(input_ids.shape()));
  const Tensor x = preprocessor_.forward(input_ids);  // [B, L, C]
  record(trace, "preprocessed_inputs", x);
  const Tensor latents = encoder_.forward(x, attention_mask, trace);  // [B, N, D]
  const int64_t batch = input_ids.dim(0), d = query_.dim(1);
  Tensor queries = Tensor::f32({batch, 1, d});  // [B, 1, D]
  for (int64_t b = 0; b < batch; ++b) std::memcpy(queries.mutable_data<float>() + b * d, query_.data<float>(), d * sizeof(float));
  record(trace, "decoder_query", queries);
  const Tensor logits = decoder_.forward(queries, latents).reshaped({batch, num_labels()});
  record(trace, "decoder_output", logits);
  return logits;
}

}  // namespace perceiver
