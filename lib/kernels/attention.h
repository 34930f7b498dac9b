// Multi-head softmax attention over already projected Q, K, V (docs/spec/architecture.md §3, steps
// 2–6): per head j, P = softmax(Q_j·K_jᵀ / sqrt(dqk) + mask) and Ctx_j = P·V_j.
// Heads are strided views of the channel axis (head j owns channels [j·d, (j+1)·d)), so no
// transposes are needed. Queries are processed in chunks so that the score matrix held at any
// time stays under `score_budget_bytes`, however many queries there are.
// In bf16 precision (captured at construction) Q, K and V are rounded to bf16 and the softmax
// writes bf16 probabilities; the scores, the softmax itself and the context stay f32.
#pragma once

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include <dnnl.hpp>

#include "kernels/runtime.h"

namespace perceiver::kernels {

class AttentionKernel {
 public:
  AttentionKernel() = default;
  AttentionKernel(int64_t heads, int64_t qk_channels, int64_t v_channels,
                  size_t score_budget_bytes = size_t{64} << 20);

  int64_t heads() const { return heads_; }

  // q [nq, Cqk], k [nk, Cqk], v [nk, Cv], contiguous rows; mask_bias [nk] (added to every
  // score of key k) or nullptr; ctx [nq, Cv].
  void forward(const float* q, int64_t nq, const float* k, const float* v, int64_t nk,
               const float* mask_bias, float* ctx) const;

 private:
  struct Plan {
    dnnl::matmul scores, weighted_sum;
    dnnl::softmax_v2_forward softmax;
    dnnl::memory::desc q_md, kt_md, scores_md, probabilities_md, v_md, ctx_md, mask_md;
    dnnl::reorder q_to_bf16;  // bf16 only: the query chunk [chunk, Cqk]
    dnnl::memory::desc q_f32_md, q_bf16_md;
  };
  // bf16 only: K and V rounded once per call into scratch buffers.
  struct KeyValuePlan {
    dnnl::reorder k_to_bf16, v_to_bf16;
    dnnl::memory::desc k_f32_md, k_bf16_md, v_f32_md, v_bf16_md;
  };
  const KeyValuePlan& key_value_plan_for(int64_t nk) const;
  const Plan& plan_for(int64_t chunk, int64_t nk, bool masked) const;

  int64_t heads_ = 1, qk_ = 0, v_ = 0;
  size_t score_budget_bytes_ = 0;
  Precision precision_ = Precision::F32;
  mutable std::map<std::tuple<int64_t, int64_t, bool>, std::unique_ptr<Plan>> plans_;
  mutable std::map<int64_t, std::unique_ptr<KeyValuePlan>> key_value_plans_;
};

}  // namespace perceiver::kernels
