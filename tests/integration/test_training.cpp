// perceiver-train and the training library end to end on tiny models: overfitting a batch,
// bit-identical resume, checkpoints that the inference tools load, evaluation through the
// inference library agreeing with the trainer, fine-tuning with a new head, errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/weights.h"
#include "common/random.h"
#include "media/image.h"
#include "models/masked_lm.h"
#include "support/test_support.h"
#include "training/model/initialization.h"
#include "training/loop/masked_lm_task.h"
#include "training/loop/optimizer.h"
#include "training/model/train_image_classifier.h"
#include "training/model/train_masked_lm.h"

using namespace perceiver;
using namespace perceiver::training;
namespace fs = std::filesystem;

namespace {

const char* kProse =
    "The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with a single step. "
    "All that glitters is not gold. The early bird catches the worm, and the second mouse gets the cheese. ";

// A folder of `files` small English text files.
std::string text_folder(int files) {
  const std::string dir = test::temp_dir();
  for (int i = 0; i < files; ++i) {
    std::string text;
    for (int r = 0; r <= i % 3; ++r) text += kProse;
    test::write_text(dir + "/doc" + std::to_string(10 + i) + ".txt", text);
  }
  return dir;
}

std::string train_tool() { return test::bin_dir() + "/perceiver-train"; }

const std::string kTinyMlm =
    " --num-latents 4 --d-latents 16 --d-model 16 --layers 1 --self-heads 2 --cross-heads 2 --window 34 --batch 4";

std::vector<nlohmann::json> json_lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Two-class image folders: class "dark" has a dark left half, "light" a light one.
std::string image_folder(int per_class, uint32_t seed) {
  const std::string dir = test::temp_dir();
  for (const char* name : {"dark", "light"}) {
    fs::create_directories(dir + "/" + name);
    for (int i = 0; i < per_class; ++i) {
      Image image = test::random_image(6, 6, seed + static_cast<uint32_t>(i));
      for (int64_t y = 0; y < 6; ++y)
        for (int64_t x = 0; x < 3; ++x)
          for (int c = 0; c < 3; ++c) image.rgb[(y * 6 + x) * 3 + c] = std::string(name) == "dark" ? 10 : 245;
      write_png(dir + "/" + name + "/" + std::to_string(i) + ".png", image);
    }
  }
  return dir;
}

const std::string kTinyClassifier =
    " --num-latents 4 --d-latents 16 --layers 1 --self-heads 2 --cross-heads 1 --qk-channels 8 --batch 4";

}  // namespace

TEST_CASE("training: a tiny masked LM overfits one batch") {
  PerceiverConfig config;
  config.architecture = "PerceiverForMaskedLM";
  config.num_latents = 8, config.d_latents = 32, config.d_model = 32, config.num_self_attends_per_block = 2;
  config.num_self_attention_heads = 4, config.num_cross_attention_heads = 2, config.max_position_embeddings = 24;
  TrainMaskedLm<float> model(config);
  initialize_parameters(model.parameters(), 7);
  std::vector<int64_t> ids(2 * 24), labels(2 * 24, -1);
  SplitMix64 random(3);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = 6 + static_cast<int64_t>(random.below(26)) + 'a';
    if (i % 4 == 1) labels[i] = ids[i], ids[i] = 3;  // [MASK]
  }
  OptimizerSettings settings;
  settings.learning_rate = 3e-3;
  settings.weight_decay = 0;
  AdamState<float> state;
  double first = 0, last = 0;
  for (int step = 0; step < 800; ++step) {
    model.parameters().zero_grad();
    last = model.step(GemmBackend::OneDnn, ids.data(), labels.data(), 2, 24, true).loss;
    if (step == 0) first = last;
    clip_gradients(model.parameters(), 1.0);
    adamw_update(model.parameters(), state, settings, settings.learning_rate);
  }
  CHECK(first > 3.0);   // ≈ ln 262 at the start
  CHECK(last < 0.05);   // memorised
}

