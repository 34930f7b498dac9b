// perceiver-classify end to end on the golden tiny classifiers and the golden PNGs: output
// formats, agreement with the library, batches, directories with bad files, input lists.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "cli/inputs.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "models/image_classifier.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string fourier_model() { return test::golden_dir() + "/vision_fourier"; }
std::string image(int i) { return test::golden_dir() + "/image_processor/img" + std::to_string(i) + ".png"; }

std::string classify(const std::string& args) {
  return test::bin_dir() + "/perceiver-classify -q -m " + fourier_model() + " " + args;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// A folder with the three golden PNGs, a corrupt one, a truncated one and a non-image file.
std::string mixed_folder() {
  const std::string dir = test::temp_dir();
  for (int i = 0; i < 3; ++i) fs::copy(image(i), dir + "/img" + std::to_string(i) + ".png");
  test::write_text(dir + "/bad.png", "this is not a PNG file at all");
  const std::string png = test::read_text(image(0));
  test::write_text(dir + "/cut.png", png.substr(0, png.size() / 3));
  test::write_text(dir + "/notes.txt", "ignored: not an image extension");
  return dir;
}

}  // namespace

TEST_CASE("perceiver-classify --format jsonl: top-k sorted, labels from config, equal to the library") {
  const auto r = test::run_command(classify("--format jsonl -k 3 " + image(0)));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const auto lines = json_lines(r.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["file"] == image(0));
  const auto& top = lines[0]["top"];
  REQUIRE(top.size() == 3);
  const PerceiverConfig config = load_config(fourier_model() + "/config.json");
  for (size_t i = 0; i < 3; ++i) {
    CHECK(top[i]["id"].is_number_integer());
    CHECK(top[i]["label"] == config.id2label.at(top[i]["id"].get<int64_t>()));
    if (i) CHECK(top[i - 1]["p"].get<double>() >= top[i]["p"].get<double>());
  }

  auto weights = open_model_weights(fourier_model());
  const ImageClassifier model(config, *weights);
  const Tensor logits = model.forward(preprocess_images({load_image(image(0))}, load_image_processor_config(fourier_model())));
  const float* l = logits.data<float>();
  const int64_t best = std::max_element(l, l + logits.dim(1)) - l;
  CHECK(top[0]["id"] == best);
  double sum = 0;
  for (int64_t i = 0; i < logits.dim(1); ++i) sum += std::exp(l[i] - l[best]);
  CHECK(top[0]["p"].get<double>() == doctest::Approx(1.0 / sum).epsilon(1e-5));
}

TEST_CASE("perceiver-classify: a folder with bad images reports them and goes on") {
  const std::string dir = mixed_folder();
  const auto r = test::run_command(classify("--format jsonl " + dir));
  CHECK(r.exit_code == 10);
  const auto lines = json_lines(r.out);
  REQUIRE(lines.size() == 5);  // sorted by name, notes.txt skipped
  CHECK(lines[0]["file"] == dir + "/bad.png");
  CHECK(lines[0].contains("error"));
  CHECK(lines[1]["file"] == dir + "/cut.png");
  CHECK(lines[1].contains("error"));
  for (int i = 2; i < 5; ++i) CHECK(lines[i]["top"].size() == 5);
  CHECK(r.err.find(dir + "/bad.png") != std::string::npos);
  CHECK(r.err.find(dir + "/cut.png") != std::string::npos);
  CHECK(r.err.find("5 inputs: 3 done, 2 failed, 0 skipped") != std::string::npos);
}

TEST_CASE("perceiver-classify --batch gives the results of one image at a time") {
  const std::string dir = mixed_folder();
  const auto single = json_lines(test::run_command(classify("--format jsonl -k 0 " + dir)).out);
  const auto batched = json_lines(test::run_command(classify("--format jsonl -k 0 --batch 2 " + dir)).out);
  const auto whole = json_lines(test::run_command(classify("--format jsonl -k 0 --batch 8 " + dir)).out);
  REQUIRE(single.size() == 5);
  REQUIRE(batched.size() == 5);
  REQUIRE(whole.size() == 5);
  for (size_t i = 2; i < 5; ++i)
    for (const auto* other : {&batched, &whole}) {
      const auto& a = single[i]["top"];
      const auto& b = (*other)[i]["top"];
      REQUIRE(a.size() == b.size());
      for (size_t k = 0; k < a.size(); ++k) {
        if (a[k]["id"] != b[k]["id"]) continue;  // equal p may swap order
        const double pa = a[k]["p"].get<double>(), pb = b[k]["p"].get<double>();
        CHECK(std::fabs(pa - pb) <= 1e-6 * std::max(pa, 1e-30) + 1e-12);
      }
    }
}

