#include "adapters/flow_preprocessor.h"

#include "adapters/space_to_depth.h"
#include "common/error.h"
#include "kernels/linear.h"
#include "core/position_encoding.h"

namespace perceiver {

namespace {

constexpr int64_t kFourierBands = 64;
constexpr int64_t kPatchChannels = 27;  // 3×3 neighbourhood × RGB, per frame
constexpr int64_t kProjectedChannels = 64;

class FlowPreprocessor : public InputPreprocessor {
 public:
  FlowPreprocessor(Weights& weights, const PerceiverConfig& config)
      : height_(config.train_size.at(0)), width_(config.train_size.at(1)),
        conv_after_patches_(weights.take("perceiver.input_preprocessor.conv_after_patches.weight",
                                         {kProjectedChannels, 2 * kPatchChannels}),
                            weights.take("perceiver.input_preprocessor.conv_after_patches.bias", {kProjectedChannels})),
        positions_(fourier_features(grid_positions({height_, width_}), {height_, width_}, kFourierBands)) {}

  int64_t channels() const override { return kProjectedChannels + fourier_channels(2, kFourierBands); }

  Tensor forward(const Tensor& inputs) const override {
    if (inputs.rank() != 5 || inputs.dim(1) != 2 || inputs.dim(2) != kPatchChannels || inputs.dim(3) != height_ ||
        inputs.dim(4) != width_)
      fail(ErrorKind::Input, "flow inputs must be [B, 2, 27, " + std::to_string(height_) + ", " + std::to_string(width_) +
                                 "] (train_size), got " + shape_to_string(inputs.shape()));
    const int64_t batch = inputs.dim(0), pixels = height_ * width_;
    // Both frames in one temporal block: [B, 1, H, W, 54], channel frame·27 + k.
    const Tensor packed = space_to_depth(inputs, 2, 1).reshaped({batch, pixels, 2 * kPatchChannels});
    return concat_positions(conv_after_patches_(packed), positions_);  // [B, H·W, 322]
  }

 private:
  int64_t height_, width_;
  kernels::Linear conv_after_patches_;
  Tensor positions_;  // [H·W, 258], fixed by train_size, so computed once
};

}  // namespace

std::unique_ptr<InputPreprocessor> make_flow_preprocessor(Weights& weights, const PerceiverConfig& config) {
  return std::make_unique<FlowPreprocessor>(weights, config);
}

}  // namespace perceiver