TEST_CASE("training: a tiny image classifier overfits one batch, the second step creates no primitive") {
  PerceiverConfig config;
  config.architecture = "PerceiverForImageClassificationFourier";
  config.num_latents = 4, config.d_latents = 16, config.num_self_attends_per_block = 1, config.qk_channels = 8,
  config.v_channels = 16, config.num_cross_attention_heads = 1, config.num_self_attention_heads = 2;
  config.id2label = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}};
  TrainImageClassifier<float> model(config);
  initialize_parameters(model.parameters(), 8);
  std::vector<float> pixels(8 * 3 * 5 * 5);
  SplitMix64 random(4);
  for (float& p : pixels) p = static_cast<float>(random.uniform() * 2 - 1);
  const std::vector<int64_t> labels = {0, 1, 2, 3, 3, 2, 1, 0};
  OptimizerSettings settings;
  settings.learning_rate = 1e-2;
  AdamState<float> state;
  double last = 0;
  int64_t plans_after_first = 0;
  for (int step = 0; step < 400; ++step) {
    model.parameters().zero_grad();
    last = model.step(GemmBackend::OneDnn, pixels.data(), labels.data(), 8, 5, 5, true).loss;
    if (step == 0) plans_after_first = onednn_gemm_plans();
    adamw_update(model.parameters(), state, settings, settings.learning_rate);
  }
  CHECK(onednn_gemm_plans() == plans_after_first);
  CHECK(last < 0.05);
}

TEST_CASE("training: the learning rate warms up linearly, then follows the cosine to the floor") {
  OptimizerSettings s;
  s.learning_rate = 1e-3, s.min_learning_rate = 1e-4, s.warmup_steps = 10, s.total_steps = 110;
  CHECK(learning_rate_at(s, 0) == doctest::Approx(1e-4));
  CHECK(learning_rate_at(s, 9) == doctest::Approx(1e-3));
  CHECK(learning_rate_at(s, 60) == doctest::Approx(5.5e-4));  // half-way down the cosine
  CHECK(learning_rate_at(s, 110) == doctest::Approx(1e-4));
  CHECK(learning_rate_at(s, 500) == doctest::Approx(1e-4));
}

TEST_CASE("training: perceiver-train mlm resumes bit-identically, the checkpoint loads in perceiver-mlm") {
  const std::string data = text_folder(6);
  const std::string common = train_tool() + " mlm -q -t 1 --data " + data + " --held-out-every 3" + kTinyMlm +
                             " --steps 8 --warmup 2 --lr 3e-3 --log-every 2 --save-every 4 --seed 5";
  const std::string whole = test::temp_dir() + "/whole", parts = test::temp_dir() + "/parts";
  const test::CommandResult a = test::run_command(common + " -o " + whole);
  REQUIRE_MESSAGE(a.exit_code == 0, a.err);
  const test::CommandResult b1 = test::run_command(common + " -o " + parts + " --stop-after 3");
  REQUIRE_MESSAGE(b1.exit_code == 0, b1.err);
  CHECK(nlohmann::json::parse(b1.out)["steps_done"] == 3);
  const test::CommandResult b2 = test::run_command(common + " -o " + parts + " --resume");
  REQUIRE_MESSAGE(b2.exit_code == 0, b2.err);
  CHECK(file_bytes(whole + "/model.safetensors") == file_bytes(parts + "/model.safetensors"));
  CHECK(file_bytes(whole + "/training_state.safetensors") == file_bytes(parts + "/training_state.safetensors"));

  // The metrics of the resumed run read as one run: the same losses at the same steps.
  const auto whole_metrics = json_lines(whole + "/metrics.jsonl"), part_metrics = json_lines(parts + "/metrics.jsonl");
  std::map<int64_t, double> whole_loss, part_loss;
  for (const auto& line : whole_metrics)
    if (line["split"] == "train") whole_loss[line["step"]] = line["loss"];
  for (const auto& line : part_metrics)
    if (line["split"] == "train") part_loss[line["step"]] = line["loss"];
  CHECK(whole_loss.count(8) == 1);
  CHECK(whole_loss[8] == part_loss[8]);
  CHECK(whole_loss[6] == part_loss[6]);

  // The folder is an ordinary model folder.
  const test::CommandResult filled =
      test::run_command(test::bin_dir() + "/perceiver-mlm -m " + whole + " --json", "The quick brown[MASK][MASK][MASK] jumps.");
  REQUIRE_MESSAGE(filled.exit_code == 0, filled.err);
  CHECK(nlohmann::json::parse(filled.out)["masks"].size() == 3);
}

