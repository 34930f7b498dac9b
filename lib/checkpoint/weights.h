// Weights: tensors looked up by exact HF name with the shape the config implies. A model's
// constructor takes every tensor it needs; problems are collected rather than thrown one by one,
// and `finish()` reports all missing, mis-shaped and unexpected tensors together.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "checkpoint/weights_limits.h"
#include "tensor/tensor.h"

namespace perceiver {

class Weights {
 public:
  virtual ~Weights() = default;

  // The tensor `name` as F32 (F16/BF16 converted once). On a problem, records it and returns a
  // zero tensor of the expected shape so construction can go on and find the other problems.
  Tensor take(const std::string& name, const Shape& expected);
  // Tensors the model knows about but does not use (e.g. BatchNorm's num_batches_tracked).
  void ignore(const std::string& name);
  // Throws Error(ModelMismatch) listing every problem; call after the model took its tensors.
  void finish();

  virtual std::string source() const = 0;  // for messages: the weights file or "random"

 protected:
  // nullptr when absent; `expected` lets generated sources make a tensor of the right shape.
  virtual const Tensor* lookup(const std::string& name, const Shape& expected) = 0;
  virtual std::vector<std::string> names() const = 0;         // all tensors available

 private:
  std::set<std::string> taken_;
  std::vector<std::string> missing_, misshaped_;
};

// Weights from a model folder in any of the hub's layouts (model.safetensors, its sharded index,
// pytorch_model.bin, its sharded index; see read_checkpoint_folder).
std::unique_ptr<Weights> open_model_weights(const std::string& model_dir, const WeightsLimits& limits = {});

// Weights from tensors already in memory (tests, converted checkpoints).
std::unique_ptr<Weights> weights_from_tensors(std::map<std::string, Tensor> tensors, std::string source);

// Random weights of whatever shapes are asked for, deterministic for a seed (benchmarks):
// LayerNorm scales near 1, everything else N(0, 0.02²)-ish.
std::unique_ptr<Weights> random_weights(uint64_t seed);

}  // namespace perceiver
