#include "models/multimodal_autoencoder.h"

#include <cstring>

#include "core/tensor_names.h"

namespace perceiver {

namespace {

DecoderShape multimodal_decoder_shape(const PerceiverConfig& config, int64_t query_channels) {
  DecoderShape shape;
  shape.query_channels = query_channels;
  shape.latent_channels = config.d_latents;
  shape.heads = 1;
  shape.use_query_residual = false;
  shape.final_project_channels = config.output_num_channels;
  shape.shape_for_attention = config.cross_attention_shape_for_attention;
  return shape;
}

kernels::Linear take_head(Weights& weights, const std::string& modality, int64_t in, int64_t out) {
  const std::string prefix = "perceiver.output_postprocessor.modalities." + modality + ".classifier";
  return kernels::Linear(weights.take(prefix + ".weight", {out, in}), weights.take(prefix + ".bias", {out}));
}

}  // namespace

MultimodalAutoencoder::MultimodalAutoencoder(const PerceiverConfig& config, Weights& weights)
    : weights_source_(weights.source()),
      preprocessor_(weights, config),
      encoder_(weights, config, preprocessor_.channels()),
      queries_(weights, config),
      decoder_(weights, names::kWrappedDecoder, multimodal_decoder_shape(config, queries_.channels())),
      audio_head_(take_head(weights, "audio", config.output_num_channels, config.samples_per_patch)),
      image_head_(take_head(weights, "image", config.output_num_channels, 3)),
      label_head_(take_head(weights, "label", config.output_num_channels, config.num_labels())),
      samples_per_patch_(config.samples_per_patch) {}

Tensor MultimodalAutoencoder::encode(const Tensor& audio, const Tensor& image, const Tensor& label,
                                     const Trace* trace) const {
  const Tensor x = preprocessor_.forward(audio, image, label);  // [B, M, C]
  record(trace, "preprocessed_inputs", x);
  return encoder_.forward(x, nullptr, trace);
}

MultimodalOutputs MultimodalAutoencoder::decode(const Tensor& latents, const std::vector<int64_t>& audio_points,
                                                const std::vector<int64_t>& image_points, const Trace* trace) const {
  const int64_t batch = latents.dim(0), na = static_cast<int64_t>(audio_points.size()),
                ni = static_cast<int64_t>(image_points.size()), o = na + ni + 1;
  const Tensor one = queries_.build(audio_points, image_points, /*with_label=*/true);  // [O, E]
  Tensor queries = Tensor::f32({batch, o, one.dim(1)});                                // [B, O, E]
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(queries.mutable_data<float>() + b * one.numel(), one.data<float>(), one.nbytes());
  record(trace, "decoder_query", queries);
  const Tensor decoded = decoder_.forward(queries, latents);  // [B, O, output_num_channels]
  record(trace, "decoder_output", decoded);

  // Split the rows per modality (audio, image, label) and apply each head.
  const int64_t width = decoded.dim(2);
  Tensor audio_rows = Tensor::f32({batch, na, width}), image_rows = Tensor::f32({batch, ni, width}),
         label_rows = Tensor::f32({batch, 1, width});
  for (int64_t b = 0; b < batch; ++b) {
    const float* base = decoded.data<float>() + b * o * width;
    std::memcpy(audio_rows.mutable_data<float>() + b * na * width, base, na * width * sizeof(float));
    std::memcpy(image_rows.mutable_data<float>() + b * ni * width, base + na * width, ni * width * sizeof(float));
    std::memcpy(label_rows.mutable_data<float>() + b * width, base + (na + ni) * width, width * sizeof(float));
  }
  MultimodalOutputs out;
  out.audio = audio_head_(audio_rows).reshaped({batch, na * samples_per_patch_});
  out.image = image_head_(image_rows);
  out.label = label_head_(label_rows).reshaped({batch, label_head_.out_features()});
  return out;
}

}  // namespace perceiver
