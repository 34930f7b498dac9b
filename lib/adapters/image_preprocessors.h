// Image input preprocessors of the three ImageNet classifiers (spec/preprocessors_postprocessors.md
// §1.2): content features per pixel (or per stem output), then position features concatenated.
// All take pixel_values [B, 3, H, W] (channels first, normalised) and return [B, M, C].
#pragma once

#include <memory>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "kernels/linear.h"

namespace perceiver {

class InputPreprocessor {
 public:
  virtual ~InputPreprocessor() = default;
  virtual int64_t channels() const = 0;  // C
  virtual Tensor forward(const Tensor& pixels) const = 0;
};

// vision-perceiver-learned: 1×1 conv 3→256, learned positions [image_size², 256] through
// Linear(256→256), concatenated → C = 512. Only image_size × image_size inputs.
std::unique_ptr<InputPreprocessor> make_learned_image_preprocessor(Weights& weights, const PerceiverConfig& config);

// vision-perceiver-fourier: RGB values + 2-D Fourier features (64 bands, max_resolution 224×224)
// → C = 3 + 258. Any H × W.
std::unique_ptr<InputPreprocessor> make_fourier_image_preprocessor(Weights& weights, const PerceiverConfig& config);

// vision-perceiver-conv: 7×7/2 conv (pad 3) → BatchNorm → ReLU → 3×3/2 max-pool (no pad), then
// 2-D Fourier features (64 bands, max_resolution 56×56) → C = 64 + 258.
std::unique_ptr<InputPreprocessor> make_conv_image_preprocessor(Weights& weights, const PerceiverConfig& config);

// [B, 3, H, W] checked; returns B, H, W.
void check_pixels(const Tensor& pixels, int64_t& batch, int64_t& height, int64_t& width);

}  // namespace perceiver
