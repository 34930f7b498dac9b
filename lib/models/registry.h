// Which HF model class a folder's config.json names, and the raw-tensor interface that
// perceiver-run and the golden tests use: named input tensors in, named output tensors out,
// names and layouts exactly as in tests/data/golden (golden/README.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "core/trace.h"

namespace perceiver {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class RawModel {
 public:
  virtual ~RawModel() = default;
  virtual NamedTensors run(const std::map<std::string, Tensor>& inputs, const Trace* trace = nullptr) const = 0;
};

const std::vector<std::string>& supported_architectures();

// Error(ConfigInvalid) listing the supported architectures when `config.architecture` is not one.
std::unique_ptr<RawModel> make_raw_model(const PerceiverConfig& config, Weights& weights);

// config.json + weights from a model folder, checked against each other (Weights::finish).
std::unique_ptr<RawModel> load_raw_model(const std::string& model_dir, const WeightsLimits& limits = {});

// A named input, or Error(Input) naming what is missing.
const Tensor& require_input(const std::map<std::string, Tensor>& inputs, const std::string& name);

}  // namespace perceiver
