#include "training/ops/gemm.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <tuple>

#include "kernels/runtime.h"

namespace perceiver::training {

namespace {

using dnnl::memory;
using dt = memory::data_type;

// Each thread keeps its own primitives (kernels::ReusablePrimitive): the attention runs its
// per-head products from several threads at once.
using PlanKey = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

std::atomic<int64_t> g_plans_created{0};

// A row-major [rows, cols] operand with row stride ld, or its transpose (the same bytes read
// with swapped strides).
memory::desc operand(int64_t rows, int64_t cols, int64_t ld, bool transposed) {
  return transposed ? memory::desc({rows, cols}, dt::f32, memory::dims{1, ld})
                    : memory::desc({rows, cols}, dt::f32, memory::dims{ld, 1});
}

std::atomic<int64_t> g_nanoseconds_inside{0};

// Adds the time from construction to destruction to the products' total. Inside a parallel
// region only thread 0 counts: its share of a statically split loop stands for the region's
// wall time, and summing every thread's time would count the same seconds twice.
struct ScopedTimer {
  bool counts = omp_get_thread_num() == 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ~ScopedTimer() {
    if (counts)
      g_nanoseconds_inside += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  }
};

kernels::ReusablePrimitive make_plan(const GemmShape& s) {
  const memory::desc a_md = operand(s.m, s.k, s.lda, s.trans_a);
  const memory::desc b_md = operand(s.k, s.n, s.ldb, s.trans_b);
  const memory::desc c_md({s.m, s.n}, dt::f32, memory::dims{s.ldc, 1});
  dnnl::primitive_attr attr;
  if (s.accumulate) {
    dnnl::post_ops post_ops;
    post_ops.append_sum(1.f);
    attr.set_post_ops(post_ops);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), kernels::user_scratchpad(attr),
                                        kernels::cpu_engine());
  ++g_plans_created;
  return kernels::ReusablePrimitive(dnnl::matmul(pd), {{DNNL_ARG_SRC, a_md}, {DNNL_ARG_WEIGHTS, b_md}, {DNNL_ARG_DST, c_md}},
                                    pd.scratchpad_desc());
}

}  // namespace

void onednn_gemm(const GemmShape& s, const float* a, const float* b, float* c) {
  if (s.m == 0 || s.n == 0) return;
  const ScopedTimer timer;
  if (s.k == 0) {  // an empty sum: oneDNN would leave C untouched either way
    if (!s.accumulate)
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) c[i * s.ldc + j] = 0;
    return;
  }
  thread_local kernels::PrimitiveCache<PlanKey> plans;
  const PlanKey key{s.trans_a, s.trans_b, s.m, s.n, s.k, s.lda, s.ldb, s.ldc, s.accumulate};
  plans.get(key, [&] { return make_plan(s); }).run({{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
}

int64_t onednn_gemm_plans() { return g_plans_created.load(); }

double onednn_gemm_seconds() { return static_cast<double>(g_nanoseconds_inside.load()) * 1e-9; }

}  // namespace perceiver::training
