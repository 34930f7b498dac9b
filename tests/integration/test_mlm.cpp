// The masked-LM path end to end on the golden tiny model (max_position_embeddings 64):
// mask parsing, the window policy, fill_masks against the HF-style forward pass, and the
// perceiver-mlm executable (stdin, files, --json schema, errors and exit codes).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "media/byte_tokenizer.h"
#include "media/masked_text.h"
#include "tasks/mask_filler.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string model_dir() { return test::golden_dir() + "/mlm"; }

const MaskedLanguageModel& golden_model() {
  static auto weights = open_model_weights(model_dir());
  static MaskedLanguageModel model(load_config(model_dir() + "/config.json"), *weights);
  return model;
}

// HF-style: [CLS] ids [SEP] padded to P with mask 0, full forward; logits row at `position`.
std::vector<float> forward_logits(const std::vector<int64_t>& document, int64_t position) {
  const MaskedLanguageModel& model = golden_model();
  const int64_t p = model.max_length();
  Tensor ids = Tensor::zeros(DType::I64, {1, p}), mask = Tensor::zeros(DType::I64, {1, p});
  std::vector<int64_t> framed = {tokenizer::kCls};
  framed.insert(framed.end(), document.begin(), document.end());
  framed.push_back(tokenizer::kSep);
  REQUIRE(static_cast<int64_t>(framed.size()) <= p);
  for (size_t i = 0; i < framed.size(); ++i) ids.mutable_data<int64_t>()[i] = framed[i], mask.mutable_data<int64_t>()[i] = 1;
  const Tensor logits = model.forward(ids, &mask);
  const int64_t vocab = logits.dim(2);
  const float* row = logits.data<float>() + position * vocab;
  return {row, row + vocab};
}

std::string mlm_command(const std::string& args) { return test::bin_dir() + "/perceiver-mlm -m " + model_dir() + " " + args; }

}  // namespace

TEST_CASE("masked text: [MASK], [MASK:N] and mask spans") {
  using tokenizer::kMask;
  CHECK(encode_masked_document("a[MASK]b") == std::vector<int64_t>{'a' + 6, kMask, 'b' + 6});
  CHECK(encode_masked_document("a[MASK:3]b") == std::vector<int64_t>{'a' + 6, kMask, kMask, kMask, 'b' + 6});
  CHECK(encode_masked_document("[MASK:0]").size() == 8);   // not a marker: plain bytes
  CHECK(encode_masked_document("[MASK:x]").size() == 8);
  CHECK(encode_masked_document("[MASK:2").size() == 7);
  CHECK(encode_masked_document("the cat sat", {" cat"}) ==
        std::vector<int64_t>{'t' + 6, 'h' + 6, 'e' + 6, kMask, kMask, kMask, kMask, ' ' + 6, 's' + 6, 'a' + 6, 't' + 6});
  CHECK(encode_masked_document("[CLS][MASK:1]") == std::vector<int64_t>{tokenizer::kCls, kMask});
}

TEST_CASE("window starts cover the document with overlap, the last aligned to the end") {
  CHECK(window_starts(10, 62) == std::vector<int64_t>{0});
  CHECK(window_starts(62, 62) == std::vector<int64_t>{0});
  CHECK(window_starts(100, 62) == std::vector<int64_t>{0, 31, 38});
  CHECK(window_starts(5, 1) == std::vector<int64_t>{0, 1, 2, 3, 4});
  for (int64_t length : {63, 200, 1000}) {
    const auto starts = window_starts(length, 62);
    CHECK(starts.front() == 0);
    CHECK(starts.back() == length - 62);
    for (size_t i = 1; i < starts.size(); ++i) CHECK(starts[i] - starts[i - 1] <= 31);
  }
}

