// One Perceiver layer (the same computation as core/layer.h, docs/spec/architecture.md §3–§5)
// with its backward: pre-LayerNorm attention, optional query residual, then x + MLP(LN(x)).
// The forward keeps what the backward needs; buffers are sized on the first step and reused.
// Layers built with the same prefix share their parameters (repeated self-attention blocks), and
// their gradients add up.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/layer.h"
#include "core/tensor_names.h"
#include "training/ops/attention_op.h"
#include "training/ops/gelu_op.h"
#include "training/ops/layer_norm_op.h"
#include "training/ops/linear_op.h"
#include "training/model/parameters.h"

namespace perceiver::training {

// The parameter `name`, added with `shape` and `init` unless a layer added it already.
template <typename T>
Parameter<T>& shared_parameter(ParameterSet<T>& params, const std::string& name, const std::vector<int64_t>& shape,
                               Init init) {
  if (Parameter<T>* existing = params.find(name)) {
    if (existing->shape != shape) fail(ErrorKind::Internal, "parameter " + name + " shared with another shape");
    return *existing;
  }
  return params.add(name, shape, init);
}

template <typename T>
struct TrainLinear {
  Parameter<T>* weight = nullptr;  // [out, in]
  Parameter<T>* bias = nullptr;    // [out]
  int64_t in = 0, out = 0;

  TrainLinear() = default;
  TrainLinear(ParameterSet<T>& params, const std::string& module, int64_t in_features, int64_t out_features)
      : weight(&shared_parameter(params, names::weight(module), {out_features, in_features}, Init::FanIn)),
        bias(&shared_parameter(params, names::bias(module), {out_features}, Init::Zeros)),
        in(in_features),
        out(out_features) {}

  void forward(GemmBackend backend, const T* x, int64_t rows, T* y, bool accumulate = false) const {
    linear_forward(backend, x, rows, in, weight->data(), bias->data(), out, y, accumulate);
  }
  void backward(GemmBackend backend, const T* x, int64_t rows, const T* dy, T* dx, bool dx_accumulate) {
    linear_backward(backend, x, rows, in, weight->data(), out, dy, dx, dx_accumulate, weight->grad.data(),
                    bias->grad.data());
  }
};

template <typename T>
struct TrainLayerNorm {
  Parameter<T>* gamma = nullptr;
  Parameter<T>* beta = nullptr;
  int64_t dim = 0;
  LayerNormStats<T> stats;

  TrainLayerNorm() = default;
  TrainLayerNorm(ParameterSet<T>& params, const std::string& module, int64_t features)
      : gamma(&shared_parameter(params, names::weight(module), {features}, Init::Ones)),
        beta(&shared_parameter(params, names::bias(module), {features}, Init::Zeros)),
        dim(features) {}

  void forward(const T* x, int64_t rows, T* y) { layer_norm_forward(x, rows, dim, gamma->data(), beta->data(), y, stats); }
  void backward(const T* x, int64_t rows, const T* dy, T* dx, bool dx_accumulate) {
    layer_norm_backward(x, rows, dim, gamma->data(), stats, dy, dx, dx_accumulate, gamma->grad.data(), beta->grad.data());
  }
};

template <typename T>
class TrainLayer {
 public:
  TrainLayer(ParameterSet<T>& params, const std::string& prefix, const LayerShape& shape) : shape_(shape) {
    const names::LayerNames name(prefix);  // the names core/layer.cpp takes
    layernorm1_ = TrainLayerNorm<T>(params, name.layernorm1, shape.q_dim);
    if (shape.is_cross_attention) layernorm2_ = TrainLayerNorm<T>(params, name.layernorm2, shape.kv_dim);
    query_ = TrainLinear<T>(params, name.query, shape.q_dim, shape.qk_channels);
    key_ = TrainLinear<T>(params, name.key, shape.kv_dim, shape.qk_channels);
    value_ = TrainLinear<T>(params, name.value, shape.kv_dim, shape.v_channels);
    output_ = TrainLinear<T>(params, name.output, shape.v_channels, shape.q_dim);
    layernorm_ = TrainLayerNorm<T>(params, name.layernorm, shape.q_dim);
    dense1_ = TrainLinear<T>(params, name.dense1, shape.q_dim, shape.widening_factor * shape.q_dim);
    dense2_ = TrainLinear<T>(params, name.dense2, shape.widening_factor * shape.q_dim, shape.q_dim);
  }

  const LayerShape& shape() const { return shape_; }

