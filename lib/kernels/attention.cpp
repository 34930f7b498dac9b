#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/error.h"
#include "kernels/runtime.h"

namespace perceiver::kernels {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

AttentionKernel::AttentionKernel(int64_t heads, int64_t qk_channels, int64_t v_channels, size_t score_budget_bytes)
    : heads_(heads), qk_(qk_channels), v_(v_channels), score_budget_bytes_(score_budget_bytes) {
  if (heads <= 0 || qk_channels % heads != 0 || v_channels % heads != 0)
    fail(ErrorKind::ConfigInvalid, "attention widths qk " + std::to_string(qk_channels) + " / v " +
                                       std::to_string(v_channels) + " are not divisible by " +
                                       std::to_string(heads) + " heads");
}

const AttentionKernel::Plan& AttentionKernel::plan_for(int64_t chunk, int64_t nk, bool masked) const {
  auto& slot = plans_[{chunk, nk, masked}];
  if (slot) return *slot;
  auto plan = std::make_unique<Plan>();
  const int64_t h = heads_, dqk = qk_ / h, dv = v_ / h;
  auto& engine = cpu_engine();

  // Head j of Q is the strided [chunk, dqk] block at column j·dqk: dims [h, chunk, dqk].
  plan->q_md = memory::desc({h, chunk, dqk}, dt::f32, memory::dims{dqk, qk_, 1});
  // Kᵀ per head: [h, dqk, nk] read from K [nk, Cqk] without a copy.
  plan->kt_md = memory::desc({h, dqk, nk}, dt::f32, memory::dims{dqk, 1, qk_});
  plan->scores_md = memory::desc({h, chunk, nk}, dt::f32, tag::abc);
  plan->v_md = memory::desc({h, nk, dv}, dt::f32, memory::dims{dv, v_, 1});
  plan->ctx_md = memory::desc({h, chunk, dv}, dt::f32, memory::dims{dv, v_, 1});
  plan->mask_md = memory::desc({1, 1, nk}, dt::f32, tag::abc);

  dnnl::primitive_attr score_attr;
  // The scale multiplies the finished dot products, as HF divides them by sqrt(dqk).
  score_attr.set_output_scales(0, {1.f / std::sqrt(static_cast<float>(dqk))});
  if (masked) {
    dnnl::post_ops post_ops;
    post_ops.append_binary(dnnl::algorithm::binary_add, plan->mask_md);
    score_attr.set_post_ops(post_ops);
  }
  plan->scores = dnnl::matmul(dnnl::matmul::primitive_desc(
      dnnl::matmul::desc(plan->q_md, plan->kt_md, plan->scores_md), score_attr, engine));
  plan->softmax = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, plan->scores_md, 2), engine));
  plan->weighted_sum = dnnl::matmul(dnnl::matmul::primitive_desc(
      dnnl::matmul::desc(plan->scores_md, plan->v_md, plan->ctx_md), engine));
  slot = std::move(plan);
  return *slot;
}

void AttentionKernel::forward(const float* q, int64_t nq, const float* k, const float* v, int64_t nk,
                              const float* mask_bias, float* ctx) const {
  if (nq == 0) return;
  if (nk == 0) fail(ErrorKind::Input, "attention over an empty key set");
  const int64_t per_query = heads_ * nk * static_cast<int64_t>(sizeof(float));
  const int64_t chunk = std::clamp<int64_t>(static_cast<int64_t>(score_budget_bytes_) / per_query, 1, nq);
  const size_t needed = static_cast<size_t>(heads_ * chunk * nk);
  if (scores_.size() < needed) scores_.resize(needed);

  auto& engine = cpu_engine();
  auto& stream = cpu_stream();
  for (int64_t start = 0; start < nq; start += chunk) {
    const int64_t rows = std::min(chunk, nq - start);
    const Plan& plan = plan_for(rows, nk, mask_bias != nullptr);
    memory q_mem(plan.q_md, engine, const_cast<float*>(q + start * qk_));
    memory kt_mem(plan.kt_md, engine, const_cast<float*>(k));
    memory scores_mem(plan.scores_md, engine, scores_.data());
    memory v_mem(plan.v_md, engine, const_cast<float*>(v));
    memory ctx_mem(plan.ctx_md, engine, ctx + start * v_);

    std::unordered_map<int, memory> score_args{
        {DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, kt_mem}, {DNNL_ARG_DST, scores_mem}};
    if (mask_bias) {
      memory mask_mem(plan.mask_md, engine, const_cast<float*>(mask_bias));
      score_args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mask_mem);
    }
    plan.scores.execute(stream, score_args);
    plan.softmax.execute(stream, {{DNNL_ARG_SRC, scores_mem}, {DNNL_ARG_DST, scores_mem}});
    plan.weighted_sum.execute(stream, {{DNNL_ARG_SRC, scores_mem}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, ctx_mem}});
  }
  stream.wait();
}

}  // namespace perceiver::kernels