TEST_CASE("fill_masks equals the HF-framed forward pass for a short document") {
  const std::vector<int64_t> ids = encode_masked_document("Perceiver reads raw [MASK:4]; caf\xc3\xa9 [MASK].");
  const FilledDocument filled = fill_masks(golden_model(), ids, 0);
  REQUIRE(filled.masks.size() == 5);
  for (const MaskPrediction& mask : filled.masks) {
    CAPTURE(mask.position);
    CHECK(ids[mask.position - 1] == tokenizer::kMask);
    const std::vector<float> logits = forward_logits(ids, mask.position);
    const float peak = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(l - peak);
    REQUIRE(mask.candidates.size() == logits.size());
    double total = 0;
    for (size_t i = 0; i < mask.candidates.size(); ++i) {
      const TokenScore& c = mask.candidates[i];
      CHECK(c.p == doctest::Approx(std::exp(logits[c.id] - peak) / sum).epsilon(1e-4));
      if (i) CHECK(mask.candidates[i - 1].p >= c.p);
      total += c.p;
    }
    CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(mask.candidates[0].id == std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
}

TEST_CASE("fill_masks on a document longer than the window predicts from the most central window") {
  std::string text;
  for (int i = 0; i < 6; ++i) text += "The quick brown fox jumps over the lazy dog. ";
  std::vector<int64_t> ids = encode_masked_document(text);
  const int64_t length = static_cast<int64_t>(ids.size()), capacity = golden_model().max_length() - 2;
  REQUIRE(length > 3 * capacity);
  // Every 7th byte and both ends: many masks per window, every window boundary crossed.
  std::vector<int64_t> masked_at = {0};
  for (int64_t i = 2; i < length - 1; i += 7) masked_at.push_back(i);
  masked_at.push_back(length - 1);
  for (int64_t i : masked_at) ids[i] = tokenizer::kMask;
  const FilledDocument filled = fill_masks(golden_model(), ids, 3);
  REQUIRE(filled.masks.size() == masked_at.size());

  const auto starts = window_starts(length, capacity);
  for (size_t j = 0; j < masked_at.size(); ++j) {
    const int64_t i = masked_at[j];
    CHECK(filled.masks[j].position == i + 1);
    CHECK(filled.masks[j].candidates.size() == 3);
    // The expected window: nearest centre, the earlier on ties.
    size_t best = 0;
    double best_distance = 1e30;
    for (size_t w = 0; w < starts.size(); ++w) {
      if (i < starts[w] || i >= starts[w] + capacity) continue;
      const double distance = std::fabs(i - (starts[w] + (starts[w] + capacity - 1)) / 2.0);
      if (distance < best_distance) best_distance = distance, best = w;
    }
    const std::vector<int64_t> window(ids.begin() + starts[best], ids.begin() + starts[best] + capacity);
    const std::vector<float> logits = forward_logits(window, i - starts[best] + 1);
    CHECK(filled.masks[j].candidates[0].id == std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  CHECK(filled.text.size() >= text.size());
}

TEST_CASE("perceiver-mlm fills masks from stdin, byte for byte") {
  const auto result = test::run_command(mlm_command(""), "Hello [MASK:3] world\n");
  CAPTURE(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.rfind("Hello ", 0) == 0);
  CHECK(result.out.size() >= std::string("Hello xyz world\n").size());
  CHECK(result.out.substr(result.out.size() - 7) == " world\n");  // the trailing newline is part of the document
}

TEST_CASE("perceiver-mlm --json: schema, positions, top-k order, several files in order") {
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/a.txt", "one [MASK] two");
  test::write_text(dir + "/b.txt", "[MASK:2]xyz");
  const auto result = test::run_command(mlm_command("--json --top-k 4 " + dir + "/a.txt " + dir + "/b.txt"));
  CAPTURE(result.err);
  REQUIRE(result.exit_code == 0);
  std::vector<nlohmann::json> lines;
  std::istringstream in(result.out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["file"] == dir + "/a.txt");
  CHECK(lines[1]["file"] == dir + "/b.txt");
  REQUIRE(lines[0]["masks"].size() == 1);
  CHECK(lines[0]["masks"][0]["position"] == 5);  // [CLS] o n e ' ' → byte 4 is position 5
  REQUIRE(lines[1]["masks"].size() == 2);
  CHECK(lines[1]["masks"][0]["position"] == 1);
  CHECK(lines[1]["masks"][1]["position"] == 2);
  for (const auto& line : lines)
    for (const auto& mask : line["masks"]) {
      REQUIRE(mask["candidates"].size() == 4);
      double previous = 1.0;
      for (const auto& c : mask["candidates"]) {
        CHECK(c["id"].is_number_integer());
        CHECK(c["token"] == tokenizer::token_display(c["id"].get<int64_t>()));
        CHECK(c["p"].get<double>() <= previous);
        CHECK(c["p"].get<double>() > 0);
        previous = c["p"].get<double>();
      }
    }
  // Same document from the library: identical best candidate and probability.
  const FilledDocument filled = fill_masks(golden_model(), encode_masked_document("one [MASK] two"), 4);
  CHECK(lines[0]["masks"][0]["candidates"][0]["id"] == filled.masks[0].candidates[0].id);
  CHECK(lines[0]["masks"][0]["candidates"][0]["p"].get<double>() == doctest::Approx(filled.masks[0].candidates[0].p));
}

TEST_CASE("perceiver-mlm --lines makes each line a document") {
  const auto result = test::run_command(mlm_command("--lines --json -k 1"), "a[MASK]\nno mask\n[MASK]b");
  REQUIRE(result.exit_code == 0);
  std::vector<nlohmann::json> lines;
  std::istringstream in(result.out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["line"] == 1);
  CHECK(lines[0]["masks"][0]["position"] == 2);
  CHECK(lines[1]["masks"].empty());
  CHECK(lines[1]["text"] == "no mask");
  CHECK(lines[2]["masks"][0]["position"] == 1);
}

TEST_CASE("perceiver-mlm: empty input gives empty output and exit 0") {
  const auto result = test::run_command(mlm_command(""), "");
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
}

TEST_CASE("perceiver-mlm: model errors have one line and a distinct exit code") {
  const std::string dir = test::temp_dir();
  SUBCASE("no model given: the shipped model, said so on stderr") {
    const auto r = test::run_command("env -u PERCEIVER_MLM_MODEL " + test::bin_dir() + "/perceiver-mlm --json",
                                     "The cat sat on the[MASK][MASK][MASK][MASK] mat.");
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("no --model given: using the small shipped model") != std::string::npos);
    CHECK(r.err.find("models/byte-mlm") != std::string::npos);
    CHECK(nlohmann::json::parse(r.out)["masks"].size() == 4);
  }
  SUBCASE("no model given and none beside the tool: where it looked, then PERCEIVER_MODELS_DIR") {
    // A copy of the tool in a folder of its own (the build tree's RUNPATH still finds the library).
    std::filesystem::create_directories(dir + "/bin");
    std::filesystem::copy_file(test::bin_dir() + "/perceiver-mlm", dir + "/bin/perceiver-mlm");
    const std::string tool = "env -u PERCEIVER_MLM_MODEL -u PERCEIVER_MODELS_DIR " + dir + "/bin/perceiver-mlm";
    const auto lost = test::run_command(tool, "The cat sat on[MASK:4] mat.");
    CHECK(lost.exit_code == 2);
    CHECK(test::count_lines(lost.err) == 1);
    CHECK(lost.err.find("looked in " + dir + "/share/perceiver/models/byte-mlm; PERCEIVER_MODELS_DIR is not set") !=
          std::string::npos);
    const auto found = test::run_command("env -u PERCEIVER_MLM_MODEL PERCEIVER_MODELS_DIR=" + test::data_dir() + "/../../models " +
                                             dir + "/bin/perceiver-mlm -q",
                                         "The cat sat on[MASK:4] mat.");
    CHECK(found.exit_code == 0);
    CHECK(found.out.find("The cat sat on") == 0);
  }
  SUBCASE("missing folder") {
    const auto r = test::run_command(test::bin_dir() + "/perceiver-mlm -m " + dir + "/nothing", "x");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(dir + "/nothing") != std::string::npos);
  }
  SUBCASE("folder without weights") {
    fs::copy(model_dir() + "/config.json", dir + "/config.json");
    const auto r = test::run_command(test::bin_dir() + "/perceiver-mlm -m " + dir, "x");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("model.safetensors") != std::string::npos);
  }
  SUBCASE("only pytorch_model.bin") {
    fs::copy(model_dir() + "/config.json", dir + "/config.json");
    test::write_text(dir + "/pytorch_model.bin", "PK");
    const auto r = test::run_command(test::bin_dir() + "/perceiver-mlm -m " + dir, "x");
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("pytorch_model.bin") != std::string::npos);
  }
  SUBCASE("truncated weights") {
    fs::copy(model_dir() + "/config.json", dir + "/config.json");
    const std::string bytes = test::read_text(model_dir() + "/model.safetensors");
    test::write_text(dir + "/model.safetensors", bytes.substr(0, bytes.size() / 2));
    const auto r = test::run_command(test::bin_dir() + "/perceiver-mlm -m " + dir, "x");
    CHECK(r.exit_code == 4);
    CHECK(r.err.find(dir + "/model.safetensors") != std::string::npos);
  }
  SUBCASE("weights that do not fit the config") {
    std::string config = test::read_text(model_dir() + "/config.json");
    const size_t at = config.find("\"num_latents\": 16");
    REQUIRE(at != std::string::npos);
    config.replace(at, 17, "\"num_latents\": 20");
    test::write_text(dir + "/config.json", config);
    fs::copy(model_dir() + "/model.safetensors", dir + "/model.safetensors");
    const auto r = test::run_command(test::bin_dir() + "/perceiver-mlm -m " + dir, "x");
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("perceiver.embeddings.latents") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  SUBCASE("unsupported architecture") {
    std::string config = test::read_text(model_dir() + "/config.json");
    const size_t at = config.find("PerceiverForMaskedLM");
    config.replace(at, 20, "PerceiverForSomethingElse");
    test::write_text(dir + "/config.json", config);
    fs::copy(model_dir() + "/model.safetensors", dir + "/model.safetensors");
    const auto r = test::run_command(test::bin_dir() + "/perceiver-run -m " + dir + " -i x -o y");
    CHECK(r.exit_code == 6);
    CHECK(r.err.find("PerceiverForMaskedLM") != std::string::npos);  // the supported list
  }
}

TEST_CASE("perceiver-mlm: a missing input file is reported, the others still done") {
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/good.txt", "x[MASK]");
  const auto r = test::run_command(mlm_command("--json " + dir + "/missing.txt " + dir + "/good.txt"));
  CHECK(r.exit_code == 10);
  CHECK(r.err.find(dir + "/missing.txt") != std::string::npos);
  std::istringstream in(r.out);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  CHECK(nlohmann::json::parse(first).contains("error"));
  CHECK(nlohmann::json::parse(second)["masks"].size() == 1);
}

TEST_CASE("perceiver-mlm -o writes the whole output to a file") {
  const std::string dir = test::temp_dir();
  const auto r = test::run_command(mlm_command("-o " + dir + "/out.txt"), "abc[MASK]");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(test::read_text(dir + "/out.txt").rfind("abc", 0) == 0);
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "out.txt");  // no temporaries left
}

