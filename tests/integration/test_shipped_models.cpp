// The models committed under models/ reproduce the held-out quality models/README.md documents
// (each folder's quality.json holds the same numbers), measured through the inference library,
// and the tools use them: perceiver-classify on grey 28×28 PNGs agrees with the evaluation's
// predictions. The data comes from Debian packages that scripts/install-deps.sh installs.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "common/json.h"
#include "support/test_support.h"
#include "training/image_dataset.h"
#include "training/model_evaluation.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";
const std::string kPythonDocs = "/usr/share/doc/python3.11/html/_sources";

std::string models_dir() { return fs::path(test::data_dir()).parent_path().parent_path().string() + "/models"; }

nlohmann::json quality(const std::string& model) {
  const std::string path = models_dir() + "/" + model + "/quality.json";
  return parse_json(test::read_text(path), path, ErrorKind::Input);
}

void require_data(const std::string& path) {
  const std::string hint = path + " is missing: run scripts/install-deps.sh (Debian packages "
                                  "dataset-fashion-mnist and python3.11-doc)";
  REQUIRE_MESSAGE(fs::exists(path), hint);
}

}  // namespace

TEST_CASE("shipped models: byte-mlm reproduces its documented held-out masked-byte accuracy") {
  require_data(kPythonDocs);
  const nlohmann::json documented = quality("byte-mlm");
  const test::CommandResult eval = test::run_command(test::bin_dir() + "/perceiver-train eval mlm -m " + models_dir() +
                                                     "/byte-mlm --data " + kPythonDocs);
  REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
  const nlohmann::json measured = nlohmann::json::parse(eval.out);
  CHECK(measured["count"] == documented["masked_bytes"]);
  CHECK(std::abs(measured["accuracy"].get<double>() - documented["accuracy"].get<double>()) <= 0.005);
  CHECK(std::abs(measured["most_frequent_byte_accuracy"].get<double>() -
                 documented["most_frequent_byte_accuracy"].get<double>()) <= 0.005);
  // The targets: at least 40 %, and at least 3× always answering the most frequent
  // masked byte.
  CHECK(measured["accuracy"].get<double>() >= 0.40);
  CHECK(measured["accuracy"].get<double>() >= 3 * measured["most_frequent_byte_accuracy"].get<double>());
}

TEST_CASE("shipped models: fashion-mnist reproduces its documented test accuracy; perceiver-classify agrees") {
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
