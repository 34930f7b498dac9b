// Linear (y = x·Wᵀ + b) on a oneDNN matmul primitive. W is HF's [out, in]; it is reordered once
// into the layout the primitive prefers. Primitives are created once per row count and reused.
// Optional fused post-ops: exact-erf GELU, and accumulation into y (a residual add).
#pragma once

#include <list>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include <dnnl.hpp>

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

  // y[rows, out] = act(x[rows, in]·Wᵀ + b); with `accumulate` the result is added to y.
  void forward(const float* x, int64_t rows, float* y, bool accumulate = false) const;
  // [..., in] → [..., out], a new tensor.
  Tensor operator()(const Tensor& x) const;

 private:
  struct Plan {
    dnnl::matmul primitive;
    dnnl::memory::desc src, dst;
    const dnnl::memory* weights = nullptr;
  };
  const Plan& plan_for(int64_t rows, bool accumulate) const;

  int64_t in_ = 0, out_ = 0;
  Activation activation_ = Activation::None;
  Tensor weight_;  // [out, in] as stored (kept for re-packing into another layout)
  dnnl::memory bias_;
  // Packed weight copies, one per layout the primitives asked for (normally exactly one).
  mutable std::list<std::pair<dnnl::memory::desc, dnnl::memory>> packed_;  // a list: plans point into it
  mutable std::map<std::pair<int64_t, bool>, std::unique_ptr<Plan>> plans_;
};

}  // namespace perceiver::kernels
