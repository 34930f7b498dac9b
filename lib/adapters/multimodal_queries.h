// Decoder queries of the multimodal autoencoder (docs/spec/preprocessors_postprocessors.md §2.5):
// audio token s → Fourier(−1 + 2s/Na) (192 bands, max_resolution S); pixel s of the
// (T, H, W) = output_shape[1:] grid → 3-D Fourier of (−1 + 2t/T, −1 + 2y/H, −1 + 2x/W)
// (32 bands, max_resolution (num_frames, image_size, image_size)); the label → its learned
// query; each padded with its learned vector to widest + 2, concatenated audio, image, label.
#pragma once

#include <vector>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"

namespace perceiver {

class MultimodalQueries {
 public:
  MultimodalQueries(Weights& weights, const PerceiverConfig& config);

  int64_t channels() const { return channels_; }  // E
  int64_t audio_points() const { return audio_tokens_; }
  int64_t image_points() const;

  // [|audio| + |image| + (with_label ? 1 : 0), E]
  Tensor build(const std::vector<int64_t>& audio, const std::vector<int64_t>& image, bool with_label) const;

  static constexpr int64_t kMinPadding = 2;

 private:
  int64_t audio_tokens_, audio_samples_, channels_;
  std::vector<int64_t> video_grid_, video_resolution_;
  Tensor label_query_;  // [1, _label_trainable_num_channels]
  Tensor padding_audio_, padding_image_, padding_label_;
};

}  // namespace perceiver
