// PerceiverForOpticalFlow: patches of two frames → flow preprocessor → encoder (2048 latents
// for the released model) → decoder whose queries are the preprocessed inputs themselves
// (1 head, qk = v = d_latents, no query residual) → Linear(322 → 2) → ÷ 100.
//
// Shapes: inputs [B, 2, 27, H, W] (H, W = train_size) → x [B, H·W, C] → latents [B, N, D]
// → flow [B, H, W, 2] (channel 0 rightwards, 1 downwards; × 20 gives pixels).
#pragma once

#include <string>

#include <memory>

#include "adapters/flow_preprocessor.h"
#include "core/decoder.h"
#include "core/encoder.h"
#include "core/trace.h"

namespace perceiver {

class OpticalFlowModel {
 public:
  OpticalFlowModel(const PerceiverConfig& config, Weights& weights);

  int64_t tile_height() const { return height_; }
  int64_t tile_width() const { return width_; }

  // The model's raw output as HF returns it (already divided by 100).
  Tensor forward(const Tensor& inputs, const Trace* trace = nullptr) const;

  // Queries decoded per pass: bounds the decoder's memory whatever the tile size.
  static constexpr int64_t kQueryChunk = 16384;

  // The weights file it was built from (for messages: a non-finite output blames it).
  const std::string& weights_source() const { return weights_source_; }

 private:
  std::string weights_source_;
  int64_t height_, width_;
  std::unique_ptr<InputPreprocessor> preprocessor_;
  Encoder encoder_;
  Decoder decoder_;
};

}  // namespace perceiver
