// The released checkpoints' configurations (docs/spec/checkpoints.md §2), for benchmarks that build
// full-size models with random weights, and the FLOP counts of their forward passes.
#pragma once

#include <string>

#include "bench/flops.h"
#include "checkpoint/config.h"

namespace perceiver::bench {

inline PerceiverConfig language_config() {
  PerceiverConfig c;  // the defaults are the language-perceiver values
  c.architecture = "PerceiverForMaskedLM";
  c.qk_channels = 256;
  c.v_channels = 1280;
  return c;
}

inline PerceiverConfig vision_config(const std::string& architecture, int64_t d_model) {
  PerceiverConfig c;
  c.architecture = architecture;
  c.num_latents = 512;
  c.d_latents = 1024;
  c.d_model = d_model;
  c.num_blocks = 8;
  c.num_self_attends_per_block = 6;
  c.num_self_attention_heads = 8;
  c.num_cross_attention_heads = 1;
  c.image_size = 224;
  for (int64_t i = 0; i < 1000; ++i) c.id2label[i] = "class " + std::to_string(i);
  return c;
}

inline PerceiverConfig flow_config() {
  PerceiverConfig c;  // optical-flow-perceiver (docs/spec/checkpoints.md §2)
  c.architecture = "PerceiverForOpticalFlow";
  c.num_latents = 2048;
  c.d_latents = 512;
  c.d_model = 322;
  c.num_self_attends_per_block = 24;
  c.num_self_attention_heads = 16;
  c.num_cross_attention_heads = 1;
  c.train_size = {368, 496};
  return c;
}

inline PerceiverConfig multimodal_config() {
  PerceiverConfig c;  // multimodal-perceiver (docs/spec/checkpoints.md §2)
  c.architecture = "PerceiverForMultimodalAutoencoding";
  c.num_latents = 784;
  c.d_latents = 512;
  c.d_model = 704;
  c.num_self_attends_per_block = 8;
  c.num_self_attention_heads = 8;
  c.num_cross_attention_heads = 1;
  c.image_size = 56;
  c.num_frames = 16;
  c.audio_samples_per_frame = 1920;
  c.samples_per_patch = 16;
  c.output_shape = {1, 16, 224, 224};
  c.output_num_channels = 512;
  c.label_trainable_num_channels = 1024;
  for (int64_t i = 0; i < 700; ++i) c.id2label[i] = "class " + std::to_string(i);
  return c;
}

// The encoder's matrix products for M inputs of width C.
inline double encoder_flops(const PerceiverConfig& c, double m, double input_channels) {
  const LayerShape cross = cross_attention_shape(c.d_latents, static_cast<int64_t>(input_channels), c.qk_channels,
                                                 c.v_channels, c.num_cross_attention_heads,
                                                 c.cross_attention_widening_factor, true,
                                                 c.cross_attention_shape_for_attention);
  const LayerShape self = self_attention_shape(c.d_latents, c.qk_channels, c.v_channels, c.num_self_attention_heads,
                                               c.self_attention_widening_factor);
  const double n = c.num_latents;
  return layer_flops(cross, n, m) + c.num_blocks * c.num_self_attends_per_block * layer_flops(self, n, n);
}

// One optical-flow tile: patch projection, encoder over H·W inputs, decoder over H·W queries.
inline double flow_tile_flops(const PerceiverConfig& c) {
  const double m = static_cast<double>(c.train_size[0] * c.train_size[1]), channels = 64 + 258;
  const LayerShape decoder = cross_attention_shape(static_cast<int64_t>(channels), c.d_latents, {}, {}, 1, 1, false, "kv");
  return matmul_flops(m, 64, 54) + encoder_flops(c, m, channels) + layer_flops(decoder, m, c.num_latents) +
         matmul_flops(m, 2, channels);
}

}  // namespace perceiver::bench
