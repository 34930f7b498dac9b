// PerceiverForMultimodalAutoencoding (Kinetics video + audio + label): multimodal preprocessor →
// encoder (784 latents for the released model) → queries for any subset of output points →
// decoder (1 head, qk = v = d_latents, no residual, Linear(E → output_num_channels)) →
// per-modality heads: audio Linear(→ samples_per_patch) per token, image Linear(→ 3) per pixel,
// label Linear(→ num_labels) on the label row.
//
// Shapes: audio [B, S, 1], image [B, T, 3, H, W], label [B, L] → latents [B, N, D];
// decode(points) → audio [B, |ia|·spp], image [B, |ii|, 3], label [B, L].
#pragma once

#include <string>

#include <vector>

#include "adapters/multimodal_preprocessor.h"
#include "adapters/multimodal_queries.h"
#include "kernels/linear.h"
#include "core/decoder.h"
#include "core/encoder.h"
#include "core/trace.h"

namespace perceiver {

struct MultimodalOutputs {
  Tensor audio;  // [B, |audio points| · samples_per_patch]
  Tensor image;  // [B, |image points|, 3]
  Tensor label;  // [B, num_labels]
};

class MultimodalAutoencoder {
 public:
  MultimodalAutoencoder(const PerceiverConfig& config, Weights& weights);

  int64_t audio_points() const { return queries_.audio_points(); }  // audio tokens of a clip
  int64_t image_points() const { return queries_.image_points(); }  // pixels of the output grid

  Tensor encode(const Tensor& audio, const Tensor& image, const Tensor& label, const Trace* trace = nullptr) const;
  // Decodes the given output points (flat indices; each query is independent, so any chunking
  // of the points gives the same values). The label row is decoded every time.
  MultimodalOutputs decode(const Tensor& latents, const std::vector<int64_t>& audio_points,
                           const std::vector<int64_t>& image_points, const Trace* trace = nullptr) const;

  // The weights file it was built from (for messages: a non-finite output blames it).
  const std::string& weights_source() const { return weights_source_; }

 private:
  std::string weights_source_;
  MultimodalPreprocessor preprocessor_;
  Encoder encoder_;
  MultimodalQueries queries_;
  Decoder decoder_;
  kernels::Linear audio_head_, image_head_, label_head_;
  int64_t samples_per_patch_;
};

}  // namespace perceiver
