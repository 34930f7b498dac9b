// Full-size random weights as a real model file: generated once per case into a cache folder
// (model.safetensors), then every run loads them the way the tools do (mapped, packed, the
// mapped pages released), so load_seconds and peak RSS measure the real loading path.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "checkpoint/safetensors.h"
#include "checkpoint/weights.h"

namespace perceiver::bench {

// Takes every tensor from `inner` and keeps it, so that it can be written afterwards.
class RecordingWeights : public Weights {
 public:
  explicit RecordingWeights(std::unique_ptr<Weights> inner) : inner_(std::move(inner)) {}
  std::string source() const override { return inner_->source(); }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

 protected:
  const Tensor* lookup(const std::string& name, const Shape& expected) override {
    return &(tensors_[name] = inner_->take(name, expected));
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& entry : tensors_) out.push_back(entry.first);
    return out;
  }

 private:
  std::unique_ptr<Weights> inner_;
  std::map<std::string, Tensor> tensors_;
};

// `folder`/model.safetensors, written first (random weights, seed 42) if it is not there;
// `build` constructs the model from whatever weights it is given.
inline std::string cached_random_model(const std::string& folder, const std::function<void(Weights&)>& build) {
  const std::string path = folder + "/model.safetensors";
  if (std::filesystem::exists(path)) return folder;
  std::filesystem::create_directories(folder);
  RecordingWeights recorder(random_weights(42));
  build(recorder);
  write_safetensors(path, {recorder.tensors().begin(), recorder.tensors().end()});
  return folder;
}

}  // namespace perceiver::bench
