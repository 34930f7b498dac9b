#include "adapters/image_preprocessors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "perceiver/position_encoding.h"

namespace perceiver {

namespace {

constexpr int64_t kFourierBands = 64;
constexpr int64_t kLearnedChannels = 256;  // conv1x1 output and position table width
constexpr int64_t kStemChannels = 64;
constexpr int64_t kStemKernel = 7, kStemStride = 2, kStemPadding = 3;
constexpr int64_t kPoolKernel = 3, kPoolStride = 2;
constexpr float kBatchNormEps = 1e-5f;

// out[b, m, :] = [content[b, m, :] | positions[m, :]], positions shared by the batch.
Tensor concat_positions(const Tensor& content, const Tensor& positions) {
  const int64_t batch = content.dim(0), m = content.dim(1), cc = content.dim(2), cp = positions.dim(1);
  Tensor out = Tensor::f32({batch, m, cc + cp});  // [B, M, Cc + Cp]
  float* o = out.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i) {
      float* row = o + (b * m + i) * (cc + cp);
      std::memcpy(row, content.data<float>() + (b * m + i) * cc, cc * sizeof(float));
      std::memcpy(row + cc, positions.data<float>() + i * cp, cp * sizeof(float));
    }
  return out;
}

// [B, C, H, W] → [B, H·W, C] (channels last, pixels row-major).
Tensor channels_last(const Tensor& x) {
  const int64_t batch = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  Tensor out = Tensor::f32({batch, h * w, c});
  const float* in = x.data<float>();
  float* o = out.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) o[(b * h * w + p) * c + ch] = in[(b * c + ch) * h * w + p];
  return out;
}

class LearnedImagePreprocessor : public InputPreprocessor {
 public:
  LearnedImagePreprocessor(Weights& weights, const PerceiverConfig& config) : image_size_(config.image_size) {
    const std::string prefix = "perceiver.input_preprocessor.";
    conv1x1_ = kernels::Linear(
        weights.take(prefix + "convnet_1x1.weight", {kLearnedChannels, 3, 1, 1}).reshaped({kLearnedChannels, 3}),
        weights.take(prefix + "convnet_1x1.bias", {kLearnedChannels}));
    const Tensor table = weights.take(prefix + "position_embeddings.position_embeddings",
                                      {image_size_ * image_size_, kLearnedChannels});
    const kernels::Linear projection(weights.take(prefix + "positions_projection.weight", {kLearnedChannels, kLearnedChannels}),
                                     weights.take(prefix + "positions_projection.bias", {kLearnedChannels}));
    positions_ = projection(table);  // [image_size², 256]: the same for every input, so once at load
  }
  int64_t channels() const override { return 2 * kLearnedChannels; }
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

class FourierImagePreprocessor : public InputPreprocessor {
 public:
  explicit FourierImagePreprocessor(std::vector<int64_t> max_resolution) : max_resolution_(std::move(max_resolution)) {}
  int64_t channels() const override { return 3 + fourier_channels(2, kFourierBands); }
  Tensor forward(const Tensor& pixels) const override {
    int64_t batch, height, width;
    check_pixels(pixels, batch, height, width);
    return concat_positions(channels_last(pixels),
                            fourier_features(grid_positions({height, width}), max_resolution_, kFourierBands));
  }

 private:
  std::vector<int64_t> max_resolution_;
};

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
    return concat_positions(pooled, fourier_features(grid_positions({ph, pw}), {56, 56}, kFourierBands));
  }

 private:
  struct BatchNorm { float inv_std, mean, gamma, beta; };
  kernels::Linear conv_;
  std::vector<BatchNorm> bn_;
};

}  // namespace

void check_pixels(const Tensor& pixels, int64_t& batch, int64_t& height, int64_t& width) {
  if (pixels.rank() != 4 || pixels.dim(1) != 3 || pixels.dtype() != DType::F32)
    fail(ErrorKind::Input, "pixel_values must be F32 [B, 3, H, W], got " + std::string(dtype_name(pixels.dtype())) + " " +
                               shape_to_string(pixels.shape()));
  batch = pixels.dim(0);
  height = pixels.dim(2);
  width = pixels.dim(3);
}

std::unique_ptr<InputPreprocessor> make_learned_image_preprocessor(Weights& weights, const PerceiverConfig& config) {
  return std::make_unique<LearnedImagePreprocessor>(weights, config);
}

std::unique_ptr<InputPreprocessor> make_fourier_image_preprocessor(Weights&, const PerceiverConfig&) {
  return std::make_unique<FourierImagePreprocessor>(std::vector<int64_t>{224, 224});
}

std::unique_ptr<InputPreprocessor> make_conv_image_preprocessor(Weights& weights, const PerceiverConfig& config) {
  return std::make_unique<ConvImagePreprocessor>(weights, config);
}

}  // namespace perceiver
