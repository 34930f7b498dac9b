// Optical-flow input (docs/spec/preprocessors_postprocessors.md §1.2.2, flow): two frames of 27
// patch channels [B, 2, 27, H, W] are packed per pixel as 54 channels (frame·27 + k), mapped by
// Linear(54→64), and 2-D Fourier features of the pixel grid (64 bands, max_resolution
// train_size) are concatenated: → [B, H·W, 64 + 258]. (H, W) must equal train_size.
#pragma once

#include <memory>

#include "adapters/input_preprocessor.h"
#include "checkpoint/config.h"
#include "checkpoint/weights.h"

namespace perceiver {

std::unique_ptr<InputPreprocessor> make_flow_preprocessor(Weights& weights, const PerceiverConfig& config);

}  // namespace perceiver
