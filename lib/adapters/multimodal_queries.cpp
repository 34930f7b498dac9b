#include "adapters/multimodal_queries.h"

#include <algorithm>
#include <cstring>

#include "adapters/multimodal_preprocessor.h"
#include "core/position_encoding.h"

namespace perceiver {

MultimodalQueries::MultimodalQueries(Weights& weights, const PerceiverConfig& config)
    : audio_tokens_(config.num_frames * config.audio_samples_per_frame / config.samples_per_patch),
      audio_samples_(config.num_frames * config.audio_samples_per_frame),
      video_grid_(config.output_shape.begin() + 1, config.output_shape.end()),
      video_resolution_{config.num_frames, config.image_size, config.image_size} {
  const int64_t label_width = config.label_trainable_num_channels;
  const int64_t audio_width = fourier_channels(1, MultimodalPreprocessor::kAudioBands);
  const int64_t image_width = fourier_channels(3, MultimodalPreprocessor::kVideoBands);
  channels_ = std::max({audio_width, image_width, label_width}) + kMinPadding;
  label_query_ = weights.take("perceiver.decoder.modalities.label.decoder.output_position_encodings.position_embeddings",
                              {1, label_width});
  padding_audio_ = weights.take("perceiver.decoder.padding.audio", {1, channels_ - audio_width});
  padding_image_ = weights.take("perceiver.decoder.padding.image", {1, channels_ - image_width});
  padding_label_ = weights.take("perceiver.decoder.padding.label", {1, channels_ - label_width});
}

int64_t MultimodalQueries::image_points() const { return video_grid_[0] * video_grid_[1] * video_grid_[2]; }

namespace {
void write_rows(float* out, int64_t channels, const Tensor& features, const Tensor& padding) {
  const int64_t rows = features.dim(0), width = features.dim(1);
  for (int64_t i = 0; i < rows; ++i) {
    std::memcpy(out + i * channels, features.data<float>() + i * width, width * sizeof(float));
    std::memcpy(out + i * channels + width, padding.data<float>(), padding.numel() * sizeof(float));
  }
}
}  // namespace

Tensor MultimodalQueries::build(const std::vector<int64_t>& audio, const std::vector<int64_t>& image, bool with_label) const {
  const int64_t na = static_cast<int64_t>(audio.size()), ni = static_cast<int64_t>(image.size());
  Tensor queries = Tensor::f32({na + ni + (with_label ? 1 : 0), channels_});  // [O, E]
  float* out = queries.mutable_data<float>();
  if (na)
    write_rows(out, channels_,
               fourier_features(subsampled_positions(audio, {audio_tokens_}), {audio_samples_},
                                MultimodalPreprocessor::kAudioBands),
               padding_audio_);
  if (ni)
    write_rows(out + na * channels_, channels_,
               fourier_features(subsampled_positions(image, video_grid_), video_resolution_,
                                MultimodalPreprocessor::kVideoBands),
               padding_image_);
  if (with_label) write_rows(out + (na + ni) * channels_, channels_, label_query_, padding_label_);
  return queries;
}

}  // namespace perceiver
