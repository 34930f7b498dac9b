// vision-perceiver-fourier input (docs/spec/preprocessors_postprocessors.md §1.2, pixels): the RGB
// values of each pixel and 2-D Fourier features of its position (64 bands, max_resolution
// 224×224), concatenated: pixel_values [B, 3, H, W] → [B, H·W, 3 + 258]. Any H × W.
#pragma once

#include <memory>

#include "adapters/input_preprocessor.h"
#include "checkpoint/config.h"
#include "checkpoint/weights.h"

namespace perceiver {

std::unique_ptr<InputPreprocessor> make_fourier_image_preprocessor(Weights& weights, const PerceiverConfig& config);

}  // namespace perceiver
