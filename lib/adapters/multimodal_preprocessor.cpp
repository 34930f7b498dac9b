#include "adapters/multimodal_preprocessor.h"

#include <algorithm>
#include <cstring>

#include "adapters/space_to_depth.h"
#include "common/error.h"
#include "core/position_encoding.h"

namespace perceiver {

MultimodalPreprocessor::MultimodalPreprocessor(Weights& weights, const PerceiverConfig& config)
    : samples_per_patch_(config.samples_per_patch),
      audio_samples_(config.num_frames * config.audio_samples_per_frame),
      num_frames_(config.num_frames),
      image_size_(config.image_size),
      num_labels_(config.num_labels()) {
  if (audio_samples_ % samples_per_patch_)
    fail(ErrorKind::ConfigInvalid, "num_frames × audio_samples_per_frame is not a multiple of samples_per_patch");
  const int64_t audio_tokens = audio_samples_ / samples_per_patch_;
  const int64_t audio_width = samples_per_patch_ + fourier_channels(1, kAudioBands);
  const int64_t image_width = kPatchSize * kPatchSize * 3 + fourier_channels(3, kVideoBands);
  channels_ = std::max({audio_width, image_width, num_labels_}) + kMinPadding;
  const int64_t video_tokens = config.output_shape.at(1) * (config.output_shape.at(2) / kPatchSize) *
                               (config.output_shape.at(3) / kPatchSize);
  sizes_ = {audio_tokens, video_tokens, 1};

  audio_positions_ = fourier_features(grid_positions({audio_tokens}), {audio_samples_}, kAudioBands);
  const std::string prefix = "perceiver.input_preprocessor.";
  padding_audio_ = weights.take(prefix + "padding.audio", {1, channels_ - audio_width});
  padding_image_ = weights.take(prefix + "padding.image", {1, channels_ - image_width});
  padding_label_ = weights.take(prefix + "padding.label", {1, channels_ - num_labels_});
  // Audio and video have mask probability 0: their tokens exist in the checkpoint but are unused.
  weights.take(prefix + "mask.audio", {1, channels_});
  weights.take(prefix + "mask.image", {1, channels_});
  mask_label_ = weights.take(prefix + "mask.label", {1, channels_});
}

namespace {
// rows[i] = [content[i] | positions[i] | padding]: [M, C].
void write_padded(float* out, int64_t rows, int64_t channels, const float* content, int64_t content_width,
                  const float* positions, int64_t position_width, const float* padding) {
  const int64_t padding_width = channels - content_width - position_width;
  for (int64_t i = 0; i < rows; ++i) {
    float* row = out + i * channels;
    std::memcpy(row, content + i * content_width, content_width * sizeof(float));
    std::memcpy(row + content_width, positions + i * position_width, position_width * sizeof(float));
    std::memcpy(row + content_width + position_width, padding, padding_width * sizeof(float));
  }
}
}  // namespace

Tensor MultimodalPreprocessor::forward(const Tensor& audio, const Tensor& image, const Tensor& label) const {
  const int64_t batch = audio.dim(0);
  if (audio.dtype() != DType::F32 || audio.numel() != batch * audio_samples_)
    fail(ErrorKind::Input, "audio must be F32 [B, " + std::to_string(audio_samples_) + ", 1], got " +
                               shape_to_string(audio.shape()));
  if (image.rank() != 5 || image.dim(0) != batch || image.dim(2) != 3)
    fail(ErrorKind::Input, "image must be F32 [B, T, 3, H, W], got " + shape_to_string(image.shape()));
  if (label.rank() != 2 || label.dim(0) != batch || label.dim(1) != num_labels_)
    fail(ErrorKind::Input, "label must be [B, " + std::to_string(num_labels_) + "], got " + shape_to_string(label.shape()));

  const Tensor patches = space_to_depth(image, 1, kPatchSize);  // [B, T, H/4, W/4, 48]
  const int64_t t = patches.dim(1), ph = patches.dim(2), pw = patches.dim(3), patch_width = patches.dim(4);
  const int64_t video_tokens = t * ph * pw;
  const Tensor video_positions =
      fourier_features(grid_positions({t, ph, pw}), {num_frames_, image_size_, image_size_}, kVideoBands);

  const int64_t audio_tokens = audio_positions_.dim(0), m = audio_tokens + video_tokens + 1;
  Tensor x = Tensor::f32({batch, m, channels_});  // [B, Ma + Mi + 1, C]
  for (int64_t b = 0; b < batch; ++b) {
    float* base = x.mutable_data<float>() + b * m * channels_;
    write_padded(base, audio_tokens, channels_, audio.data<float>() + b * audio_samples_, samples_per_patch_,
                 audio_positions_.data<float>(), audio_positions_.dim(1), padding_audio_.data<float>());
    write_padded(base + audio_tokens * channels_, video_tokens, channels_,
                 patches.data<float>() + b * video_tokens * patch_width, patch_width, video_positions.data<float>(),
                 video_positions.dim(1), padding_image_.data<float>());
    // The label element is always the mask token (mask probability 1), whatever label was given.
    std::memcpy(base + (m - 1) * channels_, mask_label_.data<float>(), channels_ * sizeof(float));
  }
  return x;
}

}  // namespace perceiver
