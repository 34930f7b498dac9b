#include "kernels/linear.h"

#include <cstring>
#include <unordered_map>

#include "common/error.h"
#include "kernels/runtime.h"

namespace perceiver::kernels {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Packed weights are looked up for row counts up to this; larger inputs reuse its layout.
static constexpr int64_t kPackingRows = 256;

Linear::Linear(const Tensor& weight, const Tensor& bias, Activation activation)
    : activation_(activation), weight_(weight.to_f32()) {
  if (weight_.rank() != 2) fail(ErrorKind::Internal, "Linear weight must be 2-D, got " + shape_to_string(weight.shape()));
  out_ = weight_.dim(0);
  in_ = weight_.dim(1);
  if (bias.defined()) {
    const Tensor b = bias.to_f32();
    if (b.numel() != out_) fail(ErrorKind::Internal, "Linear bias does not match " + shape_to_string(weight.shape()));
    bias_ = memory({{1, out_}, dt::f32, tag::ab}, cpu_engine());
    std::memcpy(bias_.get_data_handle(), b.data<float>(), static_cast<size_t>(out_) * 4);
  }
  plan_for(kPackingRows, false);  // pack the weights now, at load time
}

const Linear::Plan& Linear::plan_for(int64_t rows, bool accumulate) const {
  auto& slot = plans_[{rows, accumulate}];
  if (slot) return *slot;

  auto plan = std::make_unique<Plan>();
  plan->src = memory::desc({rows, in_}, dt::f32, tag::ab);
  plan->dst = memory::desc({rows, out_}, dt::f32, tag::ab);
  const memory::desc any_weights({in_, out_}, dt::f32, tag::any);
  dnnl::post_ops post_ops;
  if (activation_ == Activation::Gelu) post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
  if (accumulate) post_ops.append_sum(1.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  const memory::desc bias_md = bias_ ? bias_.get_desc() : memory::desc();
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(plan->src, any_weights, bias_md, plan->dst), attr, cpu_engine());

  // Reuse a packed copy in the layout this primitive wants, or make one (once).
  const memory::desc wanted = pd.weights_desc();
  for (const auto& [desc, mem] : packed_)
    if (desc == wanted) plan->weights = &mem;
  if (!plan->weights) {
    // HF's [out, in] row-major is the [in, out] matrix in "ba" order: no copy needed to read it.
    memory source({{in_, out_}, dt::f32, tag::ba}, cpu_engine(), const_cast<float*>(weight_.data<float>()));
    memory packed(wanted, cpu_engine());
    dnnl::reorder(source, packed).execute(cpu_stream(), source, packed);
    cpu_stream().wait();
    packed_.emplace_back(wanted, packed);
    plan->weights = &packed_.back().second;
  }
  plan->primitive = dnnl::matmul(pd);
  slot = std::move(plan);
  return *slot;
}

void Linear::forward(const float* x, int64_t rows, float* y, bool accumulate) const {
  if (rows == 0) return;
  const Plan& plan = plan_for(rows, accumulate);
  memory src(plan.src, cpu_engine(), const_cast<float*>(x));
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
  Tensor y = Tensor::f32(out_shape);
  forward(x.data<float>(), x.numel() / in_, y.mutable_data<float>());
  return y;
}

}  // namespace perceiver::kernels
