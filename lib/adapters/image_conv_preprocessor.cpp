#include "adapters/image_conv_preprocessor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "kernels/linear.h"
#include "core/position_encoding.h"

namespace perceiver {

namespace {

constexpr int64_t kFourierBands = 64;
constexpr int64_t kFourierMaxResolution = 56;  // fixed by the class, whatever the input size
constexpr int64_t kStemChannels = 64;
constexpr int64_t kStemKernel = 7, kStemStride = 2, kStemPadding = 3;
constexpr int64_t kPoolKernel = 3, kPoolStride = 2;
constexpr float kBatchNormEps = 1e-5f;

class ConvImagePreprocessor : public InputPreprocessor {
 public:
  ConvImagePreprocessor(Weights& weights, const PerceiverConfig&) {
    const std::string prefix = "perceiver.input_preprocessor.convnet.";
    const int64_t patch = 3 * kStemKernel * kStemKernel;
    // The conv as a matmul over im2col patches ordered (channel, ky, kx), as the weight is stored.
    conv_ = kernels::Linear(weights.take(prefix + "conv.weight", {kStemChannels, 3, kStemKernel, kStemKernel})
                                .reshaped({kStemChannels, patch}),
                            Tensor());
    const Tensor gamma = weights.take(prefix + "batchnorm.weight", {kStemChannels});
    const Tensor beta = weights.take(prefix + "batchnorm.bias", {kStemChannels});
    const Tensor mean = weights.take(prefix + "batchnorm.running_mean", {kStemChannels});
    const Tensor var = weights.take(prefix + "batchnorm.running_var", {kStemChannels});
    weights.ignore(prefix + "batchnorm.num_batches_tracked");
    for (int64_t c = 0; c < kStemChannels; ++c) {
      const float inv_std = 1.f / std::sqrt(var.data<float>()[c] + kBatchNormEps);
      bn_.push_back({inv_std, mean.data<float>()[c], gamma.data<float>()[c], beta.data<float>()[c]});
    }
  }
  int64_t channels() const override { return kStemChannels + fourier_channels(2, kFourierBands); }
  Tensor forward(const Tensor& pixels) const override {
    int64_t batch, height, width;
    check_pixels(pixels, batch, height, width);
    const int64_t oh = (height + 2 * kStemPadding - kStemKernel) / kStemStride + 1;
    const int64_t ow = (width + 2 * kStemPadding - kStemKernel) / kStemStride + 1;
    if (oh < kPoolKernel || ow < kPoolKernel)
      fail(ErrorKind::Input, "image of " + std::to_string(height) + "x" + std::to_string(width) + " is too small for the conv stem");
    const int64_t patch = 3 * kStemKernel * kStemKernel;
    Tensor patches = Tensor::f32({batch, oh * ow, patch});  // [B, OH·OW, 3·7·7], zero outside the image
    float* pp = patches.mutable_data<float>();
    const float* in = pixels.data<float>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          float* row = pp + ((b * oh + y) * ow + x) * patch;
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t ky = 0; ky < kStemKernel; ++ky)
              for (int64_t kx = 0; kx < kStemKernel; ++kx) {
                const int64_t iy = y * kStemStride + ky - kStemPadding, ix = x * kStemStride + kx - kStemPadding;
                const bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
                row[(c * kStemKernel + ky) * kStemKernel + kx] = inside ? in[((b * 3 + c) * height + iy) * width + ix] : 0.f;
              }
        }
    Tensor conv = conv_(patches);  // [B, OH·OW, 64]
    float* cv = conv.mutable_data<float>();
    for (int64_t i = 0; i < batch * oh * ow; ++i)
      for (int64_t c = 0; c < kStemChannels; ++c) {
        const BatchNorm& bn = bn_[c];
        const float v = (cv[i * kStemChannels + c] - bn.mean) * bn.inv_std * bn.gamma + bn.beta;
        cv[i * kStemChannels + c] = std::max(v, 0.f);  // ReLU
      }
    const int64_t ph = (oh - kPoolKernel) / kPoolStride + 1, pw = (ow - kPoolKernel) / kPoolStride + 1;
    Tensor pooled = Tensor::f32({batch, ph * pw, kStemChannels});  // [B, PH·PW, 64]
    float* po = pooled.mutable_data<float>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t y = 0; y < ph; ++y)
        for (int64_t x = 0; x < pw; ++x)
          for (int64_t c = 0; c < kStemChannels; ++c) {
            float best = -std::numeric_limits<float>::infinity();
            for (int64_t ky = 0; ky < kPoolKernel; ++ky)
              for (int64_t kx = 0; kx < kPoolKernel; ++kx)
                best = std::max(best, cv[((b * oh + y * kPoolStride + ky) * ow + x * kPoolStride + kx) * kStemChannels + c]);
            po[((b * ph + y) * pw + x) * kStemChannels + c] = best;
          }
    return concat_positions(pooled, fourier_features(grid_positions({ph, pw}), {kFourierMaxResolution, kFourierMaxResolution}, kFourierBands));
  }

 private:
  struct BatchNorm { float inv_std, mean, gamma, beta; };
  kernels::Linear conv_;
  std::vector<BatchNorm> bn_;
};

}  // namespace

std::unique_ptr<InputPreprocessor> make_conv_image_preprocessor(Weights& weights, const PerceiverConfig& config) {
  return std::make_unique<ConvImagePreprocessor>(weights, config);
}

}  // namespace perceiver
