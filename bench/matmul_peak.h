// The machine's matrix-multiply rate that every benchmark compares its GFLOP/s with, measured
// in the same process as the case it is compared with.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

#include <dnnl.hpp>

#include "bench/flops.h"
#include "kernels/runtime.h"
#include "tensor/tensor.h"

namespace perceiver::bench {

// oneDNN's own matmul of 2048×2048×2048 in `precision` (bf16: bf16 operands, f32 result),
// best of 5 after a one-second warm-up: the machine's rate that the model's rate is compared with.
inline double matmul_peak_gflops(kernels::Precision precision) {
  using dnnl::memory;
  const int64_t n = 2048;
  const auto operand = precision == kernels::Precision::BF16 ? memory::data_type::bf16 : memory::data_type::f32;
  const memory::desc a_md({n, n}, operand, memory::format_tag::ab), any_md({n, n}, operand, memory::format_tag::any);
  const memory::desc c_md({n, n}, memory::data_type::f32, memory::format_tag::ab);
  auto& engine = kernels::cpu_engine();
  auto& stream = kernels::cpu_stream();
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, any_md, c_md), engine);
  // Random operands, made in f32 and reordered into the primitive's types and layouts.
  Tensor values = Tensor::f32({n, n});
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int64_t i = 0; i < n * n; ++i) values.mutable_data<float>()[i] = uniform(rng);
  memory f32_values({{n, n}, memory::data_type::f32, memory::format_tag::ab}, engine, values.mutable_data<float>());
  memory a(pd.src_desc(), engine), b(pd.weights_desc(), engine), c(pd.dst_desc(), engine);
  dnnl::reorder(f32_values, a).execute(stream, f32_values, a);
  dnnl::reorder(f32_values, b).execute(stream, f32_values, b);
  const dnnl::matmul matmul(pd);
  auto run = [&] {
    matmul.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    stream.wait();
  };
  // Warm up for a second: a fresh process's first wide-vector work runs slower for a while
  // (seen here as a bf16 "peak" of 224 instead of 445 GFLOP/s), and the case runs right after.
  for (const auto warm_start = std::chrono::steady_clock::now(); std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count() < 1.0;) run();
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return bench::matmul_flops(n, n, n) / best / 1e9;
}

}  // namespace perceiver::bench
