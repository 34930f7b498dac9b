#include "adapters/image_fourier_preprocessor.h"

#include "checkpoint/config.h"
#include "core/position_encoding.h"

namespace perceiver {

namespace {

class FourierImagePreprocessor : public InputPreprocessor {
 public:
  explicit FourierImagePreprocessor(std::vector<int64_t> max_resolution) : max_resolution_(std::move(max_resolution)) {}
  int64_t channels() const override { return 3 + fourier_channels(2, kImageFourierBands); }
  Tensor forward(const Tensor& pixels) const override {
    int64_t batch, height, width;
    check_pixels(pixels, batch, height, width);
    return concat_positions(channels_last(pixels),
                            fourier_features(grid_positions({height, width}), max_resolution_, kImageFourierBands));
  }

 private:
  std::vector<int64_t> max_resolution_;
};

}  // namespace

std::unique_ptr<InputPreprocessor> make_fourier_image_preprocessor(Weights&, const PerceiverConfig&) {
  return std::make_unique<FourierImagePreprocessor>(
      std::vector<int64_t>{kImageFourierMaxResolution, kImageFourierMaxResolution});
}

}  // namespace perceiver
