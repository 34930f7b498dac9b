#include "training/gemm.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <tuple>

#include "kernels/runtime.h"

namespace perceiver::training {

namespace {

using dnnl::memory;
using dt = memory::data_type;

// A primitive with its own memory objects and scratchpad: the attention runs its per-head
// products from several threads at once, so each thread keeps its own plans (oneDNN's shared
// library scratchpad and re-pointed memory handles are not safe to use concurrently).
struct Plan {
  dnnl::matmul primitive;
  memory a, b, c;      // handles re-pointed on every call
  memory scratchpad;   // owned by this plan
};

using PlanKey = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

std::map<PlanKey, Plan>& plans() {
  thread_local std::map<PlanKey, Plan> cache;
  return cache;
}

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

Plan make_plan(const GemmShape& s) {
  const memory::desc a_md = operand(s.m, s.k, s.lda, s.trans_a);
  const memory::desc b_md = operand(s.k, s.n, s.ldb, s.trans_b);
  const memory::desc c_md({s.m, s.n}, dt::f32, memory::dims{s.ldc, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (s.accumulate) {
    dnnl::post_ops post_ops;
    post_ops.append_sum(1.f);
    attr.set_post_ops(post_ops);
  }
  auto& engine = kernels::cpu_engine();
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, engine);
  kernels::count_primitive_created();
  ++g_plans_created;
  return Plan{dnnl::matmul(pd), memory(a_md, engine, nullptr), memory(b_md, engine, nullptr),
              memory(c_md, engine, nullptr), memory(pd.scratchpad_desc(), engine)};
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
  const PlanKey key{s.trans_a, s.trans_b, s.m, s.n, s.k, s.lda, s.ldb, s.ldc, s.accumulate};
  auto found = plans().find(key);
  if (found == plans().end()) found = plans().emplace(key, make_plan(s)).first;
  Plan& plan = found->second;
  plan.a.set_data_handle(const_cast<float*>(a));
  plan.b.set_data_handle(const_cast<float*>(b));
  plan.c.set_data_handle(c);
  dnnl::stream& stream = kernels::thread_stream();
  plan.primitive.execute(stream, {{DNNL_ARG_SRC, plan.a},
                                  {DNNL_ARG_WEIGHTS, plan.b},
                                  {DNNL_ARG_DST, plan.c},
                                  {DNNL_ARG_SCRATCHPAD, plan.scratchpad}});
  stream.wait();
}

int64_t onednn_gemm_plans() { return g_plans_created.load(); }

double onednn_gemm_seconds() { return static_cast<double>(g_nanoseconds_inside.load()) * 1e-9; }

}  // namespace perceiver::training
