#include "kernels/linear.h"

#include <cstring>
#include <string>
#include <unordered_map>

#include "common/error.h"

namespace perceiver::kernels {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The weights are packed for a primitive of this many rows; other row counts read the same
// packed copy (oneDNN's blocked weight layouts depend on K and N, not on M).
static constexpr int64_t kPackingRows = 256;

static dt operand_type(Precision precision) { return precision == Precision::BF16 ? dt::bf16 : dt::f32; }

Linear::Linear(const Tensor& weight, const Tensor& bias, Activation activation)
    : activation_(activation), precision_(kernels::precision()) {
  const Tensor source = weight.to_f32();  // a view for F32 files, a temporary copy otherwise
  if (source.rank() != 2) fail(ErrorKind::Internal, "Linear weight must be 2-D, got " + shape_to_string(weight.shape()));
  out_ = source.dim(0);
  in_ = source.dim(1);
  if (bias.defined()) {
    const Tensor b = bias.to_f32();
    if (b.numel() != out_) fail(ErrorKind::Internal, "Linear bias does not match " + shape_to_string(weight.shape()));
    bias_ = memory({{1, out_}, dt::f32, tag::ab}, cpu_engine());
    std::memcpy(bias_.get_data_handle(), b.data<float>(), static_cast<size_t>(out_) * 4);
  }

  // Pack now, at load time. HF's [out, in] row-major is the [in, out] matrix in "ba" order.
  const memory::desc any_weights({in_, out_}, operand_type(precision_), tag::any);
  const memory::desc packed_md = describe(kPackingRows, false, any_weights).weights_desc();
  memory unpacked({{in_, out_}, dt::f32, tag::ba}, cpu_engine(), const_cast<float*>(source.data<float>()));
  memory packed(packed_md, cpu_engine());
  dnnl::reorder(unpacked, packed).execute(cpu_stream(), unpacked, packed);  // converts to bf16 too
  cpu_stream().wait();
  packed_.push_back(packed);
  weight.release_mapped_pages();  // only the packed copy stays resident
}

dnnl::matmul::primitive_desc Linear::describe(int64_t rows, bool accumulate, const memory::desc& weights) const {
  const memory::desc src({rows, in_}, operand_type(precision_), tag::ab);
  const memory::desc dst({rows, out_}, dt::f32, tag::ab);
  dnnl::post_ops post_ops;
  if (activation_ == Activation::Gelu) post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
  if (accumulate) post_ops.append_sum(1.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  const memory::desc bias_md = bias_ ? bias_.get_desc() : memory::desc();
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, bias_md, dst), attr, cpu_engine());
}

const Linear::Plan& Linear::plan_for(int64_t rows, bool accumulate) const {
  auto& slot = plans_[{rows, accumulate}];
  if (slot) return *slot;

  auto plan = std::make_unique<Plan>();
  // Prefer a primitive that reads the canonical packed copy; if oneDNN would serve that layout
  // only with its reference code, let it choose a layout and reorder once more into it.
  dnnl::matmul::primitive_desc pd = describe(rows, accumulate, packed_.front().get_desc());
  if (std::string(pd.impl_info_str()).find("ref") == std::string::npos) {
    plan->weights = &packed_.front();
  } else {
    pd = describe(rows, accumulate, memory::desc({in_, out_}, operand_type(precision_), tag::any));
    for (const memory& copy : packed_)
      if (copy.get_desc() == pd.weights_desc()) plan->weights = &copy;
    if (!plan->weights) {
      memory repacked(pd.weights_desc(), cpu_engine());
      dnnl::reorder(packed_.front(), repacked).execute(cpu_stream(), packed_.front(), repacked);
      cpu_stream().wait();
      count_primitive_created();
      packed_.push_back(repacked);
      plan->weights = &packed_.back();
    }
  }
  plan->src = pd.src_desc();
  plan->dst = pd.dst_desc();
  plan->primitive = dnnl::matmul(pd);
  count_primitive_created();
  if (precision_ == Precision::BF16) {
    plan->src_f32 = memory::desc({rows, in_}, dt::f32, tag::ab);
    plan->to_bf16 = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), plan->src_f32, cpu_engine(), plan->src));
    count_primitive_created();
  }
  slot = std::move(plan);
  return *slot;
}

void Linear::forward(const float* x, int64_t rows, float* y, bool accumulate) const {
  if (rows == 0) return;
  const Plan& plan = plan_for(rows, accumulate);
  memory src;
  if (precision_ == Precision::BF16) {
    memory x_f32(plan.src_f32, cpu_engine(), const_cast<float*>(x));
    src = memory(plan.src, cpu_engine(), scratch(ScratchSlot::LinearSource, plan.src.get_size()));
    plan.to_bf16.execute(cpu_stream(), x_f32, src);
  } else {
    src = memory(plan.src, cpu_engine(), const_cast<float*>(x));
  }
  memory dst(plan.dst, cpu_engine(), y);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, *plan.weights}, {DNNL_ARG_DST, dst}};
  if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
  plan.primitive.execute(cpu_stream(), args);
  cpu_stream().wait();
}

Tensor Linear::operator()(const Tensor& x) const {
  if (x.rank() == 0 || x.shape().back() != in_)
    fail(ErrorKind::Internal, "Linear expects [..., " + std::to_string(in_) + "], got " + shape_to_string(x.shape()));
  Shape out_shape = x.shape();
  out_shape.back() = out_;
  Tensor y = Tensor::f32_uninitialized(out_shape);
  forward(x.data<float>(), x.numel() / in_, y.mutable_data<float>());
  return y;
}

}  // namespace perceiver::kernels
