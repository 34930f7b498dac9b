#include "training/model/config_json.h"

#include "kernels/layer_norm.h"
#include "training/model/initialization.h"

namespace perceiver::training {

nlohmann::json config_to_json(const PerceiverConfig& config) {
  nlohmann::json json;
  json["architectures"] = {config.architecture};
  json["model_type"] = "perceiver";
  json["num_latents"] = config.num_latents;
  json["d_latents"] = config.d_latents;
  json["d_model"] = config.d_model;
  json["num_blocks"] = config.num_blocks;
  json["num_self_attends_per_block"] = config.num_self_attends_per_block;
  json["num_self_attention_heads"] = config.num_self_attention_heads;
  json["num_cross_attention_heads"] = config.num_cross_attention_heads;
  json["qk_channels"] = config.qk_channels ? nlohmann::json(*config.qk_channels) : nlohmann::json(nullptr);
  json["v_channels"] = config.v_channels ? nlohmann::json(*config.v_channels) : nlohmann::json(nullptr);
  json["cross_attention_shape_for_attention"] = config.cross_attention_shape_for_attention;
  json["self_attention_widening_factor"] = config.self_attention_widening_factor;
  json["cross_attention_widening_factor"] = config.cross_attention_widening_factor;
  json["hidden_act"] = config.hidden_act;
  json["use_query_residual"] = config.use_query_residual;
  json["vocab_size"] = config.vocab_size;
  json["max_position_embeddings"] = config.max_position_embeddings;
  json["image_size"] = config.image_size;
  json["initializer_range"] = kInitializerRange;
  json["layer_norm_eps"] = kernels::kLayerNormEps;
  json["attention_probs_dropout_prob"] = 0.0;
  json["torch_dtype"] = "float32";
  if (!config.id2label.empty()) {
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (const auto& [id, label] : config.id2label) {
      id2label[std::to_string(id)] = label;
      label2id[label] = id;
    }
    json["id2label"] = id2label;
    json["label2id"] = label2id;
  }
  return json;
}

}  // namespace perceiver::training
