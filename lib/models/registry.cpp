#include "models/registry.h"

#include <filesystem>

#include "common/error.h"
#include "models/image_classifier.h"
#include "models/masked_lm.h"
#include "models/multimodal_autoencoder.h"
#include "models/optical_flow.h"
#include "models/text_classifier.h"

namespace perceiver {

namespace {

class RawMaskedLanguageModel : public RawModel {
 public:
  RawMaskedLanguageModel(const PerceiverConfig& config, Weights& weights) : model_(config, weights) {}
  NamedTensors run(const std::map<std::string, Tensor>& inputs, const Trace* trace) const override {
    const Tensor& ids = require_input(inputs, "input_ids");
    auto mask = inputs.find("attention_mask");
    const Tensor* attention_mask = mask == inputs.end() ? nullptr : &mask->second;
    return {{"logits", model_.forward(ids, attention_mask, trace)}};
  }

 private:
  MaskedLanguageModel model_;
};

class RawTextClassifier : public RawModel {
 public:
  RawTextClassifier(const PerceiverConfig& config, Weights& weights) : model_(config, weights) {}
  NamedTensors run(const std::map<std::string, Tensor>& inputs, const Trace* trace) const override {
    auto mask = inputs.find("attention_mask");
    return {{"logits", model_.forward(require_input(inputs, "input_ids"), mask == inputs.end() ? nullptr : &mask->second, trace)}};
  }

 private:
  TextClassifier model_;
};

class RawImageClassifier : public RawModel {
 public:
  RawImageClassifier(const PerceiverConfig& config, Weights& weights) : model_(config, weights) {}
  NamedTensors run(const std::map<std::string, Tensor>& inputs, const Trace* trace) const override {
    return {{"logits", model_.forward(require_input(inputs, "pixel_values"), trace)}};
  }

 private:
  ImageClassifier model_;
};

class RawOpticalFlow : public RawModel {
 public:
  RawOpticalFlow(const PerceiverConfig& config, Weights& weights) : model_(config, weights) {}
  NamedTensors run(const std::map<std::string, Tensor>& inputs, const Trace* trace) const override {
    return {{"logits", model_.forward(require_input(inputs, "inputs"), trace)}};
  }

 private:
  OpticalFlowModel model_;
};

class RawMultimodalAutoencoder : public RawModel {
 public:
  RawMultimodalAutoencoder(const PerceiverConfig& config, Weights& weights) : model_(config, weights) {}
  NamedTensors run(const std::map<std::string, Tensor>& inputs, const Trace* trace) const override {
    const Tensor latents = model_.encode(require_input(inputs, "inputs.audio"), require_input(inputs, "inputs.image"),
                                         require_input(inputs, "inputs.label"), trace);
    // Without explicit subsampled_output_points every point is decoded (with HF's subsampled
    // position formula, which is what the released model was decoded with).
    const auto audio = points(inputs, "subsampled_output_points.audio", model_.audio_points());
    const auto image = points(inputs, "subsampled_output_points.image", model_.image_points());
    MultimodalOutputs out = model_.decode(latents, audio, image, trace);
    return {{"logits.audio", out.audio}, {"logits.image", out.image}, {"logits.label", out.label}};
  }

 private:
  static std::vector<int64_t> points(const std::map<std::string, Tensor>& inputs, const std::string& name, int64_t all) {
    auto it = inputs.find(name);
    std::vector<int64_t> out;
    if (it == inputs.end()) {
      for (int64_t i = 0; i < all; ++i) out.push_back(i);
      return out;
    }
    if (it->second.dtype() != DType::I64 || it->second.rank() != 1)
      fail(ErrorKind::Input, name + " must be a 1-D I64 tensor, got " + shape_to_string(it->second.shape()));
    out.assign(it->second.data<int64_t>(), it->second.data<int64_t>() + it->second.numel());
    for (int64_t p : out)
      if (p < 0 || p >= all) fail(ErrorKind::Input, name + ": point " + std::to_string(p) + " outside [0, " + std::to_string(all) + ")");
    return out;
  }
  MultimodalAutoencoder model_;
};

using Factory = std::unique_ptr<RawModel> (*)(const PerceiverConfig&, Weights&);

template <typename Model>
std::unique_ptr<RawModel> make(const PerceiverConfig& config, Weights& weights) {
  return std::make_unique<Model>(config, weights);
}

const std::vector<std::pair<std::string, Factory>>& factories() {
  static const std::vector<std::pair<std::string, Factory>> table = {
      {"PerceiverForMaskedLM", &make<RawMaskedLanguageModel>},
      {"PerceiverForSequenceClassification", &make<RawTextClassifier>},
      {"PerceiverForImageClassificationLearned", &make<RawImageClassifier>},
      {"PerceiverForImageClassificationFourier", &make<RawImageClassifier>},
      {"PerceiverForImageClassificationConvProcessing", &make<RawImageClassifier>},
      {"PerceiverForOpticalFlow", &make<RawOpticalFlow>},
      {"PerceiverForMultimodalAutoencoding", &make<RawMultimodalAutoencoder>},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : factories()) out.push_back(entry.first);
    return out;
  }();
  return names;
}

std::unique_ptr<RawModel> make_raw_model(const PerceiverConfig& config, Weights& weights) {
  for (const auto& [name, factory] : factories())
    if (name == config.architecture) return factory(config, weights);
  std::string list;
  for (const auto& name : supported_architectures()) list += (list.empty() ? "" : ", ") + name;
  fail(ErrorKind::ConfigInvalid, "unsupported architecture '" + config.architecture + "' (supported: " + list + ")");
}

std::unique_ptr<RawModel> load_raw_model(const std::string& model_dir, const WeightsLimits& limits) {
  if (!std::filesystem::is_directory(model_dir)) fail(ErrorKind::ModelMissing, model_dir + ": no such model folder");
  const PerceiverConfig config = load_config((std::filesystem::path(model_dir) / "config.json").string());
  std::unique_ptr<Weights> weights = open_model_weights(model_dir, limits);
  try {
    std::unique_ptr<RawModel> model = make_raw_model(config, *weights);
    weights->finish();
    return model;
  } catch (const Error& e) {
    // Width rules that the config breaks surface while the model is built: name the file.
    const std::string config_path = (std::filesystem::path(model_dir) / "config.json").string();
    if (e.kind() == ErrorKind::ConfigInvalid && std::string(e.what()).rfind(config_path, 0) != 0)
      fail(ErrorKind::ConfigInvalid, config_path + ": " + e.what());
    throw;
  }
}

const Tensor& require_input(const std::map<std::string, Tensor>& inputs, const std::string& name) {
  auto it = inputs.find(name);
  if (it == inputs.end()) fail(ErrorKind::Input, "missing input tensor '" + name + "'");
  return it->second;
}

}  // namespace perceiver
