// vision-perceiver-conv input (docs/spec/preprocessors_postprocessors.md §1.2.1), HF's stem exactly:
// zero-pad 3 → 7×7 conv stride 2 (no bias) → BatchNorm (eps 1e-5) → ReLU → 3×3 max-pool stride 2
// without padding, then 2-D Fourier features of the pooled grid (64 bands, max_resolution 56×56):
// pixel_values [B, 3, 224, 224] → [B, 55·55, 64 + 258].
#pragma once

#include <memory>

#include "adapters/input_preprocessor.h"
#include "checkpoint/config.h"
#include "checkpoint/weights.h"

namespace perceiver {

std::unique_ptr<InputPreprocessor> make_conv_image_preprocessor(Weights& weights, const PerceiverConfig& config);

}  // namespace perceiver
