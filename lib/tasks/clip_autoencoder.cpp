#include "tasks/clip_autoencoder.h"

#include "models/finite_output.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/error.h"
#include "media/video_frames.h"
#include "tasks/top_labels.h"

namespace perceiver {

namespace {

constexpr size_t kDecodeBlock = 48;  // a multiple of the usual GEMM row blocks (4, 6, 8, 12, 16, 24)

ClipGeometry geometry_of(const PerceiverConfig& config) {
  if (config.output_shape.size() != 4)
    fail(ErrorKind::ConfigInvalid, "output_shape must have 4 entries [1, T, H, W] for the multimodal autoencoder");
  if (config.output_shape[1] != config.num_frames)
    fail(ErrorKind::ConfigInvalid, "output_shape[1] (" + std::to_string(config.output_shape[1]) +
                                       ") differs from num_frames (" + std::to_string(config.num_frames) + ")");
  ClipGeometry g;
  g.frames = config.num_frames;
  g.height = config.output_shape[2];
  g.width = config.output_shape[3];
  g.samples_per_frame = config.audio_samples_per_frame;
  g.samples = g.frames * g.samples_per_frame;
  g.labels = config.num_labels();
  return g;
}

}  // namespace

ClipAutoencoder::ClipAutoencoder(const PerceiverConfig& config, Weights& weights)
    : geometry_(geometry_of(config)), model_(config, weights) {
  if (model_.image_points() != geometry_.frames * geometry_.height * geometry_.width)
    fail(ErrorKind::ConfigInvalid, "the decoder's image grid does not match output_shape");
}

WindowReconstruction ClipAutoencoder::reconstruct(const Tensor& video, const Tensor& audio, int64_t chunk,
                                                  const std::function<void(int64_t, int64_t)>& on_chunk) const {
  const ClipGeometry& g = geometry_;
  const Shape video_shape{g.frames, 3, g.height, g.width};
  if (video.dtype() != DType::F32 || video.shape() != video_shape)
    fail(ErrorKind::Input, "window video must be F32 " + shape_to_string(video_shape) + ", got " +
                               shape_to_string(video.shape()));
  if (audio.dtype() != DType::F32 || audio.numel() != g.samples)
    fail(ErrorKind::Input, "window audio must be F32 [" + std::to_string(g.samples) + "], got " +
                               shape_to_string(audio.shape()));
  if (chunk < 1) fail(ErrorKind::Usage, "--chunk must be at least 1");

  const Tensor label = Tensor::f32({1, g.labels});  // ignored by the model (always masked)
  const Tensor latents = model_.encode(audio.reshaped({1, g.samples, 1}), video.reshaped({1, g.frames, 3, g.height, g.width}), label);

  const int64_t audio_points = model_.audio_points(), total = output_points();
  const int64_t spp = g.samples / audio_points;
  WindowReconstruction out;
  out.video = Tensor::f32({g.frames, g.height, g.width, 3});
  out.audio = Tensor::f32({g.samples});
  float* video_out = out.video.mutable_data<float>();
  float* audio_out = out.audio.mutable_data<float>();
  std::vector<int64_t> audio_part, image_part;
  for (int64_t start = 0; start < total; start += chunk) {
    const int64_t end = std::min(total, start + chunk);
    audio_part.clear();
    image_part.clear();
    for (int64_t p = start; p < end; ++p) {
      if (p < audio_points) audio_part.push_back(p);
      else image_part.push_back(p - audio_points);
    }
    // Pad the call to a multiple of kDecodeBlock points (repeating the last one, whose extra
    // rows are discarded): the matmul kernels then see only whole row blocks for the points, so
    // each point's value is bit-identical whatever the chunking (a tail block may be computed by
    // another kernel with another summation order, which differs in the last bits).
    const size_t real_audio = audio_part.size(), real_image = image_part.size();
    while ((audio_part.size() + image_part.size()) % kDecodeBlock) {
      if (!image_part.empty()) image_part.push_back(image_part.back());
      else audio_part.push_back(audio_part.back());
    }
    const MultimodalOutputs part = model_.decode(latents, audio_part, image_part);
    require_finite_output(part.audio, "audio reconstruction", model_.weights_source());
    require_finite_output(part.image, "image reconstruction", model_.weights_source());
    require_finite_output(part.label, "label logits", model_.weights_source());
    if (real_audio)  // consecutive tokens → consecutive samples
      std::memcpy(audio_out + audio_part.front() * spp, part.audio.data<float>(), real_audio * spp * sizeof(float));
    if (real_image)  // consecutive pixels → consecutive (t, y, x, c) values
      std::memcpy(video_out + image_part.front() * 3, part.image.data<float>(), real_image * 3 * sizeof(float));
    if (start == 0) out.label = part.label.reshaped({g.labels}).clone();  // the same in every chunk
    if (on_chunk) on_chunk(end, total);
  }
  return out;
}

void ErrorTotals::add(const float* reference, const float* reconstruction, int64_t n, float lo, float hi) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float r = std::isnan(reconstruction[i]) ? lo : std::clamp(reconstruction[i], lo, hi);
    const double d = static_cast<double>(r) - static_cast<double>(reference[i]);
    sum += d * d;
  }
  sum_squared += sum;
  count += n;
}

