#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/error.h"

namespace perceiver::kernels {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

AttentionKernel::AttentionKernel(int64_t heads, int64_t qk_channels, int64_t v_channels, size_t score_budget_bytes)
    : heads_(heads), qk_(qk_channels), v_(v_channels), score_budget_bytes_(score_budget_bytes),
      precision_(kernels::precision()) {
  if (heads <= 0 || qk_channels % heads != 0 || v_channels % heads != 0)
    fail(ErrorKind::ConfigInvalid, "attention widths qk " + std::to_string(qk_channels) + " / v " +
                                       std::to_string(v_channels) + " are not divisible by " +
                                       std::to_string(heads) + " heads");
}

static dnnl::reorder make_reorder(const memory::desc& from, const memory::desc& to) {
  count_primitive_created();
  return dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to));
}

const AttentionKernel::Plan& AttentionKernel::plan_for(int64_t chunk, int64_t nk, bool masked) const {
  auto& slot = plans_[{chunk, nk, masked}];
  if (slot) return *slot;
  auto plan = std::make_unique<Plan>();
  const int64_t h = heads_, dqk = qk_ / h, dv = v_ / h;
  const dt operand = precision_ == Precision::BF16 ? dt::bf16 : dt::f32;
  auto& engine = cpu_engine();

  // Head j of Q is the strided [chunk, dqk] block at column j·dqk: dims [h, chunk, dqk].
  plan->q_md = memory::desc({h, chunk, dqk}, operand, memory::dims{dqk, qk_, 1});
  // Kᵀ per head: [h, dqk, nk] read from K [nk, Cqk] without a copy.
  plan->kt_md = memory::desc({h, dqk, nk}, operand, memory::dims{dqk, 1, qk_});
  plan->scores_md = memory::desc({h, chunk, nk}, dt::f32, tag::abc);
  plan->probabilities_md = memory::desc({h, chunk, nk}, operand, tag::abc);
  plan->v_md = memory::desc({h, nk, dv}, operand, memory::dims{dv, v_, 1});
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
  plan->softmax = dnnl::softmax_v2_forward(dnnl::softmax_v2_forward::primitive_desc(
      dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::softmax_accurate,
                                     plan->scores_md, plan->probabilities_md, 2),
      engine));
  plan->weighted_sum = dnnl::matmul(dnnl::matmul::primitive_desc(
      dnnl::matmul::desc(plan->probabilities_md, plan->v_md, plan->ctx_md), engine));
  for (int i = 0; i < 3; ++i) count_primitive_created();
  if (precision_ == Precision::BF16) {
    plan->q_f32_md = memory::desc({chunk, qk_}, dt::f32, tag::ab);
    plan->q_bf16_md = memory::desc({chunk, qk_}, dt::bf16, tag::ab);
    plan->q_to_bf16 = make_reorder(plan->q_f32_md, plan->q_bf16_md);
  }
  slot = std::move(plan);
  return *slot;
}

const AttentionKernel::KeyValuePlan& AttentionKernel::key_value_plan_for(int64_t nk) const {
  auto& slot = key_value_plans_[nk];
  if (slot) return *slot;
  auto plan = std::make_unique<KeyValuePlan>();
  plan->k_f32_md = memory::desc({nk, qk_}, dt::f32, tag::ab);
  plan->k_bf16_md = memory::desc({nk, qk_}, dt::bf16, tag::ab);
  plan->v_f32_md = memory::desc({nk, v_}, dt::f32, tag::ab);
  plan->v_bf16_md = memory::desc({nk, v_}, dt::bf16, tag::ab);
  plan->k_to_bf16 = make_reorder(plan->k_f32_md, plan->k_bf16_md);
  plan->v_to_bf16 = make_reorder(plan->v_f32_md, plan->v_bf16_md);
  slot = std::move(plan);
  return *slot;
}

void AttentionKernel::forward(const float* q, int64_t nq, const float* k, const float* v, int64_t nk,
                              const float* mask_bias, float* ctx) const {
  if (nq == 0) return;
  if (nk == 0) fail(ErrorKind::Input, "attention over an empty key set");
  const bool bf16 = precision_ == Precision::BF16;
  const int64_t per_query = heads_ * nk * static_cast<int64_t>(sizeof(float));
  const int64_t chunk = std::clamp<int64_t>(static_cast<int64_t>(score_budget_bytes_) / per_query, 1, nq);
  const size_t score_bytes = static_cast<size_t>(heads_ * chunk * nk) * sizeof(float);
  float* scores = static_cast<float*>(scratch(ScratchSlot::AttentionScores, score_bytes));
  // f32: the softmax overwrites the scores in place; bf16: it writes rounded probabilities aside.
  void* probabilities = bf16 ? scratch(ScratchSlot::AttentionProbabilities, score_bytes / 2) : scores;

  auto& engine = cpu_engine();
  auto& stream = cpu_stream();
  const void* keys = k;
  const void* values = v;
  if (bf16) {
    const KeyValuePlan& kv = key_value_plan_for(nk);
    memory k_f32(kv.k_f32_md, engine, const_cast<float*>(k));
    memory v_f32(kv.v_f32_md, engine, const_cast<float*>(v));
    memory k_bf16(kv.k_bf16_md, engine, scratch(ScratchSlot::AttentionKey, kv.k_bf16_md.get_size()));
    memory v_bf16(kv.v_bf16_md, engine, scratch(ScratchSlot::AttentionValue, kv.v_bf16_md.get_size()));
    kv.k_to_bf16.execute(stream, k_f32, k_bf16);
    kv.v_to_bf16.execute(stream, v_f32, v_bf16);
    keys = k_bf16.get_data_handle();
    values = v_bf16.get_data_handle();
  }

  for (int64_t start = 0; start < nq; start += chunk) {
    const int64_t rows = std::min(chunk, nq - start);
    const Plan& plan = plan_for(rows, nk, mask_bias != nullptr);
    const void* queries = q + start * qk_;
    if (bf16) {
      memory q_f32(plan.q_f32_md, engine, const_cast<float*>(q + start * qk_));
      memory q_bf16(plan.q_bf16_md, engine, scratch(ScratchSlot::AttentionQuery, plan.q_bf16_md.get_size()));
      plan.q_to_bf16.execute(stream, q_f32, q_bf16);
      queries = q_bf16.get_data_handle();
    }
    memory q_mem(plan.q_md, engine, const_cast<void*>(queries));
    memory kt_mem(plan.kt_md, engine, const_cast<void*>(keys));
    memory scores_mem(plan.scores_md, engine, scores);
    memory probabilities_mem(plan.probabilities_md, engine, probabilities);
    memory v_mem(plan.v_md, engine, const_cast<void*>(values));
    memory ctx_mem(plan.ctx_md, engine, ctx + start * v_);

    std::unordered_map<int, memory> score_args{
        {DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, kt_mem}, {DNNL_ARG_DST, scores_mem}};
    if (mask_bias) {
      memory mask_mem(plan.mask_md, engine, const_cast<float*>(mask_bias));
      score_args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mask_mem);
    }
    plan.scores.execute(stream, score_args);
    plan.softmax.execute(stream, {{DNNL_ARG_SRC, scores_mem}, {DNNL_ARG_DST, probabilities_mem}});
    plan.weighted_sum.execute(stream,
                              {{DNNL_ARG_SRC, probabilities_mem}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, ctx_mem}});
  }
  stream.wait();
}

}  // namespace perceiver::kernels