TEST_CASE("perceiver-classify: TSV and text formats") {
  const auto tsv = test::run_command(classify("--format tsv -k 2 " + image(1) + " " + image(2)));
  REQUIRE(tsv.exit_code == 0);
  std::istringstream in(tsv.out);
  std::string header, row;
  std::getline(in, header);
  CHECK(header == "file\trank\tid\tlabel\tp");
  int rows = 0;
  while (std::getline(in, row)) {
    ++rows;
    CHECK(std::count(row.begin(), row.end(), '\t') == 4);
  }
  CHECK(rows == 4);
  CHECK(tsv.out.find(image(1) + "\t1\t") != std::string::npos);
  CHECK(tsv.out.find(image(2) + "\t2\t") != std::string::npos);

  const auto text = test::run_command(classify("-k 1 " + image(0)));
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.rfind(image(0) + "\n   1  ", 0) == 0);
}

TEST_CASE("perceiver-classify: @list files, - for a list on stdin, -r for sub-folders") {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/a/b");
  fs::copy(image(0), dir + "/a/x.png");
  fs::copy(image(1), dir + "/a/b/y.png");
  test::write_text(dir + "/list.txt", image(2) + "\n\n# a comment\n" + image(0) + "\n");
  auto lines = json_lines(test::run_command(classify("--format jsonl @" + dir + "/list.txt")).out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["file"] == image(2));
  CHECK(lines[1]["file"] == image(0));

  lines = json_lines(test::run_command(classify("--format jsonl -"), image(1) + "\n").out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["file"] == image(1));

  CHECK(json_lines(test::run_command(classify("--format jsonl " + dir + "/a")).out).size() == 1);
  lines = json_lines(test::run_command(classify("--format jsonl -r " + dir + "/a")).out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["file"] == dir + "/a/x.png");
  CHECK(lines[1]["file"] == dir + "/a/b/y.png");
}

TEST_CASE("expand_inputs keeps missing paths in order so they are reported") {
  cli::InputOptions options;
  options.extensions = cli::image_extensions();
  CHECK(cli::expand_inputs({"/no/such.png", image(0)}, options) == std::vector<std::string>{"/no/such.png", image(0)});
  const auto r = test::run_command(classify("/no/such.png " + image(0)));
  CHECK(r.exit_code == 10);
  CHECK(r.err.find("/no/such.png") != std::string::npos);
}

TEST_CASE("perceiver-classify follows preprocessor_config.json (a 16x16 learned-position model)") {
  // The golden learned model takes 16x16 images: a preprocessor config that resizes to 16 makes
  // the tool usable with it; without that config the released 224x224 settings apply, and the
  // tool says so once (not once per image), naming where the size came from, exit 6.
  const std::string dir = test::temp_dir();
  for (const char* file : {"config.json", "model.safetensors"})
    fs::copy(test::golden_dir() + "/vision_learned/" + file, dir + "/" + file);
  auto r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + dir + " " + image(0) + " " + image(1) + " " + image(2));
  CHECK(r.exit_code == 6);
  CHECK(r.err == "perceiver-classify: error: " + dir + ": this model (learned positions) needs 16x16 images (config.json "
                 "image_size), but the default processor (the model folder has no preprocessor_config.json) resizes "
                 "them to 224x224\n");
  test::write_text(dir + "/preprocessor_config.json",
                   R"({"crop_size": 16, "size": 16, "do_center_crop": true, "do_normalize": true, "do_resize": true,
                       "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "resample": 3})");
  r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + dir + " --format jsonl " + image(0));
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  CHECK(json_lines(r.out).at(0)["top"].size() == 5);
}

TEST_CASE("perceiver-classify: model errors") {
  CHECK(test::run_command(test::bin_dir() + "/perceiver-classify -m /no/such/model " + image(0)).exit_code == 3);
  const auto r = test::run_command(test::bin_dir() + "/perceiver-classify -m " + test::golden_dir() + "/mlm " + image(0));
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("PerceiverForMaskedLM") != std::string::npos);
  CHECK(test::run_command(test::bin_dir() + "/perceiver-classify -m " + fourier_model()).exit_code == 2);
}

TEST_CASE("perceiver-classify reads the sample photographs (PNG and JPEG)") {
  const std::string samples = test::data_dir() + "/../../samples/images";
  const auto r = test::run_command(classify("--format jsonl " + samples));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const auto lines = json_lines(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["file"] == samples + "/chelsea.png");
  CHECK(lines[2]["file"] == samples + "/rocket.jpg");
  for (const auto& line : lines) CHECK(line["top"].size() == 5);
}
