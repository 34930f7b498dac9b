#include "adapters/image_learned_preprocessor.h"

#include "common/error.h"
#include "kernels/linear.h"
#include "core/tensor_names.h"

namespace perceiver {

namespace {

class LearnedImagePreprocessor : public InputPreprocessor {
 public:
  LearnedImagePreprocessor(Weights& weights, const PerceiverConfig& config) : image_size_(config.image_size) {
    const int64_t c = kLearnedImageChannels;
    conv1x1_ = kernels::Linear(weights.take(names::weight(names::kImageConv1x1), {c, 3, 1, 1}).reshaped({c, 3}),
                               weights.take(names::bias(names::kImageConv1x1), {c}));
    const Tensor table = weights.take(names::kImagePositionTable, {image_size_ * image_size_, c});
    const kernels::Linear projection(weights.take(names::weight(names::kImagePositionsProjection), {c, c}),
                                     weights.take(names::bias(names::kImagePositionsProjection), {c}));
    positions_ = projection(table);  // [image_size², 256]: the same for every input, so once at load
  }
  int64_t channels() const override { return 2 * kLearnedImageChannels; }
  Tensor forward(const Tensor& pixels) const override {
    int64_t batch, height, width;
    check_pixels(pixels, batch, height, width);
    if (height != image_size_ || width != image_size_)
      fail(ErrorKind::Input, "this model (learned positions) needs " + std::to_string(image_size_) + "x" +
                                 std::to_string(image_size_) + " images, got " + std::to_string(height) + "x" +
                                 std::to_string(width));
    return concat_positions(conv1x1_(channels_last(pixels)), positions_);
  }

 private:
  int64_t image_size_;
  kernels::Linear conv1x1_;
  Tensor positions_;
};

}  // namespace

std::unique_ptr<InputPreprocessor> make_learned_image_preprocessor(Weights& weights, const PerceiverConfig& config) {
  return std::make_unique<LearnedImagePreprocessor>(weights, config);
}

}  // namespace perceiver
