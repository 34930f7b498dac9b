#include "training/ops/onednn_ops.h"

#include <tuple>

#include "kernels/runtime.h"

namespace perceiver::training {

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

enum class Kind { GeluForward, GeluBackward, Softmax };

kernels::ReusablePrimitive make_op(Kind kind, int64_t rows, int64_t cols) {
  auto& engine = kernels::cpu_engine();
  const memory::desc md({rows, cols}, dt::f32, tag::ab);  // [rows, cols]
  const dnnl::primitive_attr attr = kernels::user_scratchpad();
  const dnnl::eltwise_forward::desc gelu(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_gelu_erf, md);
  switch (kind) {
    case Kind::GeluForward: {
      const dnnl::eltwise_forward::primitive_desc pd(gelu, attr, engine);
      return kernels::ReusablePrimitive(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, md}, {DNNL_ARG_DST, md}},
                                        pd.scratchpad_desc());
    }
    case Kind::GeluBackward: {
      const dnnl::eltwise_forward::primitive_desc hint(gelu, engine);
      const dnnl::eltwise_backward::primitive_desc pd(
          dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_gelu_erf, md, md), attr, engine, hint);
      return kernels::ReusablePrimitive(dnnl::eltwise_backward(pd),
                                        {{DNNL_ARG_SRC, md}, {DNNL_ARG_DIFF_DST, md}, {DNNL_ARG_DIFF_SRC, md}},
                                        pd.scratchpad_desc());
    }
    case Kind::Softmax:
    default: {
      const dnnl::softmax_v2_forward::primitive_desc pd(
          dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::softmax_accurate, md, md,
                                         /*axis=*/1),
          attr, engine);
      return kernels::ReusablePrimitive(dnnl::softmax_v2_forward(pd), {{DNNL_ARG_SRC, md}, {DNNL_ARG_DST, md}},
                                        pd.scratchpad_desc());
    }
  }
}

// Per thread, as for the matrix products (gemm.cpp): concurrent calls never share a primitive.
kernels::ReusablePrimitive& cached(Kind kind, int64_t rows, int64_t cols) {
  thread_local kernels::PrimitiveCache<std::tuple<Kind, int64_t, int64_t>> cache;
  return cache.get({kind, rows, cols}, [&] { return make_op(kind, rows, cols); });
}

}  // namespace

void onednn_gelu_forward(const float* x, int64_t count, float* y) {
  if (count > 0) cached(Kind::GeluForward, 1, count).run({{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
}

void onednn_gelu_backward(const float* x, int64_t count, const float* dy, float* dx) {
  if (count > 0)
    cached(Kind::GeluBackward, 1, count).run({{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_SRC, dx}});
}

void onednn_softmax_rows(float* values, int64_t rows, int64_t cols) {
  if (rows > 0 && cols > 0) cached(Kind::Softmax, rows, cols).run({{DNNL_ARG_SRC, values}, {DNNL_ARG_DST, values}});
}

}  // namespace perceiver::training
