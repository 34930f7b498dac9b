// Linear (y = x·Wᵀ + b) on a oneDNN matmul primitive. W is HF's [out, in]; it is reordered once,
// at construction, into the blocked layout the matmul prefers, and only that packed copy is kept
// (the source's mapped pages are handed back). Primitives are created once per row count and
// reused. Optional fused post-ops: exact-erf GELU, and accumulation into y (a residual add).
// In bf16 precision (kernels::set_precision before construction) the packed weights are bf16
// and x is rounded to bf16 on the way in; bias, accumulation, post-ops and y stay f32.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <utility>

#include <dnnl.hpp>

#include "kernels/runtime.h"
#include "tensor/tensor.h"

namespace perceiver::kernels {

enum class Activation { None, Gelu };

class Linear {
 public:
  Linear() = default;
  // weight [out, in], bias [out] or an undefined Tensor for no bias.
  Linear(const Tensor& weight, const Tensor& bias, Activation activation = Activation::None);
  Linear(Linear&&) = default;
  Linear& operator=(Linear&&) = default;
  Linear(const Linear&) = delete;
  Linear& operator=(const Linear&) = delete;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  Precision precision() const { return precision_; }

  // y[rows, out] = act(x[rows, in]·Wᵀ + b); with `accumulate` the result is added to y.
  void forward(const float* x, int64_t rows, float* y, bool accumulate = false) const;
  // [..., in] → [..., out], a new tensor.
  Tensor operator()(const Tensor& x) const;

 private:
  struct Plan {
    dnnl::matmul primitive;
    dnnl::memory::desc src, dst;
    const dnnl::memory* weights = nullptr;
    dnnl::reorder to_bf16;          // bf16 only: x [rows, in] f32 → bf16 scratch
    dnnl::memory::desc src_f32;     // bf16 only: x as given
  };
  const Plan& plan_for(int64_t rows, bool accumulate) const;
  dnnl::matmul::primitive_desc describe(int64_t rows, bool accumulate, const dnnl::memory::desc& weights) const;

  int64_t in_ = 0, out_ = 0;
  Activation activation_ = Activation::None;
  Precision precision_ = Precision::F32;
  dnnl::memory bias_;
  // The packed weights; front() is the canonical copy every primitive reads when it can. A
  // primitive that wants another layout gets one more copy, reordered from the front.
  mutable std::list<dnnl::memory> packed_;  // a list: plans point into it
  mutable std::map<std::pair<int64_t, bool>, std::unique_ptr<Plan>> plans_;
};

}  // namespace perceiver::kernels