  // queries [B, Nq, Dq]; inputs [B, Nk, Dkv] (cross-attention only, else null and Nk = Nq);
  // mask_bias [B, Nk] or null. out [B, Nq, Dq].
  void forward(GemmBackend backend, int64_t batch, int64_t nq, const T* queries, int64_t nk, const T* inputs,
               const T* mask_bias, T* out) {
    const bool cross = shape_.is_cross_attention;
    if (!cross) nk = nq;
    batch_ = batch, nq_ = nq, nk_ = nk;
    const int64_t rows = batch * nq, kv_rows = batch * nk;
    const int64_t dq = shape_.q_dim, dkv = shape_.kv_dim, hidden = dense1_.out;
    queries_.assign(queries, queries + rows * dq);
    q_in_.resize(rows * dq);
    layernorm1_.forward(queries, rows, q_in_.data());  // [B·Nq, Dq]
    if (cross) {
      inputs_.assign(inputs, inputs + kv_rows * dkv);
      kv_in_.resize(kv_rows * dkv);
      layernorm2_.forward(inputs, kv_rows, kv_in_.data());  // [B·Nk, Dkv]
    }
    const T* kv = cross ? kv_in_.data() : q_in_.data();
    q_.resize(rows * shape_.qk_channels);
    k_.resize(kv_rows * shape_.qk_channels);
    v_.resize(kv_rows * shape_.v_channels);
    query_.forward(backend, q_in_.data(), rows, q_.data());  // [B·Nq, Cqk]
    key_.forward(backend, kv, kv_rows, k_.data());           // [B·Nk, Cqk]
    value_.forward(backend, kv, kv_rows, v_.data());         // [B·Nk, Cv]
    context_.resize(rows * shape_.v_channels);               // [B·Nq, Cv]
    attention_forward(backend, attention_shape(), q_.data(), k_.data(), v_.data(), mask_bias, context_.data(),
                      probabilities_);
    if (shape_.use_query_residual)
      attended_ = queries_;
    else
      attended_.assign(rows * dq, static_cast<T>(0));
    output_.forward(backend, context_.data(), rows, attended_.data(), /*accumulate=*/true);  // [B·Nq, Dq]
    normed_.resize(rows * dq);
    layernorm_.forward(attended_.data(), rows, normed_.data());
    pre_gelu_.resize(rows * hidden);
    hidden_.resize(rows * hidden);
    dense1_.forward(backend, normed_.data(), rows, pre_gelu_.data());  // [B·Nq, hidden]
    gelu_forward(backend, pre_gelu_.data(), rows * hidden, hidden_.data());
    std::copy(attended_.begin(), attended_.end(), out);
    dense2_.forward(backend, hidden_.data(), rows, out, /*accumulate=*/true);
  }

  // d_out [B, Nq, Dq] → d_queries [B, Nq, Dq] (written) and, for cross-attention, d_inputs
  // [B, Nk, Dkv] (written; null when the inputs need no gradient).
  void backward(GemmBackend backend, const T* d_out, T* d_queries, T* d_inputs) {
    const bool cross = shape_.is_cross_attention;
    const int64_t rows = batch_ * nq_, kv_rows = batch_ * nk_;
    const int64_t dq = shape_.q_dim, hidden = dense1_.out;
    d_attended_.assign(d_out, d_out + rows * dq);
    d_hidden_.resize(rows * hidden);
    dense2_.backward(backend, hidden_.data(), rows, d_out, d_hidden_.data(), false);
    gelu_backward(backend, pre_gelu_.data(), rows * hidden, d_hidden_.data(), d_hidden_.data());
    d_normed_.resize(rows * dq);
    dense1_.backward(backend, normed_.data(), rows, d_hidden_.data(), d_normed_.data(), false);
    layernorm_.backward(attended_.data(), rows, d_normed_.data(), d_attended_.data(), /*dx_accumulate=*/true);

    d_context_.resize(rows * shape_.v_channels);
    output_.backward(backend, context_.data(), rows, d_attended_.data(), d_context_.data(), false);
    d_q_.resize(q_.size());
    d_k_.resize(k_.size());
    d_v_.resize(v_.size());
    attention_backward(backend, attention_shape(), q_.data(), k_.data(), v_.data(), probabilities_, d_context_.data(),
                       d_q_.data(), d_k_.data(), d_v_.data(), attention_scratch_);

    d_q_in_.resize(rows * dq);
    query_.backward(backend, q_in_.data(), rows, d_q_.data(), d_q_in_.data(), false);
    if (cross) {
      d_kv_in_.resize(kv_in_.size());
      key_.backward(backend, kv_in_.data(), kv_rows, d_k_.data(), d_kv_in_.data(), false);
      value_.backward(backend, kv_in_.data(), kv_rows, d_v_.data(), d_kv_in_.data(), true);
      if (d_inputs) layernorm2_.backward(inputs_.data(), kv_rows, d_kv_in_.data(), d_inputs, false);
      else layernorm2_.backward(inputs_.data(), kv_rows, d_kv_in_.data(), d_kv_in_.data(), false);
    } else {
      key_.backward(backend, q_in_.data(), kv_rows, d_k_.data(), d_q_in_.data(), true);
      value_.backward(backend, q_in_.data(), kv_rows, d_v_.data(), d_q_in_.data(), true);
    }
    if (shape_.use_query_residual) std::copy(d_attended_.begin(), d_attended_.end(), d_queries);
    layernorm1_.backward(queries_.data(), rows, d_q_in_.data(), d_queries, shape_.use_query_residual);
  }

 private:
  AttentionShape attention_shape() const {
    return AttentionShape{batch_, nq_, nk_, shape_.heads, shape_.qk_channels, shape_.v_channels};
  }

  LayerShape shape_;
  TrainLayerNorm<T> layernorm1_, layernorm2_, layernorm_;
  TrainLinear<T> query_, key_, value_, output_, dense1_, dense2_;
  int64_t batch_ = 0, nq_ = 0, nk_ = 0;
  // Forward state kept for the backward.
  std::vector<T> queries_, inputs_, q_in_, kv_in_, q_, k_, v_, probabilities_, context_, attended_, normed_,
      pre_gelu_, hidden_;
  // Backward buffers.
  std::vector<T> d_attended_, d_hidden_, d_normed_, d_context_, d_q_, d_k_, d_v_, d_q_in_, d_kv_in_,
      attention_scratch_;
};

}  // namespace perceiver::training
