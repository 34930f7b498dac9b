#include "core/decoder.h"

#include "core/tensor_names.h"

namespace perceiver {

LayerShape decoding_attention_shape(const DecoderShape& shape) {
  return cross_attention_shape(shape.query_channels, shape.latent_channels, shape.qk_channels, shape.v_channels,
                               shape.heads, /*widening_factor=*/1, shape.use_query_residual, shape.shape_for_attention);
}

Decoder::Decoder(Weights& weights, const std::string& prefix, const DecoderShape& shape)
    : cross_attention_(weights, names::decoding_cross_attention(prefix), decoding_attention_shape(shape)) {
  if (shape.final_project_channels > 0) {
    const std::string final_layer = names::final_layer(prefix);
    final_layer_.emplace(weights.take(names::weight(final_layer), {shape.final_project_channels, shape.query_channels}),
                         weights.take(names::bias(final_layer), {shape.final_project_channels}));
  }
}

int64_t Decoder::output_channels() const {
  return final_layer_ ? final_layer_->out_features() : cross_attention_.shape().q_dim;
}

Tensor Decoder::forward(const Tensor& queries, const Tensor& latents) const {
  Tensor decoded = cross_attention_.forward(queries, &latents);  // [B, O, E]
  return final_layer_ ? (*final_layer_)(decoded) : decoded;
}

}  // namespace perceiver
