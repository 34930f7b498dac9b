#include "core/encoder.h"

#include <cstring>
#include <limits>

#include "common/error.h"
#include "core/tensor_names.h"

namespace perceiver {

LayerShape encoder_cross_attention_shape(const PerceiverConfig& config, int64_t input_channels) {
  return cross_attention_shape(config.d_latents, input_channels, config.qk_channels, config.v_channels,
                               config.num_cross_attention_heads, config.cross_attention_widening_factor,
                               config.use_query_residual, config.cross_attention_shape_for_attention);
}

LayerShape encoder_self_attention_shape(const PerceiverConfig& config) {
  return self_attention_shape(config.d_latents, config.qk_channels, config.v_channels, config.num_self_attention_heads,
                              config.self_attention_widening_factor);
}

Encoder::Encoder(Weights& weights, const PerceiverConfig& config, int64_t input_channels)
    : latents_(weights.take(names::kLatents, {config.num_latents, config.d_latents})),
      cross_attention_(weights, names::kEncoderCrossAttention, encoder_cross_attention_shape(config, input_channels)),
      num_blocks_(config.num_blocks) {
  const LayerShape self_shape = encoder_self_attention_shape(config);
  for (int64_t i = 0; i < config.num_self_attends_per_block; ++i)
    self_attends_.emplace_back(weights, names::encoder_self_attend(i), self_shape);
}

Tensor Encoder::forward(const Tensor& inputs, const Tensor* attention_mask, const Trace* trace) const {
  const int64_t batch = inputs.dim(0), n = latents_.dim(0), d = latents_.dim(1);
  // The same learned latents start every batch element.
  Tensor latents = Tensor::f32({batch, n, d});  // [B, N, D]
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(latents.mutable_data<float>() + b * n * d, latents_.data<float>(), latents_.nbytes());

  Tensor bias;
  if (attention_mask) bias = attention_mask_bias(*attention_mask);
  Tensor z = cross_attention_.forward(latents, &inputs, attention_mask ? &bias : nullptr);
  record(trace, "encoder.cross_attention_output", z);
  for (int64_t block = 0; block < num_blocks_; ++block)
    for (size_t i = 0; i < self_attends_.size(); ++i) {
      z = self_attends_[i].forward(z);
      if (trace) record(trace, "encoder.block" + std::to_string(block) + ".layer" + std::to_string(i) + "_output", z);
    }
  record(trace, "encoder_output", z);
  return z;
}

Tensor attention_mask_bias(const Tensor& attention_mask) {
  if (attention_mask.rank() != 2) fail(ErrorKind::Input, "attention_mask must be [B, M], got " + shape_to_string(attention_mask.shape()));
  const int64_t batch = attention_mask.dim(0), m = attention_mask.dim(1);
  Tensor bias = Tensor::f32({batch, m});  // [B, M]
  float* out = bias.mutable_data<float>();
  const float lowest = std::numeric_limits<float>::lowest();
  const Tensor mask = attention_mask.dtype() == DType::I64 ? attention_mask : attention_mask.to_f32();
  for (int64_t b = 0; b < batch; ++b) {
    bool any_real = false;
    for (int64_t i = 0; i < m; ++i) {
      const double value = mask.dtype() == DType::I64 ? static_cast<double>(mask.data<int64_t>()[b * m + i])
                                                      : mask.data<float>()[b * m + i];
      // HF: (1 - mask) · lowest, so 1 → 0 and 0 → lowest.
      out[b * m + i] = static_cast<float>((1.0 - value) * lowest);
      any_real = any_real || value != 0;
    }
    if (!any_real) fail(ErrorKind::Input, "attention_mask row " + std::to_string(b) + " has no real element");
  }
  return bias;
}

}  // namespace perceiver
