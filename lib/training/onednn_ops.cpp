#include "training/onednn_ops.h"

#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "kernels/runtime.h"

namespace perceiver::training {

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

// A primitive and the memory objects it runs on, handles re-pointed on every call.
struct Op {
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;  // DNNL_ARG_* → memory with a null handle until the call

  void run(std::initializer_list<std::pair<int, const float*>> pointers) {
    for (const auto& [arg, pointer] : pointers) args.at(arg).set_data_handle(const_cast<float*>(pointer));
    dnnl::stream& stream = kernels::thread_stream();
    primitive.execute(stream, args);
    stream.wait();
  }
};

enum class Kind { GeluForward, GeluBackward, Softmax };

// Thread-local, as for the matrix products (gemm.cpp): concurrent calls never share an Op.
Op& cached(Kind kind, int64_t rows, int64_t cols) {
  thread_local std::map<std::tuple<Kind, int64_t, int64_t>, Op> cache;
  const auto key = std::tuple{kind, rows, cols};
  if (auto found = cache.find(key); found != cache.end()) return found->second;
  auto& engine = kernels::cpu_engine();
  const memory::desc md({rows, cols}, dt::f32, tag::ab);  // [rows, cols]
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  Op op;
  memory::desc scratchpad;
  const dnnl::eltwise_forward::desc gelu(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_gelu_erf, md);
  switch (kind) {
    case Kind::GeluForward: {
      const dnnl::eltwise_forward::primitive_desc pd(gelu, attr, engine);
      op.primitive = dnnl::eltwise_forward(pd);
      op.args = {{DNNL_ARG_SRC, memory(md, engine, nullptr)}, {DNNL_ARG_DST, memory(md, engine, nullptr)}};
      scratchpad = pd.scratchpad_desc();
      break;
    }
    case Kind::GeluBackward: {
      const dnnl::eltwise_forward::primitive_desc hint(gelu, engine);
      const dnnl::eltwise_backward::primitive_desc pd(
          dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_gelu_erf, md, md), attr, engine, hint);
      op.primitive = dnnl::eltwise_backward(pd);
      op.args = {{DNNL_ARG_SRC, memory(md, engine, nullptr)},
                 {DNNL_ARG_DIFF_DST, memory(md, engine, nullptr)},
                 {DNNL_ARG_DIFF_SRC, memory(md, engine, nullptr)}};
      scratchpad = pd.scratchpad_desc();
      break;
    }
    case Kind::Softmax: {
      const dnnl::softmax_v2_forward::primitive_desc pd(
          dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::softmax_accurate, md, md,
                                         /*axis=*/1),
          attr, engine);
      op.primitive = dnnl::softmax_v2_forward(pd);
      op.args = {{DNNL_ARG_SRC, memory(md, engine, nullptr)}, {DNNL_ARG_DST, memory(md, engine, nullptr)}};
      scratchpad = pd.scratchpad_desc();
      break;
    }
  }
  op.args.emplace(DNNL_ARG_SCRATCHPAD, memory(scratchpad, engine));
  kernels::count_primitive_created();
  return cache.emplace(key, std::move(op)).first->second;
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