double ErrorTotals::mse() const {
  return count ? sum_squared / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

double psnr_db(double mse, double peak) {
  if (std::isnan(mse)) return mse;
  if (mse <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(peak * peak / mse);
}

ClipResult reconstruct_clip(const ClipAutoencoder& model, int64_t windows, const std::function<Image(int64_t)>& frame,
                            const std::vector<float>& audio, int64_t chunk,
                            const std::function<void(const ClipWindow&)>& on_window) {
  const ClipGeometry& g = model.geometry();
  if (windows < 1) fail(ErrorKind::Internal, "reconstruct_clip: no window to run");
  if (static_cast<int64_t>(audio.size()) < windows * g.samples)
    fail(ErrorKind::Internal, "reconstruct_clip: fewer audio samples than the windows need");
  const int64_t pixels = g.height * g.width;
  ClipResult result;
  result.audio.resize(static_cast<size_t>(windows * g.samples));
  result.label_probabilities.assign(static_cast<size_t>(g.labels), 0.0);
  std::vector<float> reference_hwc(static_cast<size_t>(g.frames * pixels * 3));  // [T, H, W, 3]
  std::vector<Image> inputs, frames;
  for (int64_t w = 0; w < windows; ++w) {
    Tensor video = Tensor::f32({g.frames, 3, g.height, g.width});  // [T, 3, H, W] in [0, 1]
    inputs.clear();
    for (int64_t t = 0; t < g.frames; ++t) {
      inputs.push_back(fit_frame(frame(w * g.frames + t), g.width, g.height));
      frame_to_unit_floats(inputs.back(), video.mutable_data<float>() + t * 3 * pixels);
    }
    Tensor window_audio = Tensor::f32({g.samples});  // [S]
    std::copy_n(audio.begin() + w * g.samples, g.samples, window_audio.mutable_data<float>());
    const WindowReconstruction recon = model.reconstruct(video, window_audio, chunk);

    // PSNR totals against the input as fed to the model (channels-first there, last here).
    const float* rv = recon.video.data<float>();
    for (int64_t t = 0; t < g.frames; ++t)
      for (int64_t p = 0; p < pixels; ++p)
        for (int64_t c = 0; c < 3; ++c)
          reference_hwc[static_cast<size_t>((t * pixels + p) * 3 + c)] = video.data<float>()[(t * 3 + c) * pixels + p];
    result.video_error.add(reference_hwc.data(), rv, g.frames * pixels * 3, 0.0f, 1.0f);
    result.audio_error.add(window_audio.data<float>(), recon.audio.data<float>(), g.samples, -1.0f, 1.0f);
    std::copy_n(recon.audio.data<float>(), g.samples, result.audio.begin() + w * g.samples);
    result.window_probabilities.push_back(softmax(recon.label.data<float>(), g.labels));
    ++result.windows;
    frames.clear();
    for (int64_t t = 0; t < g.frames; ++t) frames.push_back(unit_floats_to_frame(rv + t * pixels * 3, g.width, g.height));
    if (on_window)
      on_window(ClipWindow{w, &inputs, &video, &window_audio, &recon, &frames, &result.window_probabilities.back()});
  }
  for (const std::vector<double>& p : result.window_probabilities)
    for (size_t i = 0; i < p.size(); ++i) result.label_probabilities[i] += p[i] / static_cast<double>(result.windows);
  return result;
}

}  // namespace perceiver
