// The models committed under models/ reproduce the held-out quality models/README.md documents
// (each folder's quality.json holds the same numbers), measured through the inference library,
// and the tools use them: perceiver-classify on grey 28×28 PNGs agrees with the evaluation's
// predictions, perceiver-mlm fills everyday sentences. The byte MLM's held-out prose is committed
// (samples/mlm/heldout-prose.txt); Fashion-MNIST comes from a Debian package that
// scripts/install-deps.sh installs.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "common/json.h"
#include "support/test_support.h"
#include "training/data/image_dataset.h"
#include "training/loop/model_evaluation.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";
std::string repository_dir() { return fs::path(test::data_dir()).parent_path().parent_path().string(); }
std::string models_dir() { return repository_dir() + "/models"; }

const std::vector<std::pair<std::string, std::string>> kEverydaySentences = {
    {"The children are playing in[MASK:4] garden.", "The children are playing in the garden."},
    {"He is one of[MASK:4] best players in the world.", "He is one of the best players in the world."},
    {"The answer is in[MASK:4] back of the book.", "The answer is in the back of the book."},
    {"He took a deep breath and opened[MASK:4] door.", "He took a deep breath and opened the door."},
};

nlohmann::json quality(const std::string& model) {
  const std::string path = models_dir() + "/" + model + "/quality.json";
  return parse_json(test::read_text(path), path, ErrorKind::Input);
}

void require_data(const std::string& path) {
  const std::string hint = path + " is missing: run scripts/install-deps.sh (Debian package dataset-fashion-mnist)";
  REQUIRE_MESSAGE(fs::exists(path), hint);
}

}  // namespace

TEST_CASE("shipped models: byte-mlm reproduces its documented quality on held-out prose under three masking rules") {
  // models/README.md, "Quality": each rule re-measured through the inference library (the code
  // perceiver-mlm runs) must give the documented numbers, and beat always answering the most
  // frequent masked byte.
  const nlohmann::json documented = quality("byte-mlm");
  const std::string prose = repository_dir() + "/" + documented["text"].get<std::string>();
  REQUIRE(fs::exists(prose));
  for (const char* rule : {"letters", "space-words", "mixture"}) {
    CAPTURE(rule);
    REQUIRE(documented["rules"].contains(rule));
    const nlohmann::json& expected = documented["rules"][rule];
    char fraction[32];
    std::snprintf(fraction, sizeof fraction, "%.17g", expected["fraction"].get<double>());
    // Two threads: the documented numbers were measured with one (models/training/measure-byte-mlm.sh);
    // the order of float sums differs, far inside the 0.5-point tolerance, and CI takes half the time.
    const test::CommandResult eval = test::run_command(test::bin_dir() + "/perceiver-train eval mlm -t 2 -m " + models_dir() +
                                                       "/byte-mlm --text " + prose + " --rule " + rule + " --fraction " + fraction);
    REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
    const nlohmann::json measured = nlohmann::json::parse(eval.out);
    CHECK(measured["count"] == expected["count"]);
    CHECK(std::abs(measured["accuracy"].get<double>() - expected["accuracy"].get<double>()) <= 0.005);
    CHECK(std::abs(measured["most_frequent_byte_accuracy"].get<double>() -
                   expected["most_frequent_byte_accuracy"].get<double>()) <= 0.005);
    CHECK(measured["accuracy"].get<double>() > 1.5 * measured["most_frequent_byte_accuracy"].get<double>());
  }
  // Floors of the shipped model (the targets, 0.60 and 0.35, are not reached yet:
  // models/README.md).
  CHECK(documented["rules"]["letters"]["accuracy"].get<double>() >= 0.50);
  CHECK(documented["rules"]["letters"]["accuracy"].get<double>() >=
        3 * documented["rules"]["letters"]["most_frequent_byte_accuracy"].get<double>());
  CHECK(documented["rules"]["space-words"]["accuracy"].get<double>() >= 0.25);
  CHECK(documented["rules"]["mixture"]["accuracy"].get<double>() >=
        3 * documented["rules"]["mixture"]["most_frequent_byte_accuracy"].get<double>());
}

TEST_CASE("shipped models: byte-mlm fills one masked word of everyday sentences exactly, through perceiver-mlm") {
  // Sentences written for this test (none is in the training or held-out text), one word masked
  // with its leading space, as the README recommends; the tool must give back the sentence.
  const std::vector<std::pair<std::string, std::string>> cases = kEverydaySentences;
  std::string input, expected;
  for (const auto& [masked, filled] : cases) input += masked + "\n", expected += filled + "\n";
  const test::CommandResult tool =
      test::run_command(test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -q --lines", input);
  REQUIRE_MESSAGE(tool.exit_code == 0, tool.err);
  CHECK(tool.out == expected);
}

TEST_CASE("shipped models: fashion-mnist reproduces its documented test accuracy, perceiver-classify agrees") {
  require_data(kFashion);
  const nlohmann::json documented = quality("fashion-mnist");
  const std::string model = models_dir() + "/fashion-mnist";
  const test::CommandResult eval = test::run_command(test::bin_dir() + "/perceiver-train eval classify -m " + model +
                                                     " --images " + kFashion + "/t10k-images-idx3-ubyte.gz --labels " +
                                                     kFashion + "/t10k-labels-idx1-ubyte.gz");
  REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
  const nlohmann::json measured = nlohmann::json::parse(eval.out);
  CHECK(measured["count"] == 10000);
  CHECK(std::abs(measured["accuracy"].get<double>() - documented["accuracy"].get<double>()) <= 0.005);
  CHECK(measured["accuracy"].get<double>() >= 0.88);  // the target

  // The committed grey PNGs (test images 0..19 hold one of each class) through perceiver-classify
  // give the same labels as the evaluation's predictions for those test images.
  std::vector<int64_t> predictions;
  const training::ImageDataset first =
      training::load_idx(kFashion + "/t10k-images-idx3-ubyte.gz", kFashion + "/t10k-labels-idx1-ubyte.gz", 20);
  training::evaluate_image_classifier(model, first, &predictions);
  const std::string samples = fs::path(test::data_dir()).parent_path().parent_path().string() + "/samples/fashion-mnist";
  const test::CommandResult tool =
      test::run_command(test::kNoSlurm + test::bin_dir() + "/perceiver-classify -q -k 1 -f jsonl -m " + model + " " + samples);
  REQUIRE_MESSAGE(tool.exit_code == 0, tool.err);
  const PerceiverConfig config = load_config(model + "/config.json");
  std::istringstream lines(tool.out);
  int checked = 0;
  for (std::string line; std::getline(lines, line); ++checked) {
    const nlohmann::json record = nlohmann::json::parse(line);
    const std::string file = fs::path(record["file"].get<std::string>()).filename().string();
    const int index = std::stoi(file.substr(file.size() - 8, 4));  // "...-test0019.png"
    CAPTURE(file);
    CHECK(record["top"][0]["label"] == config.id2label.at(predictions.at(index)));
  }
  CHECK(checked == 10);
}