TEST_CASE("training: perceiver-train eval mlm (inference library) agrees with the trainer's own evaluation") {
  const std::string data = text_folder(6), out = test::temp_dir() + "/model";
  const test::CommandResult trained = test::run_command(train_tool() + " mlm -q -t 1 --data " + data +
                                                        " --held-out-every 3" + kTinyMlm +
                                                        " --steps 6 --log-every 2 --eval-windows 0 -o " + out);
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.err);
  const nlohmann::json train_summary = nlohmann::json::parse(trained.out);
  const test::CommandResult eval = test::run_command(train_tool() + " eval mlm -t 1 -m " + out + " --data " + data +
                                                     " --held-out-every 3");
  REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
  const nlohmann::json result = nlohmann::json::parse(eval.out);
  CHECK(result["count"].get<int64_t>() > 20);
  CHECK(result["loss"].get<double>() == doctest::Approx(train_summary["eval_loss"].get<double>()).epsilon(1e-4));
  CHECK(result["accuracy"].get<double>() == doctest::Approx(train_summary["eval_accuracy"].get<double>()));
  const double baseline = result["most_frequent_byte_accuracy"];
  CHECK(baseline > 0.05);
  CHECK(baseline < 0.5);
}

TEST_CASE("training: perceiver-train classify learns a folder tree, perceiver-classify and eval agree") {
  const std::string train = image_folder(12, 1), test_data = image_folder(6, 100);
  const std::string out = test::temp_dir() + "/classifier";
  const test::CommandResult trained =
      test::run_command(train_tool() + " classify -q -t 1 --data " + train + " --test-data " + test_data +
                        kTinyClassifier + " --steps 60 --lr 3e-3 --warmup 5 --log-every 10 -o " + out +
                        " --plot " + out + "/curve.svg");
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.err);
  CHECK(nlohmann::json::parse(trained.out)["eval_accuracy"].get<double>() == 1.0);
  CHECK(test::read_text(out + "/curve.svg").find("<polyline id=\"eval-accuracy\"") != std::string::npos);
  const PerceiverConfig config = load_config(out + "/config.json");
  CHECK(config.id2label.at(0) == "dark");
  CHECK(config.image_size == 6);

  const test::CommandResult eval = test::run_command(train_tool() + " eval classify -m " + out + " --data " + test_data);
  REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
  CHECK(nlohmann::json::parse(eval.out)["accuracy"].get<double>() == 1.0);
  const test::CommandResult labels = test::run_command(test::bin_dir() + "/perceiver-classify -q -k 1 -f tsv -m " + out +
                                                       " " + test_data + "/light");
  REQUIRE_MESSAGE(labels.exit_code == 0, labels.err);
  std::istringstream lines(labels.out);
  std::string line;
  int light = 0;
  while (std::getline(lines, line)) light += line.find("\tlight\t") != std::string::npos;
  CHECK(light == 6);

  // Fine-tuning with a new head: three classes from a two-class model.
  const std::string three = image_folder(4, 200);
  fs::create_directories(three + "/zebra");
  for (int i = 0; i < 4; ++i) write_png(three + "/zebra/" + std::to_string(i) + ".png", test::random_image(6, 6, 300 + i));
  const std::string tuned = test::temp_dir() + "/tuned";
  const test::CommandResult fine = test::run_command(train_tool() + " classify -q -t 1 --data " + three + " --test-data " +
                                                     three + " --from " + out + " --batch 4 --steps 4 --log-every 2 -o " + tuned);
  REQUIRE_MESSAGE(fine.exit_code == 0, fine.err);
  CHECK(load_config(tuned + "/config.json").num_labels() == 3);
  const auto before = test::read_tensors(out + "/model.safetensors"), after = test::read_tensors(tuned + "/model.safetensors");
  CHECK(after.at("perceiver.decoder.decoder.final_layer.weight").dim(0) == 3);
  CHECK(after.at("perceiver.embeddings.latents").shape() == before.at("perceiver.embeddings.latents").shape());
}

