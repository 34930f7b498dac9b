// config.json: the golden configs, the defaults of architecture.md §9, and invalid configs being
// refused with Error(ConfigInvalid) naming the key.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "checkpoint/config.h"
#include "common/error.h"
#include "support/test_support.h"

namespace perceiver {
namespace {

const std::string kSource = "model/config.json";

// `body` is the config text without its braces, after a valid architectures entry.
std::string with_architecture(const std::string& body) {
  return "{\"architectures\": [\"PerceiverForMaskedLM\"]" + (body.empty() ? "" : ", " + body) + "}";
}

void expect_invalid(const std::string& text, const std::string& fragment) {
  try {
    parse_config(text, kSource);
    FAIL("expected ConfigInvalid mentioning: " << fragment);
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(e.kind() == ErrorKind::ConfigInvalid);
    CHECK(message.rfind(kSource + ": ", 0) == 0);
    CHECK(message.find(fragment) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

PerceiverConfig golden(const std::string& name) {
  return load_config(test::golden_dir() + "/" + name + "/config.json");
}

}  // namespace

TEST_CASE("config: every golden config.json parses") {
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::golden_dir())) {
    const std::filesystem::path path = entry.path() / "config.json";
    if (!std::filesystem::exists(path)) continue;
    INFO("config " << path.string());
    const PerceiverConfig config = load_config(path.string());
    CHECK(config.architecture.rfind("PerceiverFor", 0) == 0);
    CHECK(config.hidden_act == "gelu");
    CHECK(config.num_labels() >= 2);
    ++parsed;
  }
  CHECK(parsed >= 7);
}

TEST_CASE("config: golden values") {
  const PerceiverConfig mlm = golden("mlm");
  CHECK(mlm.architecture == "PerceiverForMaskedLM");
  CHECK(mlm.num_latents == 16);
  CHECK(mlm.d_latents == 48);
  CHECK(mlm.d_model == 40);
  CHECK(mlm.num_blocks == 2);
  CHECK(mlm.num_self_attends_per_block == 2);
  CHECK(mlm.num_self_attention_heads == 4);
  CHECK(mlm.num_cross_attention_heads == 2);
  CHECK(mlm.qk_channels == std::optional<int64_t>(32));
  CHECK(mlm.v_channels == std::optional<int64_t>(48));
  CHECK(mlm.cross_attention_widening_factor == 3);
  CHECK(mlm.self_attention_widening_factor == 2);
  CHECK(mlm.max_position_embeddings == 64);
  CHECK(mlm.vocab_size == 262);
  CHECK(mlm.use_query_residual);
  CHECK(mlm.num_labels() == 2);
  CHECK(mlm.id2label.at(1) == "LABEL_1");

  const PerceiverConfig flow = golden("flow");
  CHECK(flow.architecture == "PerceiverForOpticalFlow");
  CHECK(flow.train_size == std::vector<int64_t>{12, 16});
  CHECK(flow.d_model == 322);

  const PerceiverConfig fourier = golden("vision_fourier");
  CHECK(fourier.num_labels() == 6);
  CHECK(fourier.id2label.at(0) == "tabby cat");
  CHECK(fourier.id2label.at(5) == "kite");

  const PerceiverConfig multimodal = golden("multimodal");
  CHECK(multimodal.architecture == "PerceiverForMultimodalAutoencoding");
  CHECK(multimodal.output_shape == std::vector<int64_t>{1, 2, 8, 8});
  CHECK(multimodal.samples_per_patch == 4);
  CHECK(multimodal.audio_samples_per_frame == 8);
  CHECK(multimodal.num_frames == 2);
  CHECK(multimodal.image_size == 8);
  CHECK(multimodal.output_num_channels == 24);
  CHECK(multimodal.label_trainable_num_channels == 16);
  CHECK(multimodal.num_labels() == 5);
}

TEST_CASE("config: an almost empty config takes every default") {
  const PerceiverConfig config = parse_config(R"({"architectures": ["PerceiverForMaskedLM"]})", kSource);
  const PerceiverConfig defaults;
  CHECK(config.architecture == "PerceiverForMaskedLM");
  CHECK(config.num_latents == 256);
  CHECK(config.d_latents == 1280);
  CHECK(config.d_model == 768);
  CHECK(config.num_blocks == 1);
  CHECK(config.num_self_attends_per_block == 26);
  CHECK(config.num_self_attention_heads == 8);
  CHECK(config.num_cross_attention_heads == 8);
  CHECK_FALSE(config.qk_channels.has_value());
  CHECK_FALSE(config.v_channels.has_value());
  CHECK(config.cross_attention_shape_for_attention == "kv");
  CHECK(config.self_attention_widening_factor == 1);
  CHECK(config.cross_attention_widening_factor == 1);
  CHECK(config.hidden_act == "gelu");
  CHECK(config.use_query_residual);
  CHECK(config.vocab_size == 262);
  CHECK(config.max_position_embeddings == 2048);
  CHECK(config.image_size == 56);
  CHECK(config.train_size == std::vector<int64_t>{368, 496});
  CHECK(config.num_frames == 16);
  CHECK(config.audio_samples_per_frame == 1920);
  CHECK(config.samples_per_patch == 16);
  CHECK(config.output_shape == std::vector<int64_t>{1, 16, 224, 224});
  CHECK(config.output_num_channels == 512);
  CHECK(config.label_trainable_num_channels == 1024);
  CHECK(config.id2label.empty());
  CHECK(config.num_labels() == 2);
  CHECK(config.num_latents == defaults.num_latents);
}

TEST_CASE("config: null qk/v channels, unknown keys and other set values") {
  const PerceiverConfig config = parse_config(
      with_architecture(R"("qk_channels": null, "v_channels": null, "seq_len": 2048, "layer_norm_eps": 1e-12,
                           "cross_attention_shape_for_attention": "q", "use_query_residual": false,
                           "id2label": {"1": "b", "0": "a", "2": "c"})"),
      kSource);
  CHECK_FALSE(config.qk_channels.has_value());
  CHECK_FALSE(config.v_channels.has_value());
  CHECK(config.cross_attention_shape_for_attention == "q");
  CHECK_FALSE(config.use_query_residual);
  CHECK(config.num_labels() == 3);
  CHECK(config.id2label.at(0) == "a");
  CHECK(config.id2label.at(2) == "c");
}

TEST_CASE("config: malformed JSON and missing architectures") {
  expect_invalid("{\"architectures\": [", "not valid JSON");
  expect_invalid("", "not valid JSON");
  expect_invalid("[1, 2]", "not an object");
  expect_invalid("{}", "config.json has no architectures entry");
  expect_invalid(R"({"architectures": []})", "config.json has no architectures entry");
  expect_invalid(R"({"architectures": "PerceiverForMaskedLM"})", "\"architectures\" must be a list of strings");
  expect_invalid(R"({"architectures": [3]})", "\"architectures\"[0] must be a string");
}

TEST_CASE("config: wrong JSON types name the key") {
  expect_invalid(with_architecture(R"("num_latents": "x")"), "\"num_latents\" must be a positive integer, not string");
  expect_invalid(with_architecture(R"("d_model": 7.5)"), "\"d_model\" must be a positive integer, not number");
  expect_invalid(with_architecture(R"("num_blocks": null)"), "\"num_blocks\" must be a positive integer, not null");
  expect_invalid(with_architecture(R"("use_query_residual": "yes")"), "\"use_query_residual\" must be true or false");
  expect_invalid(with_architecture(R"("hidden_act": 1)"), "\"hidden_act\" must be a string");
  expect_invalid(with_architecture(R"("train_size": 368)"), "\"train_size\" must be a list of 2 positive integers");
  expect_invalid(with_architecture(R"("id2label": ["a", "b"])"), "\"id2label\" must be an object");
  expect_invalid(with_architecture(R"("id2label": {"0": 5})"), "\"id2label\"[\"0\"] must be a string");
}

TEST_CASE("config: sizes must be positive") {
  expect_invalid(with_architecture(R"("d_latents": 0)"), "\"d_latents\" must be positive, not 0");
  expect_invalid(with_architecture(R"("num_self_attention_heads": -8)"),
                 "\"num_self_attention_heads\" must be positive");
  expect_invalid(with_architecture(R"("qk_channels": 0)"), "\"qk_channels\" must be positive");
  expect_invalid(with_architecture(R"("_label_trainable_num_channels": -1)"), "\"_label_trainable_num_channels\"");
  expect_invalid(with_architecture(R"("output_shape": [1, 16, 0, 224])"), "\"output_shape\"[2] must be positive");
  expect_invalid(with_architecture(R"("output_shape": [1, 16, 224])"), "\"output_shape\" must be a list of 4");
  expect_invalid(with_architecture(R"("train_size": [368, 496, 1])"), "\"train_size\" must be a list of 2");
  expect_invalid(with_architecture(R"("vocab_size": 18446744073709551615)"), "\"vocab_size\" is too large");
}

TEST_CASE("config: id2label keys must be 0..n-1 without gaps") {
  expect_invalid(with_architecture(R"("id2label": {"0": "a", "2": "b"})"), "\"id2label\" key \"2\" leaves a gap");
  expect_invalid(with_architecture(R"("id2label": {"0": "a", "one": "b"})"),
                 "\"id2label\" key \"one\" is not a label id");
  expect_invalid(with_architecture(R"("id2label": {"-1": "a"})"), "\"id2label\" key \"-1\"");
  expect_invalid(with_architecture(R"("id2label": {"0": "a", "00": "b"})"), "lists id 0 twice");
}

TEST_CASE("config: unsupported activation and attention shape are named") {
  expect_invalid(with_architecture(R"("hidden_act": "relu")"), "\"hidden_act\" is \"relu\"; supported: \"gelu\"");
  expect_invalid(with_architecture(R"("cross_attention_shape_for_attention": "qv")"),
                 "\"cross_attention_shape_for_attention\" is \"qv\"");
}

TEST_CASE("config: load_config reports a missing file as ModelMissing") {
  const std::string path = test::temp_dir() + "/config.json";
  try {
    load_config(path);
    FAIL("expected ModelMissing");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::ModelMissing);
    CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
  }
  test::write_text(path, R"({"architectures": ["PerceiverForOpticalFlow"], "num_latents": 2048})");
  const PerceiverConfig config = load_config(path);
  CHECK(config.architecture == "PerceiverForOpticalFlow");
  CHECK(config.num_latents == 2048);
}

}  // namespace perceiver
