// Whole-clip reconstruction with the multimodal autoencoder (docs/spec/io_formats.md §4): one model
// window = num_frames frames of output_shape[2:] pixels + num_frames × audio_samples_per_frame
// mono samples; it is encoded once, then every output point (all audio tokens, all pixels, and
// the label row) is decoded in chunks of at most `chunk` queries, so memory stays bounded
// however large the window is. Chunk k takes points [k·chunk, (k+1)·chunk) of the sequence
// (audio tokens 0…Na−1, then pixels 0…Ni−1 in flat (t, y, x) order); every query is decoded
// independently, so the assembled result does not depend on the chunk size. Each decoder call is
// padded to a multiple of 48 points (extra rows discarded) so that it is bit-identical too.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "media/image.h"
#include "models/multimodal_autoencoder.h"
#include "tensor/tensor.h"

namespace perceiver {

struct ClipGeometry {
  int64_t frames = 0;             // num_frames per window
  int64_t height = 0, width = 0;  // output_shape[2:], the model's frame size
  int64_t samples_per_frame = 0;  // audio_samples_per_frame
  int64_t samples = 0;            // frames × samples_per_frame per window
  int64_t labels = 0;             // num_labels
};

struct WindowReconstruction {
  Tensor video;  // F32 [T, H, W, 3], not clamped
  Tensor audio;  // F32 [S], not clamped
  Tensor label;  // F32 [L] logits
};

class ClipAutoencoder {
 public:
  // Error(ConfigInvalid) when the config is not a consistent multimodal autoencoder config.
  ClipAutoencoder(const PerceiverConfig& config, Weights& weights);

  const ClipGeometry& geometry() const { return geometry_; }
  int64_t output_points() const { return model_.audio_points() + model_.image_points(); }

  // video: F32 [T, 3, H, W] in [0, 1]; audio: F32 [S] in [−1, 1]. `chunk` ≥ 1 queries per
  // decoder call (the label row is added to each); `on_chunk(done, total)` after each call.
  WindowReconstruction reconstruct(const Tensor& video, const Tensor& audio, int64_t chunk,
                                   const std::function<void(int64_t, int64_t)>& on_chunk = {}) const;

 private:
  ClipGeometry geometry_;
  MultimodalAutoencoder model_;
};

// Squared-error totals for PSNR over a whole clip (docs/autoencode.md): the reconstruction is
// clamped to [lo, hi] (NaN counts as lo) and compared with the reference as fed to the model.
struct ErrorTotals {
  double sum_squared = 0;
  int64_t count = 0;
  void add(const float* reference, const float* reconstruction, int64_t n, float lo, float hi);
  double mse() const;  // NaN when nothing was added
};

// 10 · log10(peak² / mse); +infinity when mse is 0, NaN when mse is NaN.
double psnr_db(double mse, double peak = 1.0);

// One window of a clip as reconstruct_clip ran it, for the caller to write out.
struct ClipWindow {
  int64_t index = 0;                  // window w: frames [w·T, (w+1)·T), samples [w·S, (w+1)·S)
  const std::vector<Image>* inputs;   // the T frames as fed to the model (fitted to its size)
  const Tensor* video;                // F32 [T, 3, H, W] in [0, 1], the model's input
  const Tensor* audio;                // F32 [S], the model's input
  const WindowReconstruction* reconstruction;
  const std::vector<Image>* frames;   // the T reconstructed frames, clamped and rounded to 8 bits
  const std::vector<double>* label_probabilities;  // softmax of the window's label logits
};

// What a whole clip gives: the reconstructed audio of the windows run, PSNR totals against the
// input as fed to the model (reconstruction clamped to [0, 1] / [−1, 1]), and the clip's label
// probabilities (the mean of the windows' softmax).
struct ClipResult {
  int64_t windows = 0;
  std::vector<float> audio;           // windows × S samples
  ErrorTotals video_error, audio_error;
  std::vector<double> label_probabilities;
  std::vector<std::vector<double>> window_probabilities;
};

// The clip loop (docs/autoencode.md): windows 0 … `windows` − 1, consecutive and non-overlapping;
// `frame(i)` gives frame i of the clip in order (any size: centre-cropped and resized to the
// model's by fit_frame), `audio` at least windows × S mono samples at the model's rate. After
// each window `on_window` (if any) gets it; throwing from it stops the loop there.
ClipResult reconstruct_clip(const ClipAutoencoder& model, int64_t windows, const std::function<Image(int64_t)>& frame,
                            const std::vector<float>& audio, int64_t chunk,
                            const std::function<void(const ClipWindow&)>& on_window = {});

}  // namespace perceiver
