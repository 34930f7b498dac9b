// One Perceiver layer (docs/spec/architecture.md §3–§5): pre-LayerNorm multi-head attention, an
// optional query residual, then x + MLP(LayerNorm(x)). Cross-attention layers normalise the
// key/value input with their own LayerNorm (layernorm2); self-attention layers reuse the
// normalised query input for keys and values.
//
// Dimension legend: B batch, Nq queries, Nk keys, Dq query width, Dkv key/value width,
// Cqk query/key channels, Cv value channels, h heads.
#pragma once

#include <optional>
#include <string>

#include "checkpoint/weights.h"
#include "kernels/attention.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"
#include "tensor/tensor.h"

namespace perceiver {

struct LayerShape {
  bool is_cross_attention = false;
  int64_t q_dim = 0;            // Dq
  int64_t kv_dim = 0;           // Dkv (= Dq for self-attention)
  int64_t qk_channels = 0;      // Cqk, resolved (see resolve_* below)
  int64_t v_channels = 0;       // Cv
  int64_t heads = 1;            // h
  int64_t widening_factor = 1;  // MLP hidden = widening_factor · Dq
  bool use_query_residual = true;
};

// Width rules of HF (architecture.md §5.1) for a cross-attention layer given its optional
// qk/v arguments and config.cross_attention_shape_for_attention ("kv" or "q").
LayerShape cross_attention_shape(int64_t q_dim, int64_t kv_dim, std::optional<int64_t> qk, std::optional<int64_t> v,
                                 int64_t heads, int64_t widening_factor, bool use_query_residual,
                                 const std::string& shape_for_attention);
LayerShape self_attention_shape(int64_t dim, std::optional<int64_t> qk, std::optional<int64_t> v, int64_t heads,
                                int64_t widening_factor);

class PerceiverLayer {
 public:
  // Takes the tensors under `prefix` (e.g. "perceiver.encoder.self_attends.3").
  PerceiverLayer(Weights& weights, const std::string& prefix, const LayerShape& shape);

  const LayerShape& shape() const { return shape_; }

  // queries [B, Nq, Dq]; inputs [B, Nk, Dkv] for cross-attention (ignored for self-attention);
  // mask_bias [B, Nk] added to the scores of each key, or nullptr. Returns [B, Nq, Dq].
  Tensor forward(const Tensor& queries, const Tensor* inputs = nullptr, const Tensor* mask_bias = nullptr) const;

 private:
  LayerShape shape_;
  kernels::LayerNorm layernorm1_, layernorm2_, layernorm_;  // query side, kv side (cross only), pre-MLP
  kernels::Linear query_, key_, value_, output_;
  kernels::AttentionKernel attention_;
  kernels::Linear dense1_, dense2_;  // MLP; dense1 has GELU fused
};

}  // namespace perceiver
