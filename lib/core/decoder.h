// The generic cross-attention decoder (HF "BasicDecoder", docs/spec/preprocessors_postprocessors.md
// §2.1): queries attend to the latents through one cross-attention layer (no mask), then an
// optional final Linear. Queries are independent, so callers may decode any subset or chunk.
//
// Shapes: queries [B, O, E], latents [B, N, D] → [B, O, out] (out = E without final projection).
#pragma once

#include <optional>
#include <string>

#include "checkpoint/weights.h"
#include "core/layer.h"

namespace perceiver {

struct DecoderShape {
  int64_t query_channels = 0;   // E
  int64_t latent_channels = 0;  // D
  std::optional<int64_t> qk_channels, v_channels;
  int64_t heads = 1;
  bool use_query_residual = false;
  int64_t final_project_channels = 0;  // 0: no final Linear
  std::string shape_for_attention = "kv";
};

// The decoder's cross-attention layer (widening factor 1, as HF builds it).
LayerShape decoding_attention_shape(const DecoderShape& shape);

class Decoder {
 public:
  // `prefix` is the decoder module, e.g. "perceiver.decoder" (its cross-attention is
  // prefix + ".decoding_cross_attention", the projection prefix + ".final_layer").
  Decoder(Weights& weights, const std::string& prefix, const DecoderShape& shape);

  int64_t output_channels() const;
  Tensor forward(const Tensor& queries, const Tensor& latents) const;

 private:
  PerceiverLayer cross_attention_;
  std::optional<kernels::Linear> final_layer_;
};

}  // namespace perceiver