TEST_CASE("training: perceiver-train errors are one line with a distinct exit code") {
  const std::string missing = test::run_command(train_tool() + " mlm -q --data /nonexistent -o " + test::temp_dir() + "/x").err;
  CHECK(missing.find("/nonexistent") != std::string::npos);
  CHECK(test::run_command(train_tool() + " mlm -q --data /nonexistent -o " + test::temp_dir() + "/x").exit_code == 7);
  CHECK(test::run_command(train_tool() + " mlm --bogus").exit_code == 2);
  CHECK(test::run_command(train_tool() + " mlm -q --data " + text_folder(4) + " --held-out-every 2 --resume -o " +
                          test::temp_dir() + "/none").exit_code == 3);
  const std::string bad_idx = test::temp_dir() + "/bad.idx";
  test::write_text(bad_idx, "not an idx file");
  const test::CommandResult idx = test::run_command(train_tool() + " classify -q --train-images " + bad_idx +
                                                    " --train-labels " + bad_idx + " --test-images " + bad_idx +
                                                    " --test-labels " + bad_idx + " -o " + test::temp_dir() + "/y");
  CHECK(idx.exit_code == 7);
  CHECK(idx.err.find(bad_idx) != std::string::npos);
  CHECK(std::count(idx.err.begin(), idx.err.end(), '\n') == 1);
}

TEST_CASE("training: --init positional routes byte i to output i from the start") {
  PerceiverConfig config;
  config.architecture = "PerceiverForMaskedLM";
  config.num_latents = 16, config.d_latents = 32, config.d_model = 32, config.max_position_embeddings = 16;
  config.num_self_attends_per_block = 2, config.num_self_attention_heads = 4, config.num_cross_attention_heads = 2;
  TrainMaskedLm<float> model(config);
  initialize_parameters(model.parameters(), 3);
  align_with_positions(model.parameters(), config, 3);
  std::vector<int64_t> ids(16, 6 + 'a'), labels(16, -1);
  model.step(GemmBackend::OneDnn, ids.data(), labels.data(), 1, 16, false);
  const std::vector<float> before = model.logits();
  for (int64_t changed : {3, 9}) {
    CAPTURE(changed);
    std::vector<int64_t> other = ids;
    other[changed] = 6 + 'z';
    model.step(GemmBackend::OneDnn, other.data(), labels.data(), 1, 16, false);
    std::vector<double> change(16, 0.0);  // how much each position's logits moved
    for (int64_t t = 0; t < 16; ++t)
      for (int64_t v = 0; v < 262; ++v) change[t] += std::abs(model.logits()[t * 262 + v] - before[t * 262 + v]);
    const int64_t most = std::max_element(change.begin(), change.end()) - change.begin();
    CHECK(most == changed);
  }
  PerceiverConfig wrong = config;
  wrong.num_latents = 8;
  TrainMaskedLm<float> mismatched(wrong);
  CHECK_THROWS_AS(align_with_positions(mismatched.parameters(), wrong, 3), Error);
}

