#include "checkpoint/config.h"

#include <sys/stat.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "common/json.h"

namespace perceiver {

namespace {

using Json = nlohmann::json;

// A key or value for a message, JSON-quoted so that control characters stay escaped (one line).
std::string quote(const std::string& text) { return Json(text).dump(); }

// Reads the fields of one config.json object. A key that is absent keeps the default already in
// the PerceiverConfig; a key that is present must have the right type and range.
class ConfigReader {
 public:
  ConfigReader(const Json& json, const std::string& source) : json_(json), source_(source) {}

  [[noreturn]] void invalid(const std::string& what) const { fail(ErrorKind::ConfigInvalid, source_ + ": " + what); }

  // nullptr when the key is absent.
  const Json* find(const char* key) const {
    const auto found = json_.find(key);
    return found == json_.end() ? nullptr : &*found;
  }

  void positive(const char* key, int64_t& field) const {
    if (const Json* value = find(key)) field = positive_value(*value, quote(key));
  }

  // qk_channels / v_channels: null (or absent) means "derive it" (architecture.md §5.1).
  void optional_positive(const char* key, std::optional<int64_t>& field) const {
    const Json* value = find(key);
    if (!value || value->is_null()) {
      field.reset();
      return;
    }
    field = positive_value(*value, quote(key));
  }

  void boolean(const char* key, bool& field) const {
    const Json* value = find(key);
    if (!value) return;
    if (!value->is_boolean()) wrong_type(quote(key), *value, "true or false");
    field = value->get<bool>();
  }

  // A string that must be one of `allowed`.
  void choice(const char* key, std::string& field, const std::vector<std::string>& allowed) const {
    const Json* value = find(key);
    if (!value) return;
    if (!value->is_string()) wrong_type(quote(key), *value, "a string");
    const std::string text = value->get<std::string>();
    for (const std::string& option : allowed)
      if (text == option) {
        field = text;
        return;
      }
    std::string options;
    for (const std::string& option : allowed) options += (options.empty() ? "\"" : ", \"") + option + "\"";
    invalid(quote(key) + " is " + quote(text) + "; supported: " + options);
  }

  // A fixed-length list of positive integers (train_size, output_shape).
  void positive_list(const char* key, size_t length, std::vector<int64_t>& field) const {
    const Json* value = find(key);
    if (!value) return;
    if (!value->is_array() || value->size() != length)
      invalid(quote(key) + " must be a list of " + std::to_string(length) + " positive integers");
    std::vector<int64_t> list;
    for (size_t i = 0; i < length; ++i)
      list.push_back(positive_value((*value)[i], quote(key) + "[" + std::to_string(i) + "]"));
    field = std::move(list);
  }

  std::string architecture() const {
    const Json* value = find("architectures");
    if (!value || value->is_null() || (value->is_array() && value->empty()))
      invalid("config.json has no architectures entry");
    if (!value->is_array()) wrong_type(quote("architectures"), *value, "a list of strings");
    if (!(*value)[0].is_string()) wrong_type(quote("architectures") + "[0]", (*value)[0], "a string");
    return (*value)[0].get<std::string>();
  }

  // id2label: {"0": "tabby cat", "1": ...}; the keys must be exactly 0..n-1, because the model's
  // output row i is label i.
  std::map<int64_t, std::string> id2label() const {
    const Json* value = find("id2label");
    if (!value) return {};
    if (!value->is_object()) wrong_type(quote("id2label"), *value, "an object");
    const int64_t count = static_cast<int64_t>(value->size());
    std::map<int64_t, std::string> labels;
    for (const auto& [key, label] : value->items()) {
      const int64_t id = label_id(key, count);
      if (!label.is_string()) wrong_type(quote("id2label") + "[" + quote(key) + "]", label, "a string");
      if (!labels.emplace(id, label.get<std::string>()).second)
        invalid(quote("id2label") + " lists id " + std::to_string(id) + " twice");
    }
    // n distinct ids, each in [0, n): so all of 0..n-1 are present.
    return labels;
  }

 private:
  [[noreturn]] void wrong_type(const std::string& what, const Json& value, const char* expected) const {
    invalid(what + " must be " + expected + ", not " + value.type_name());
  }

  int64_t positive_value(const Json& value, const std::string& what) const {
    if (!value.is_number_integer()) invalid(what + " must be a positive integer, not " + value.type_name());
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (value.is_number_unsigned() && value.get<uint64_t>() > kMax)
      invalid(what + " is too large (" + value.dump() + ")");
    const int64_t number = value.get<int64_t>();
    if (number <= 0) invalid(what + " must be positive, not " + std::to_string(number));
    return number;
  }

