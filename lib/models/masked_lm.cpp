#include "models/masked_lm.h"

#include <cstring>

#include "common/error.h"
#include "core/tensor_names.h"

namespace perceiver {

DecoderShape language_decoder_shape(const PerceiverConfig& config) {
  DecoderShape shape;
  shape.query_channels = config.d_model;
  shape.latent_channels = config.d_latents;
  shape.qk_channels = kLanguageDecoderQkChannels;  // fixed by the HF class, not by config.json
  shape.v_channels = config.d_model;
  shape.heads = kLanguageDecoderHeads;
  shape.use_query_residual = false;
  shape.final_project_channels = 0;
  shape.shape_for_attention = config.cross_attention_shape_for_attention;
  return shape;
}

MaskedLanguageModel::MaskedLanguageModel(const PerceiverConfig& config, Weights& weights)
    : weights_source_(weights.source()),
      preprocessor_(weights, config),
      encoder_(weights, config, config.d_model),
      queries_(weights.take(names::decoder_queries(names::kLanguageDecoder), {config.max_position_embeddings, config.d_model})),
      decoder_(weights, names::kLanguageDecoder, language_decoder_shape(config)),
      head_(preprocessor_.embeddings(), weights.take(names::kEmbeddingDecoderBias, {config.vocab_size})) {}

Tensor MaskedLanguageModel::decode(const Tensor& queries, const Tensor& latents) const {
  const Tensor hidden = decoder_.forward(queries, latents);  // [B, O, C]
  return head_(hidden);                                      // [B, O, V]
}

Tensor MaskedLanguageModel::forward(const Tensor& input_ids, const Tensor* attention_mask, const Trace* trace) const {
  if (attention_mask && attention_mask->shape() != input_ids.shape())
    fail(ErrorKind::Input, "attention_mask " + shape_to_string(attention_mask->shape()) + " does not match input_ids " +
                               shape_to_string(input_ids.shape()));
  const Tensor x = preprocessor_.forward(input_ids);  // [B, L, C]
  record(trace, "preprocessed_inputs", x);
  const Tensor latents = encoder_.forward(x, attention_mask, trace);  // [B, N, D]

  const int64_t batch = input_ids.dim(0);
  Tensor queries = Tensor::f32({batch, queries_.dim(0), queries_.dim(1)});  // [B, P, C]
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(queries.mutable_data<float>() + b * queries_.numel(), queries_.data<float>(), queries_.nbytes());
  record(trace, "decoder_query", queries);
  const Tensor hidden = decoder_.forward(queries, latents);
  record(trace, "decoder_output", hidden);
  return head_(hidden);
}

Tensor MaskedLanguageModel::logits_at(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions) const {
  const int64_t length = static_cast<int64_t>(ids.size());
  Tensor input_ids = Tensor::zeros(DType::I64, {1, length});
  std::memcpy(input_ids.mutable_data<int64_t>(), ids.data(), ids.size() * sizeof(int64_t));
  const Tensor latents = encoder_.forward(preprocessor_.forward(input_ids));

  const int64_t channels = queries_.dim(1), count = static_cast<int64_t>(positions.size());
  Tensor queries = Tensor::f32({1, count, channels});  // [1, O, C]: only the rows asked for
  for (int64_t i = 0; i < count; ++i) {
    if (positions[i] < 0 || positions[i] >= length)
      fail(ErrorKind::Internal, "position " + std::to_string(positions[i]) + " outside the sequence");
    std::memcpy(queries.mutable_data<float>() + i * channels, queries_.data<float>() + positions[i] * channels,
                channels * sizeof(float));
  }
  return decode(queries, latents).reshaped({count, vocab_size()});
}

}  // namespace perceiver
