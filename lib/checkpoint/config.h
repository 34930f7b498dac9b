// PerceiverConfig: HF config.json with the same field names and the spec's defaults
// (docs/spec/architecture.md §9). Only what the released model classes read is kept.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace perceiver {

struct PerceiverConfig {
  std::string architecture;  // architectures[0], selects the model class
  int64_t num_latents = 256;
  int64_t d_latents = 1280;
  int64_t d_model = 768;
  int64_t num_blocks = 1;
  int64_t num_self_attends_per_block = 26;
  int64_t num_self_attention_heads = 8;
  int64_t num_cross_attention_heads = 8;
  std::optional<int64_t> qk_channels;  // null in most configs
  std::optional<int64_t> v_channels;
  std::string cross_attention_shape_for_attention = "kv";
  int64_t self_attention_widening_factor = 1;
  int64_t cross_attention_widening_factor = 1;
  std::string hidden_act = "gelu";
  bool use_query_residual = true;
  int64_t vocab_size = 262;
  int64_t max_position_embeddings = 2048;
  int64_t image_size = 56;
  std::vector<int64_t> train_size = {368, 496};
  int64_t num_frames = 16;
  int64_t audio_samples_per_frame = 1920;
  int64_t samples_per_patch = 16;
  std::vector<int64_t> output_shape = {1, 16, 224, 224};
  int64_t output_num_channels = 512;
  int64_t label_trainable_num_channels = 1024;  // JSON key "_label_trainable_num_channels"
  std::map<int64_t, std::string> id2label;      // empty when config.json has none

  int64_t num_labels() const { return id2label.empty() ? 2 : static_cast<int64_t>(id2label.size()); }
};

// Sizes the HF model classes hard-wire, whatever config.json says (docs/spec/checkpoints.md §2,
// "hard-wired constants"): one home for the inference models and perceiver-train.
inline constexpr int64_t kLanguageDecoderHeads = 8;         // PerceiverForMaskedLM's decoder
inline constexpr int64_t kLanguageDecoderQkChannels = 256;  //   (its v is d_model)
inline constexpr int64_t kLearnedImageChannels = 256;       // ...Learned: conv1x1 out, position table width
inline constexpr int64_t kImageFourierBands = 64;           // ...Fourier: bands of the pixel positions
inline constexpr int64_t kImageFourierMaxResolution = 224;  // ...Fourier: max_resolution (224, 224)

// Parses config.json text; `source` names the file in error messages. Missing keys take the
// defaults above; a key with the wrong JSON type, a non-positive size, or an unknown
// hidden_act / cross_attention_shape_for_attention is an Error(ConfigInvalid).
PerceiverConfig parse_config(const std::string& json_text, const std::string& source);

// Bounds on every size (and on the products that size allocations), far above every released
// model, so that a config.json from a stranger cannot ask for 10⁹ layers, a dimension whose
// square overflows, or a 16 GiB table before a single weight is read. Error(ConfigInvalid)
// naming the field. parse_config applies them; docs/checkpoints.md lists them.
struct ConfigBound {
  const char* field;
  int64_t most;
  int64_t (*value)(const PerceiverConfig&);
};
inline constexpr ConfigBound kConfigBounds[] = {
    {"num_latents", 65536, [](const PerceiverConfig& c) { return c.num_latents; }},
    {"d_latents", 16384, [](const PerceiverConfig& c) { return c.d_latents; }},
    {"d_model", 16384, [](const PerceiverConfig& c) { return c.d_model; }},
    {"num_blocks", 64, [](const PerceiverConfig& c) { return c.num_blocks; }},
    {"num_self_attends_per_block", 256, [](const PerceiverConfig& c) { return c.num_self_attends_per_block; }},
    {"num_self_attention_heads", 256, [](const PerceiverConfig& c) { return c.num_self_attention_heads; }},
    {"num_cross_attention_heads", 256, [](const PerceiverConfig& c) { return c.num_cross_attention_heads; }},
    {"qk_channels", 16384, [](const PerceiverConfig& c) { return c.qk_channels.value_or(0); }},
    {"v_channels", 16384, [](const PerceiverConfig& c) { return c.v_channels.value_or(0); }},
    {"self_attention_widening_factor", 16, [](const PerceiverConfig& c) { return c.self_attention_widening_factor; }},
    {"cross_attention_widening_factor", 16, [](const PerceiverConfig& c) { return c.cross_attention_widening_factor; }},
    {"vocab_size", 1 << 20, [](const PerceiverConfig& c) { return c.vocab_size; }},
    {"max_position_embeddings", 1 << 20, [](const PerceiverConfig& c) { return c.max_position_embeddings; }},
    {"image_size", 8192, [](const PerceiverConfig& c) { return c.image_size; }},
    {"train_size[0]", 8192, [](const PerceiverConfig& c) { return c.train_size[0]; }},
    {"train_size[1]", 8192, [](const PerceiverConfig& c) { return c.train_size[1]; }},
    {"num_frames", 1024, [](const PerceiverConfig& c) { return c.num_frames; }},
    {"audio_samples_per_frame", 1 << 20, [](const PerceiverConfig& c) { return c.audio_samples_per_frame; }},
    {"samples_per_patch", 65536, [](const PerceiverConfig& c) { return c.samples_per_patch; }},
    {"output_shape[0]", 8192, [](const PerceiverConfig& c) { return c.output_shape[0]; }},
    {"output_shape[1]", 8192, [](const PerceiverConfig& c) { return c.output_shape[1]; }},
    {"output_shape[2]", 8192, [](const PerceiverConfig& c) { return c.output_shape[2]; }},
    {"output_shape[3]", 8192, [](const PerceiverConfig& c) { return c.output_shape[3]; }},
    {"output_num_channels", 16384, [](const PerceiverConfig& c) { return c.output_num_channels; }},
    {"_label_trainable_num_channels", 16384, [](const PerceiverConfig& c) { return c.label_trainable_num_channels; }},
    {"id2label entries", 1 << 20, [](const PerceiverConfig& c) { return static_cast<int64_t>(c.id2label.size()); }},
};
void check_config_bounds(const PerceiverConfig& config, const std::string& source);
PerceiverConfig load_config(const std::string& path);  // Error(ModelMissing) if absent

}  // namespace perceiver