  // A decimal id key of id2label that must lie in [0, count).
  int64_t label_id(const std::string& key, int64_t count) const {
    const std::string problem = quote("id2label") + " key " + quote(key);  // JSON-escaped: one line
    if (key.empty() || key.size() > 18 || key.find_first_not_of("0123456789") != std::string::npos)
      invalid(problem + " is not a label id 0.." + std::to_string(count - 1));
    const int64_t id = std::stoll(key);
    if (id >= count)
      invalid(problem + " leaves a gap: ids must be 0.." + std::to_string(count - 1) + " without gaps");
    return id;
  }

  const Json& json_;
  const std::string& source_;
};

}  // namespace

PerceiverConfig parse_config(const std::string& json_text, const std::string& source) {
  const Json json = parse_json(json_text, source, ErrorKind::ConfigInvalid);
  if (!json.is_object())
    fail(ErrorKind::ConfigInvalid, source + ": config.json is JSON " + json.type_name() + ", not an object");

  const ConfigReader read(json, source);
  PerceiverConfig config;
  config.architecture = read.architecture();
  read.positive("num_latents", config.num_latents);
  read.positive("d_latents", config.d_latents);
  read.positive("d_model", config.d_model);
  read.positive("num_blocks", config.num_blocks);
  read.positive("num_self_attends_per_block", config.num_self_attends_per_block);
  read.positive("num_self_attention_heads", config.num_self_attention_heads);
  read.positive("num_cross_attention_heads", config.num_cross_attention_heads);
  read.optional_positive("qk_channels", config.qk_channels);
  read.optional_positive("v_channels", config.v_channels);
  read.choice("cross_attention_shape_for_attention", config.cross_attention_shape_for_attention, {"kv", "q"});
  read.positive("self_attention_widening_factor", config.self_attention_widening_factor);
  read.positive("cross_attention_widening_factor", config.cross_attention_widening_factor);
  // The released models all use exact GELU; other activations would need kernels we do not have.
  read.choice("hidden_act", config.hidden_act, {"gelu"});
  read.boolean("use_query_residual", config.use_query_residual);
  read.positive("vocab_size", config.vocab_size);
  read.positive("max_position_embeddings", config.max_position_embeddings);
  read.positive("image_size", config.image_size);
  read.positive_list("train_size", 2, config.train_size);
  read.positive("num_frames", config.num_frames);
  read.positive("audio_samples_per_frame", config.audio_samples_per_frame);
  read.positive("samples_per_patch", config.samples_per_patch);
  read.positive_list("output_shape", 4, config.output_shape);
  read.positive("output_num_channels", config.output_num_channels);
  read.positive("_label_trainable_num_channels", config.label_trainable_num_channels);
  config.id2label = read.id2label();
  check_config_bounds(config, source);
  return config;
}

void check_config_bounds(const PerceiverConfig& config, const std::string& source) {
  const auto bound = [&](const char* field, int64_t value, int64_t most) {
    if (value > most)
      fail(ErrorKind::ConfigInvalid, source + ": " + field + " is " + std::to_string(value) +
                                         ", more than this implementation's bound of " + std::to_string(most) +
                                         " (docs/checkpoints.md, \"Bounds\")");
  };
  for (const ConfigBound& b : kConfigBounds) bound(b.field, b.value(config), b.most);
  // Products, each factor already bounded, so none of them overflows.
  bound("num_latents × d_latents", config.num_latents * config.d_latents, int64_t{1} << 28);
  bound("num_blocks × num_self_attends_per_block", config.num_blocks * config.num_self_attends_per_block, 4096);
  bound("image_size²", config.image_size * config.image_size, int64_t{1} << 26);
  bound("train_size[0] × train_size[1]", config.train_size[0] * config.train_size[1], int64_t{1} << 26);
  int64_t points = 1;
  for (int64_t d : config.output_shape) points *= d;
  bound("the product of output_shape", points, int64_t{1} << 28);
  bound("num_frames × audio_samples_per_frame", config.num_frames * config.audio_samples_per_frame, int64_t{1} << 28);
}

PerceiverConfig load_config(const std::string& path) {
  require_regular_file(path, ErrorKind::ConfigInvalid, ErrorKind::ModelMissing);
  return parse_config(read_input_file(path, {kMaxConfigBytes, ""}, ErrorKind::ConfigInvalid), path);
}

}  // namespace perceiver
