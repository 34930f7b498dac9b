// perceiver-classify with a text classifier (PerceiverForSequenceClassification, the golden
// text_classifier model): documents and --lines give the golden logits' probabilities, batches
// equal single documents, long documents are truncated as HF's tokenizer does, a journal resumes.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

using namespace perceiver;

namespace {

std::string classify(const std::string& args) {
  return test::kNoSlurm + "env -u PERCEIVER_CLASSIFY_MODEL " + test::bin_dir() + "/perceiver-classify -q -t 1 -m " +
         test::golden_dir() + "/text_classifier " + args;
}

std::vector<nlohmann::json> records(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("perceiver-classify on text: the golden texts give the softmax of the golden logits, per line and per file, in batches") {
  // The golden case's two texts (meta.json), one per line.
  const std::string dir = test::temp_dir();
  const std::string texts[2] = {"Ce film \xc3\xa9tait magnifique, je l'ai ador\xc3\xa9 ! \xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85",
                                "\xd0\xa1\xd0\xba\xd1\x83\xd1\x87\xd0\xbd\xd0\xbe. \xf0\x9f\x98\xb4"};
  test::write_text(dir + "/lines.txt", texts[0] + "\n" + texts[1] + "\n");
  test::write_text(dir + "/second.txt", texts[1]);
  const auto golden = test::read_tensors(test::golden_dir() + "/text_classifier/outputs.safetensors");
  const Tensor& logits = golden.at("logits");  // [2, 5]
  REQUIRE(logits.dim(0) == 2);
  const int64_t labels = logits.dim(1);
  const auto expected_p = [&](int64_t row, int64_t id) {
    double sum = 0;
    for (int64_t j = 0; j < labels; ++j) sum += std::exp(double(logits.data<float>()[row * labels + j]));
    return std::exp(double(logits.data<float>()[row * labels + id])) / sum;
  };
  for (const char* batch : {"-b 1", "-b 2"}) {
    CAPTURE(batch);
    const test::CommandResult r = test::run_command(classify(std::string(batch) + " -k 0 -f jsonl --lines " + dir + "/lines.txt"));
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    const auto out = records(r.out);
    REQUIRE(out.size() == 2);
    for (int64_t row = 0; row < 2; ++row) {
      CHECK(out[row]["line"] == row + 1);
      REQUIRE(out[row]["top"].size() == static_cast<size_t>(labels));
      for (const auto& entry : out[row]["top"])
        CHECK(entry["p"].get<double>() == doctest::Approx(expected_p(row, entry["id"].get<int64_t>())).epsilon(1e-4));
    }
  }
  // A file is one document (no line field): the second text alone.
  const test::CommandResult file = test::run_command(classify("-k 1 -f jsonl " + dir + "/second.txt"));
  REQUIRE(file.exit_code == 0);
  const auto one = records(file.out);
  REQUIRE(one.size() == 1);
  CHECK_FALSE(one[0].contains("line"));
  int64_t best = 0;
  for (int64_t j = 1; j < labels; ++j)
    if (logits.data<float>()[labels + j] > logits.data<float>()[labels + best]) best = j;
  CHECK(one[0]["top"][0]["id"] == best);
  CHECK(one[0]["top"][0]["p"].get<double>() == doctest::Approx(expected_p(1, best)).epsilon(1e-4));

  // Longer than max_position_embeddings − 2 = 62 bytes: the first 62 bytes are read, with a note.
  const std::string head(62, 'a');
  test::write_text(dir + "/long.txt", head + "TAIL THAT IS CUT OFF");
  test::write_text(dir + "/head.txt", head);
  const auto cut = test::run_command(test::kNoSlurm + test::bin_dir() + "/perceiver-classify -t 1 -m " + test::golden_dir() +
                                     "/text_classifier -k 0 -f jsonl " + dir + "/long.txt");
  const auto exact = test::run_command(classify("-k 0 -f jsonl " + dir + "/head.txt"));
  REQUIRE(cut.exit_code == 0);
  CHECK(cut.err.find("long.txt: 82 bytes, the model reads the first 62") != std::string::npos);
  CHECK(records(cut.out)[0]["top"] == records(exact.out)[0]["top"]);

  // A journal of lines resumes: a second run skips both lines and appends nothing.
  const std::string journal = dir + "/out.jsonl";
  REQUIRE(test::run_command(classify("-f jsonl --lines --skip-existing -o " + journal + " " + dir + "/lines.txt")).exit_code == 0);
  const std::string written = test::read_text(journal);
  const auto again = test::run_command(classify("-f jsonl --lines --skip-existing -o " + journal + " " + dir + "/lines.txt"));
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("0 done, 0 failed, 2 skipped") != std::string::npos);
  CHECK(test::read_text(journal) == written);
  // Image-only flags are refused with a text model.
  CHECK(test::run_command(classify("-r " + dir)).exit_code == 2);
}
