#include "models/optical_flow.h"

#include <algorithm>
#include <cstring>

#include "core/tensor_names.h"

namespace perceiver {

namespace {

constexpr float kFlowRescale = 100.f;  // HF divides the decoder output by this

DecoderShape flow_decoder_shape(const PerceiverConfig& config, int64_t query_channels) {
  DecoderShape shape;
  shape.query_channels = query_channels;
  shape.latent_channels = config.d_latents;
  shape.heads = 1;
  shape.use_query_residual = false;
  shape.final_project_channels = 2;
  shape.shape_for_attention = config.cross_attention_shape_for_attention;
  return shape;
}

}  // namespace

OpticalFlowModel::OpticalFlowModel(const PerceiverConfig& config, Weights& weights)
    : weights_source_(weights.source()),
      height_(config.train_size.at(0)), width_(config.train_size.at(1)),
      preprocessor_(make_flow_preprocessor(weights, config)),
      encoder_(weights, config, preprocessor_->channels()),
      decoder_(weights, names::kWrappedDecoder, flow_decoder_shape(config, preprocessor_->channels())) {}

Tensor OpticalFlowModel::forward(const Tensor& inputs, const Trace* trace) const {
  const Tensor x = preprocessor_->forward(inputs);  // [B, M, C]
  record(trace, "preprocessed_inputs", x);
  const Tensor latents = encoder_.forward(x, nullptr, trace);  // [B, N, D]
  record(trace, "decoder_query", x);

  const int64_t batch = x.dim(0), m = x.dim(1), c = x.dim(2);
  Tensor flow = Tensor::f32({batch, height_, width_, 2});  // [B, H, W, 2]
  float* out = flow.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    const Tensor z = Tensor::view(DType::F32, {1, latents.dim(1), latents.dim(2)},
                                  latents.data<float>() + b * latents.dim(1) * latents.dim(2), nullptr);
    // Queries are independent: decode them in chunks so no [M, ·] decoder temporaries are needed.
    for (int64_t start = 0; start < m; start += kQueryChunk) {
      const int64_t rows = std::min(kQueryChunk, m - start);
      const Tensor queries = Tensor::view(DType::F32, {1, rows, c}, x.data<float>() + (b * m + start) * c, nullptr);
      const Tensor decoded = decoder_.forward(queries, z);  // [1, rows, 2]
      for (int64_t i = 0; i < rows * 2; ++i) out[(b * m + start) * 2 + i] = decoded.data<float>()[i] / kFlowRescale;
    }
  }
  record(trace, "decoder_output", flow);
  return flow;
}

}  // namespace perceiver
