// vision-perceiver-learned input (docs/spec/preprocessors_postprocessors.md §1.2, conv1x1): a 1×1 conv
// 3→256 per pixel, and learned positions [image_size², 256] through Linear(256→256), concatenated:
// pixel_values [B, 3, S, S] → [B, S², 512]. Only image_size × image_size inputs.
#pragma once

#include <memory>

#include "adapters/input_preprocessor.h"
#include "checkpoint/config.h"
#include "checkpoint/weights.h"

namespace perceiver {

std::unique_ptr<InputPreprocessor> make_learned_image_preprocessor(Weights& weights, const PerceiverConfig& config);

}  // namespace perceiver
