#include "checkpoint/weights.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/pytorch_checkpoint.h"
#include "checkpoint/safetensors.h"
#include "common/error.h"
#include "common/random.h"

namespace perceiver {

namespace fs = std::filesystem;

Tensor Weights::take(const std::string& name, const Shape& expected) {
  taken_.insert(name);
  const Tensor* found = lookup(name, expected);
  if (!found) {
    missing_.push_back(name + " " + shape_to_string(expected));
    return Tensor::f32(expected);
  }
  if (found->shape() != expected) {
    misshaped_.push_back(name + " is " + shape_to_string(found->shape()) + ", config implies " + shape_to_string(expected));
    return Tensor::f32(expected);
  }
  if (found->dtype() != DType::F32 && found->dtype() != DType::F16 && found->dtype() != DType::BF16) {
    misshaped_.push_back(name + " is " + dtype_name(found->dtype()) + ", expected a float tensor");
    return Tensor::f32(expected);
  }
  return found->to_f32();
}

void Weights::ignore(const std::string& name) { taken_.insert(name); }

void Weights::finish() {
  std::vector<std::string> unexpected;
  for (const std::string& name : names())
    if (!taken_.count(name)) unexpected.push_back(name);
  if (missing_.empty() && misshaped_.empty() && unexpected.empty()) return;

  // One line: the first few of each kind, and how many in all.
  auto summarise = [](const char* what, const std::vector<std::string>& items) {
    std::ostringstream out;
    out << items.size() << ' ' << what << " (";
    for (size_t i = 0; i < items.size() && i < 4; ++i) out << (i ? "; " : "") << items[i];
    if (items.size() > 4) out << "; …";
    out << ')';
    return out.str();
  };
  std::string message = source() + ": weights do not match config.json:";
  if (!missing_.empty()) message += " " + summarise("missing", missing_);
  if (!misshaped_.empty()) message += " " + summarise("wrong shape", misshaped_);
  if (!unexpected.empty()) message += " " + summarise("unexpected", unexpected);
  fail(ErrorKind::ModelMismatch, message);
}

namespace {

class TensorMapWeights : public Weights {
 public:
  TensorMapWeights(std::map<std::string, Tensor> tensors, std::string source)
      : tensors_(std::move(tensors)), source_(std::move(source)) {}
  std::string source() const override { return source_; }

 protected:
  const Tensor* lookup(const std::string& name, const Shape&) override {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& entry : tensors_) out.push_back(entry.first);
    return out;
  }

 private:
  std::map<std::string, Tensor> tensors_;
  std::string source_;
};

class RandomWeights : public Weights {
 public:
  explicit RandomWeights(uint64_t seed) : seed_(seed) {}
  std::string source() const override { return "random weights"; }

 protected:
  const Tensor* lookup(const std::string& name, const Shape& expected) override {
    // Seeded by the name too, so a tensor's values do not depend on the order of lookups.
    random_ = SplitMix64(seed_ ^ std::hash<std::string>{}(name));
    Tensor t = Tensor::f32(expected);
    float* p = t.mutable_data<float>();
    // LayerNorm/BatchNorm scales and variances near 1 keep activations in a realistic range.
    const bool is_scale = name.find("norm") != std::string::npos && name.size() > 7 &&
                          name.compare(name.size() - 7, 7, ".weight") == 0;
    const bool is_variance = name.find("running_var") != std::string::npos;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float noise = static_cast<float>(normal());
      p[i] = is_scale || is_variance ? 1.f + 0.1f * std::fabs(noise) : 0.02f * noise;
    }
    // Only the latest tensor is held here: the model packs or keeps what it takes, so a second
    // full copy of the weights never exists.
    made_.insert(name);
    current_ = t;
    return &current_;
  }
  std::vector<std::string> names() const override { return {made_.begin(), made_.end()}; }

 private:
  // A standard normal value (common/random.h's Box–Muller), from uniforms of its own: u1 =
  // (k + 1)/(2^53 + 1) over the top 53 bits k of a draw, u2 = k/2^53. Not SplitMix64::normal()'s
  // u1 = 1 − uniform(), so that these benchmark weights stay what they always were.
  double normal() {
    const double u1 = (static_cast<double>(random_.next() >> 11) + 1.0) / 9007199254740993.0;
    const double u2 = static_cast<double>(random_.next() >> 11) / 9007199254740992.0;
    return BoxMuller(u1, u2).first();
  }
  uint64_t seed_;
  SplitMix64 random_{0};
  std::set<std::string> made_;
  Tensor current_;
};

}  // namespace

std::unique_ptr<Weights> open_model_weights(const std::string& model_dir, const WeightsLimits& limits) {
  CheckpointTensors checkpoint = read_checkpoint_folder(model_dir, limits);  // whichever hub layout it has
  std::map<std::string, Tensor> tensors;
  for (auto& [name, tensor] : checkpoint.tensors)
    if (!tensors.emplace(name, std::move(tensor)).second)
      fail(ErrorKind::ModelFormat, checkpoint.source + ": tensor '" + name + "' appears twice");
  return weights_from_tensors(std::move(tensors), checkpoint.source);
}

std::unique_ptr<Weights> weights_from_tensors(std::map<std::string, Tensor> tensors, std::string source) {
  return std::make_unique<TensorMapWeights>(std::move(tensors), std::move(source));
}

std::unique_ptr<Weights> random_weights(uint64_t seed) { return std::make_unique<RandomWeights>(seed); }

}  // namespace perceiver
