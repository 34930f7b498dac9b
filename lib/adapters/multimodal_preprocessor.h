// The multimodal input of PerceiverForMultimodalAutoencoding (docs/spec/preprocessors_postprocessors.md
// §1.3–§1.5):
//   audio [B, S, 1] → tokens of samples_per_patch samples + 1-D Fourier features (192 bands,
//         max_resolution S) → [B, S/spp, spp + 385];
//   video [B, T, 3, H, W] → 4×4 space-to-depth + 3-D Fourier features (32 bands, max_resolution
//         (num_frames, image_size, image_size)) → [B, T·H/4·W/4, 48 + 195];
//   label [B, L] → one element, always replaced by the learned mask token (mask probability 1);
// each padded with its learned vector to a common width (widest + 4), concatenated in the order
// audio, image, label → [B, Ma + Mi + 1, C].
#pragma once

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "tensor/tensor.h"

namespace perceiver {

struct ModalitySizes {
  int64_t audio = 0, image = 0, label = 0;
};

class MultimodalPreprocessor {
 public:
  MultimodalPreprocessor(Weights& weights, const PerceiverConfig& config);

  int64_t channels() const { return channels_; }
  ModalitySizes sizes() const { return sizes_; }  // elements per modality for the config's clip

  // audio [B, S, 1] (or [B, S]), image [B, T, 3, H, W], label [B, L] (its values have no effect).
  Tensor forward(const Tensor& audio, const Tensor& image, const Tensor& label) const;

  static constexpr int64_t kAudioBands = 192, kVideoBands = 32, kPatchSize = 4, kMinPadding = 4;

 private:
  int64_t samples_per_patch_, audio_samples_, num_frames_, image_size_, num_labels_, channels_;
  ModalitySizes sizes_;
  Tensor audio_positions_;            // [S/spp, 385]
  Tensor padding_audio_, padding_image_, padding_label_;  // [1, C − width]
  Tensor mask_label_;                 // [1, C]
};

}  // namespace perceiver