TEST_CASE("training: fine-tuning starts from a released-layout checkpoint (MLM and ImageNet-style classifier)") {
  // With a zero learning rate the saved weights are the source's, bit for bit: every tensor was
  // loaded under its HF name and written back under the same name.
  const std::string mlm = test::golden_dir() + "/mlm", out = test::temp_dir() + "/tuned-mlm";
  const test::CommandResult tuned = test::run_command(train_tool() + " mlm -q -t 1 --data " + text_folder(4) +
                                                      " --held-out-every 2 --from " + mlm +
                                                      " --batch 2 --steps 2 --lr 0 --log-every 1 -o " + out);
  REQUIRE_MESSAGE(tuned.exit_code == 0, tuned.err);
  const auto source = test::read_tensors(mlm + "/model.safetensors"), saved = test::read_tensors(out + "/model.safetensors");
  CHECK(saved.size() == source.size());
  for (const auto& [name, tensor] : source) {
    CAPTURE(name);
    REQUIRE(saved.count(name) == 1);
    CHECK(test::max_abs_diff(tensor.to_f32(), saved.at(name)) == 0.0);
  }

  // A six-label Fourier classifier fine-tuned on two classes: a new head, the rest loaded; the
  // images go through the source's processor (224×224), whatever their size.
  const std::string vision = test::golden_dir() + "/vision_fourier", classifier = test::temp_dir() + "/tuned-vision";
  const std::string images = image_folder(4, 400);
  const test::CommandResult fine = test::run_command(train_tool() + " classify -q -t 1 --data " + images + " --test-data " +
                                                     images + " --from " + vision + " --batch 2 --steps 2 --lr 0 " +
                                                     "--log-every 1 -o " + classifier);
  REQUIRE_MESSAGE(fine.exit_code == 0, fine.err);
  const auto before = test::read_tensors(vision + "/model.safetensors"), after = test::read_tensors(classifier + "/model.safetensors");
  CHECK(after.at("perceiver.decoder.decoder.final_layer.weight").dim(0) == 2);
  CHECK(test::max_abs_diff(before.at("perceiver.embeddings.latents").to_f32(), after.at("perceiver.embeddings.latents")) == 0.0);
  CHECK(load_config(classifier + "/config.json").id2label.at(1) == "light");
}

TEST_CASE("training: perceiver-train widen doubles the widths and keeps the model's logits") {
  const std::string wide = test::temp_dir() + "/wide";
  const test::CommandResult r = test::run_command(train_tool() + " widen -m " + test::golden_dir() + "/mlm -o " + wide);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const PerceiverConfig narrow_config = load_config(test::golden_dir() + "/mlm/config.json");
  const PerceiverConfig wide_config = load_config(wide + "/config.json");
  CHECK(wide_config.d_model == 2 * narrow_config.d_model);
  CHECK(wide_config.d_latents == 2 * narrow_config.d_latents);
  CHECK(*wide_config.qk_channels == 2 * *narrow_config.qk_channels);
  const auto narrow_weights = open_model_weights(test::golden_dir() + "/mlm");
  const MaskedLanguageModel narrow(narrow_config, *narrow_weights);
  const auto wide_weights = open_model_weights(wide);
  const MaskedLanguageModel widened(wide_config, *wide_weights);
  const Tensor ids = test::read_tensors(test::golden_dir() + "/mlm/inputs.safetensors").at("input_ids");
  const Tensor a = narrow.forward(ids), b = widened.forward(ids);
  REQUIRE(a.shape() == b.shape());
  double scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) scale = std::max(scale, std::abs(static_cast<double>(a.data<float>()[i])));
  const double diff = test::max_abs_diff(a, b);
  MESSAGE("widened logits: max |diff| " << diff << " of max |logit| " << scale);
  CHECK(diff <= 1e-4 * scale);
  // Refused: another architecture, and a non-empty output folder.
  CHECK(test::run_command(train_tool() + " widen -m " + test::golden_dir() + "/vision_conv -o " + test::temp_dir() + "/x").exit_code == 6);
  CHECK(test::run_command(train_tool() + " widen -m " + test::golden_dir() + "/mlm -o " + wide).exit_code == 2);
}
