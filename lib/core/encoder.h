// The Perceiver encoder (docs/spec/architecture.md §7): the learned latent array cross-attends once
// to the input array, then `num_blocks` repetitions of `num_self_attends_per_block` self-attention
// layers (weights shared across repetitions). No final LayerNorm.
//
// Shapes: inputs [B, M, C] → latents [B, N, D].
#pragma once

#include <vector>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "core/layer.h"
#include "core/trace.h"

namespace perceiver {

// The widths of the encoder's layers from config.json (HF's rules, architecture.md §5.1): the
// cross-attention over inputs of `input_channels` (C), and every self-attention layer.
LayerShape encoder_cross_attention_shape(const PerceiverConfig& config, int64_t input_channels);
LayerShape encoder_self_attention_shape(const PerceiverConfig& config);

class Encoder {
 public:
  // `input_channels` is C, the width of the preprocessed input array.
  Encoder(Weights& weights, const PerceiverConfig& config, int64_t input_channels);

  int64_t num_latents() const { return latents_.dim(0); }
  int64_t latent_channels() const { return latents_.dim(1); }

  // inputs [B, M, C]; attention_mask [B, M] (1 real, 0 padding; F32 or I64) or nullptr.
  Tensor forward(const Tensor& inputs, const Tensor* attention_mask = nullptr, const Trace* trace = nullptr) const;

 private:
  Tensor latents_;  // [N, D]
  PerceiverLayer cross_attention_;
  std::vector<PerceiverLayer> self_attends_;  // num_self_attends_per_block distinct layers
  int64_t num_blocks_;
};

// The additive bias of HF's padding mask: 0 where mask is 1, float32 lowest where it is 0.
// mask [B, M] (I64 or F32) → [B, M] F32. Rejects rows with no real element.
Tensor attention_mask_bias(const Tensor& attention_mask);

}  // namespace perceiver