TEST_CASE("fill_masks iterative: lone masks as in parallel, a run decided left to right with the bytes before it filled") {
  std::vector<int64_t> ids = encode_masked_document("ab[MASK]cd efg[MASK:3]h");
  const FilledDocument parallel = fill_masks(golden_model(), ids, 2, Decoding::Parallel);
  const FilledDocument iterative = fill_masks(golden_model(), ids, 2, Decoding::Iterative);
  REQUIRE(parallel.masks.size() == 4);
  REQUIRE(iterative.masks.size() == 4);
  // The lone mask and the first byte of the run come from the first pass: the same as parallel.
  for (size_t j : {size_t{0}, size_t{1}}) {
    CHECK(iterative.masks[j].position == parallel.masks[j].position);
    CHECK(iterative.masks[j].candidates[0].id == parallel.masks[j].candidates[0].id);
  }
  // Each later byte of the run: the argmax of a forward pass with the bytes before it filled in
  // (and the lone mask already decided, since it came first).
  std::vector<int64_t> document = ids;
  document[static_cast<size_t>(iterative.masks[0].position - 1)] = iterative.masks[0].candidates[0].id;
  for (size_t j = 1; j < 4; ++j) {
    const int64_t at = iterative.masks[j].position - 1;
    const std::vector<float> logits = forward_logits(document, at + 1);
    CHECK(iterative.masks[j].candidates[0].id == std::max_element(logits.begin(), logits.end()) - logits.begin());
    document[static_cast<size_t>(at)] = iterative.masks[j].candidates[0].id;
  }
  // On this input the two differ (the run's last byte), so the checks above see the iteration.
  CHECK(iterative.masks[3].candidates[0].id != parallel.masks[3].candidates[0].id);
  // perceiver-mlm: parallel (HF's one pass) by default, --decode iterative on request.
  const std::string tool = test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -q -t 1 -m " + model_dir();
  CHECK(test::run_command(tool, "ab[MASK]cd efg[MASK:3]h").out == parallel.text);
  CHECK(test::run_command(tool + " --decode iterative", "ab[MASK]cd efg[MASK:3]h").out == iterative.text);
}
