// An optional observer of intermediate tensors (named as in the golden intermediates files:
// "preprocessed_inputs", "encoder.cross_attention_output", "encoder.block{b}.layer{l}_output",
// "encoder_output", "decoder_query", "decoder_output"). Used by tests and debugging only.
#pragma once

#include <functional>
#include <string>

#include "tensor/tensor.h"

namespace perceiver {

using Trace = std::function<void(const std::string& name, const Tensor& value)>;

inline void record(const Trace* trace, const std::string& name, const Tensor& value) {
  if (trace && *trace) (*trace)(name, value);
}

}  // namespace perceiver
