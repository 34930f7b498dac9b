#include "training/loop/training_checkpoint.h"

#include <cstring>
#include <filesystem>

#include "checkpoint/safetensors.h"
#include "checkpoint/weights.h"
#include "common/atomic_file.h"
#include "training/model/config_json.h"

namespace perceiver::training {

namespace {

Tensor to_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  Tensor tensor = Tensor::f32_uninitialized(Shape(shape.begin(), shape.end()));
  std::memcpy(tensor.mutable_data<float>(), values.data(), values.size() * sizeof(float));
  return tensor;
}

void copy_into(std::vector<float>& target, const Tensor& source, const std::string& what) {
  const Tensor values = source.to_f32();
  if (static_cast<size_t>(values.numel()) != target.size())
    fail(ErrorKind::ModelMismatch, what + ": " + std::to_string(values.numel()) + " values, expected " +
                                       std::to_string(target.size()));
  std::memcpy(target.data(), values.data<float>(), target.size() * sizeof(float));
}

}  // namespace

void save_model_folder(const std::string& dir, const PerceiverConfig& config, const ParameterSet<float>& params,
                       const std::map<std::string, std::string>& extra_files) {
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (size_t i = 0; i < params.size(); ++i) tensors.emplace_back(params[i].name, to_tensor(params[i].shape, params[i].value));
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  for (const auto& file : extra_files) {
    const std::string& text = file.second;  // a named reference: lambdas cannot capture bindings in C++17
    write_file_atomically(dir + "/" + file.first, [&text](std::ostream& out) { out << text; });
  }
  write_file_atomically(dir + "/config.json", [&](std::ostream& out) { out << config_to_json(config).dump(2) << "\n"; });
}

void save_training_state(const std::string& dir, const ParameterSet<float>& params, const AdamState<float>& state,
                         const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (size_t i = 0; i < params.size() && i < state.first_moment.size(); ++i) {
    tensors.emplace_back("first_moment/" + params[i].name, to_tensor(params[i].shape, state.first_moment[i]));
    tensors.emplace_back("second_moment/" + params[i].name, to_tensor(params[i].shape, state.second_moment[i]));
  }
  std::map<std::string, std::string> all = metadata;
  all["optimizer_step"] = std::to_string(state.step);
  std::filesystem::create_directories(dir);
  write_safetensors(dir + "/training_state.safetensors", tensors, all);
}

void load_parameters(ParameterSet<float>& params, const std::string& dir,
                     const std::function<bool(const std::string&)>& skip) {
  std::unique_ptr<Weights> weights = open_model_weights(dir);
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter<float>& p = params[i];
    if (skip && skip(p.name)) {
      weights->ignore(p.name);
      continue;
    }
    const Tensor tensor = weights->take(p.name, Shape(p.shape.begin(), p.shape.end()));
    copy_into(p.value, tensor, weights->source() + ": " + p.name);
  }
  weights->finish();
}

std::map<std::string, std::string> load_training_state(const std::string& dir, const ParameterSet<float>& params,
                                                       AdamState<float>& state) {
  const std::string path = dir + "/training_state.safetensors";
  const SafetensorsFile file = read_safetensors(path);
  state.first_moment.assign(params.size(), {});
  state.second_moment.assign(params.size(), {});
  for (size_t i = 0; i < params.size(); ++i) {
    for (auto [prefix, moments] : {std::pair{"first_moment/", &state.first_moment}, std::pair{"second_moment/", &state.second_moment}}) {
      const Tensor* tensor = file.find(prefix + params[i].name);
      if (!tensor) fail(ErrorKind::ModelMismatch, path + ": no " + prefix + params[i].name);
      (*moments)[i].assign(params[i].value.size(), 0.f);
      copy_into((*moments)[i], *tensor, path + ": " + prefix + params[i].name);
    }
  }
  const auto step = file.metadata.find("optimizer_step");
  if (step == file.metadata.end()) fail(ErrorKind::ModelFormat, path + ": no optimizer_step in the metadata");
  state.step = std::stoll(step->second);
  return file.metadata;
}

}  // namespace perceiver::training
