#include "core/layer.h"

#include <cstring>

#include "common/error.h"
#include "core/tensor_names.h"

namespace perceiver {

LayerShape cross_attention_shape(int64_t q_dim, int64_t kv_dim, std::optional<int64_t> qk, std::optional<int64_t> v,
                                 int64_t heads, int64_t widening_factor, bool use_query_residual,
                                 const std::string& shape_for_attention) {
  LayerShape shape;
  shape.is_cross_attention = true;
  shape.q_dim = q_dim;
  shape.kv_dim = kv_dim;
  shape.qk_channels = qk ? *qk : (shape_for_attention == "q" ? q_dim : kv_dim);
  shape.v_channels = v ? *v : shape.qk_channels;
  shape.heads = heads;
  shape.widening_factor = widening_factor;
  shape.use_query_residual = use_query_residual;
  return shape;
}

LayerShape self_attention_shape(int64_t dim, std::optional<int64_t> qk, std::optional<int64_t> v, int64_t heads,
                                int64_t widening_factor) {
  LayerShape shape;
  shape.q_dim = shape.kv_dim = dim;
  shape.qk_channels = qk ? *qk : dim;
  shape.v_channels = v ? *v : shape.qk_channels;
  if (shape.v_channels != dim)
    fail(ErrorKind::ConfigInvalid, "self-attention needs v_channels (" + std::to_string(shape.v_channels) +
                                       ") equal to the latent width d_latents (" + std::to_string(dim) + ")");
  shape.heads = heads;
  shape.widening_factor = widening_factor;
  shape.use_query_residual = true;  // always on for self-attention
  return shape;
}

namespace {
kernels::LayerNorm take_layer_norm(Weights& weights, const std::string& module, int64_t dim) {
  return kernels::LayerNorm(weights.take(names::weight(module), {dim}), weights.take(names::bias(module), {dim}));
}
kernels::Linear take_linear(Weights& weights, const std::string& module, int64_t in, int64_t out,
                            kernels::Activation activation = kernels::Activation::None) {
  return kernels::Linear(weights.take(names::weight(module), {out, in}), weights.take(names::bias(module), {out}),
                         activation);
}
}  // namespace

PerceiverLayer::PerceiverLayer(Weights& weights, const std::string& prefix, const LayerShape& shape) : shape_(shape) {
  const names::LayerNames name(prefix);
  const int64_t hidden = shape.widening_factor * shape.q_dim;
  layernorm1_ = take_layer_norm(weights, name.layernorm1, shape.q_dim);
  if (shape.is_cross_attention) layernorm2_ = take_layer_norm(weights, name.layernorm2, shape.kv_dim);
  query_ = take_linear(weights, name.query, shape.q_dim, shape.qk_channels);
  key_ = take_linear(weights, name.key, shape.kv_dim, shape.qk_channels);
  value_ = take_linear(weights, name.value, shape.kv_dim, shape.v_channels);
  // Cross-attention maps back to the query width; self-attention to Cv (= Dq, checked above).
  output_ = take_linear(weights, name.output, shape.v_channels, shape.q_dim);
  attention_ = kernels::AttentionKernel(shape.heads, shape.qk_channels, shape.v_channels);
  layernorm_ = take_layer_norm(weights, name.layernorm, shape.q_dim);
  dense1_ = take_linear(weights, name.dense1, shape.q_dim, hidden, kernels::Activation::Gelu);
  dense2_ = take_linear(weights, name.dense2, hidden, shape.q_dim);
}

Tensor PerceiverLayer::forward(const Tensor& queries, const Tensor* inputs, const Tensor* mask_bias) const {
  if (queries.rank() != 3 || queries.dim(2) != shape_.q_dim)
    fail(ErrorKind::Internal, "layer queries must be [B, Nq, " + std::to_string(shape_.q_dim) + "], got " +
                                  shape_to_string(queries.shape()));
  const int64_t batch = queries.dim(0), nq = queries.dim(1);
  const bool cross = shape_.is_cross_attention;
  if (cross && (!inputs || inputs->rank() != 3 || inputs->dim(0) != batch || inputs->dim(2) != shape_.kv_dim))
    fail(ErrorKind::Internal, "cross-attention inputs must be [B, Nk, " + std::to_string(shape_.kv_dim) + "]");
  const int64_t nk = cross ? inputs->dim(1) : nq;
  const int64_t cqk = shape_.qk_channels, cv = shape_.v_channels;

  const Tensor q_in = layernorm1_(queries);                    // [B, Nq, Dq]
  const Tensor kv_in = cross ? layernorm2_(*inputs) : q_in;    // [B, Nk, Dkv]
  const Tensor q = query_(q_in);                               // [B, Nq, Cqk]
  const Tensor k = key_(kv_in);                                // [B, Nk, Cqk]
  const Tensor v = value_(kv_in);                              // [B, Nk, Cv]
  Tensor context = Tensor::f32_uninitialized({batch, nq, cv});               // [B, Nq, Cv]
  for (int64_t b = 0; b < batch; ++b)
    attention_.forward(q.data<float>() + b * nq * cqk, nq, k.data<float>() + b * nk * cqk,
                       v.data<float>() + b * nk * cv, nk, mask_bias ? mask_bias->data<float>() + b * nk : nullptr,
                       context.mutable_data<float>() + b * nq * cv);

  // attended = output(context) (+ queries): the residual is fused as an accumulation.
  const int64_t rows = batch * nq;
  Tensor attended = shape_.use_query_residual ? queries.clone() : Tensor::f32_uninitialized({batch, nq, shape_.q_dim});
  output_.forward(context.data<float>(), rows, attended.mutable_data<float>(), shape_.use_query_residual);

  // result = attended + dense2(gelu(dense1(LayerNorm(attended)))).
  const Tensor normed = layernorm_(attended);
  Tensor hidden = Tensor::f32_uninitialized({batch, nq, dense1_.out_features()});
  dense1_.forward(normed.data<float>(), rows, hidden.mutable_data<float>());
  dense2_.forward(hidden.data<float>(), rows, attended.mutable_data<float>(), /*accumulate=*/true);
  return attended;
}

}  // namespace perceiver
