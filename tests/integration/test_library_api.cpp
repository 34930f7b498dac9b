// The installed API (include/perceiver/perceiver.h, docs/library.md): the same answers as the
// tools, errors with kinds, and two models of different configs (and precisions) in two threads
// at once, many iterations, giving exactly what each gives alone.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <sstream>
#include <thread>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/shipped_models.h"
#include "kernels/runtime.h"
#include "media/audio.h"
#include "media/flo.h"
#include "media/image.h"
#include "perceiver/perceiver.h"
#include "support/test_support.h"

using namespace perceiver;

namespace {

std::string source_dir() { return test::data_dir() + "/../.."; }

const std::vector<std::string> kTexts = {
    "He took a deep breath and opened[MASK:4] door.",
    "The children are playing in[MASK:4] garden.",
    "Th[MASK] function returns the value.",
    "She put the book on the[MASK:6] and sat down.",
};

std::string fashion_image(int label) {
  const char* names[] = {"0-t-shirt-test0019", "1-trouser-test0002", "2-pullover-test0001", "3-dress-test0013",
                         "4-coat-test0006",    "5-sandal-test0008",  "6-shirt-test0004",    "7-sneaker-test0009",
                         "8-bag-test0018",     "9-ankle-boot-test0000"};
  return source_dir() + "/samples/fashion-mnist/" + names[label] + ".png";
}

// "label<TAB>p" per label, p as perceiver-classify prints it (%.6g).
std::string label_lines(const std::vector<api::Label>& labels) {
  std::string lines;
  for (const api::Label& l : labels) {
    char p[32];
    std::snprintf(p, sizeof p, "%.6g", l.probability);
    lines += l.name + "\t" + p + "\n";
  }
  return lines;
}

// The same from perceiver-classify's TSV (header, then file, rank, id, label, p per line).
std::string tsv_labels(const std::string& tsv) {
  std::string got;
  std::istringstream lines(tsv);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) fields.push_back(field);
    REQUIRE(fields.size() == 5);
    got += fields[3] + "\t" + fields[4] + "\n";
  }
  return got;
}

}  // namespace

TEST_CASE("library API: version and build_info") {
  CHECK(perceiver::version() == "0.1.0");
  CHECK_FALSE(perceiver::git_commit().empty());
  const std::string info = perceiver::build_info();
  CHECK(info.find("perceiver 0.1.0 (git ") == 0);
  CHECK(info.find(", oneDNN 2.") != std::string::npos);
  CHECK(info.find(kernels::cpu_has_bf16() ? "bf16 available" : "bf16 not available") != std::string::npos);
}

TEST_CASE("library API: the four tasks answer as the tools do") {
  SUBCASE("fill_masks = perceiver-mlm") {
    const api::Model model(cli::shipped_model_dir("byte-mlm"), {1, false});
    CHECK(model.architecture() == "PerceiverForMaskedLM");
    for (const std::string& text : kTexts) {
      const auto r = test::run_command(test::bin_dir() + "/perceiver-mlm -q -t 1 --lines", text + "\n");
      REQUIRE(r.exit_code == 0);
      CHECK(model.fill_masks(text) + "\n" == r.out);
    }
  }
  SUBCASE("classify = perceiver-classify") {
    const api::Model model(cli::shipped_model_dir("fashion-mnist"), {1, false});
    for (int label : {0, 5, 9}) {
      const auto r = test::run_command(test::bin_dir() + "/perceiver-classify -q -t 1 -f tsv -k 3 -m " +
                                       cli::shipped_model_dir("fashion-mnist") + " " + fashion_image(label));
      REQUIRE(r.exit_code == 0);
      const std::string expected = label_lines(model.classify(api::load_image(fashion_image(label)), 3));
      CHECK(tsv_labels(r.out) == expected);
    }
  }
  SUBCASE("classify_text = perceiver-classify on text") {
    const std::string folder = test::golden_dir() + "/text_classifier";
    const api::Model model(folder, {1, false});
    const std::vector<std::string> texts = {"Ce film était magnifique, je l'ai adoré ! ★★★★★", "Скучно. 😴",
                                            std::string(300, 'x')};  // the last longer than the window
    std::string input, expected;
    for (const std::string& text : texts) {
      input += text + "\n";
      expected += label_lines(model.classify_text(text, 0));
    }
    const auto r = test::run_command(test::bin_dir() + "/perceiver-classify -q -t 1 -f tsv -k 0 --lines -m " + folder, input);
    REQUIRE(r.exit_code == 0);
    CHECK(tsv_labels(r.out) == expected);
  }
  SUBCASE("flow = perceiver-flow") {
    const std::string dir = test::temp_dir();
    const std::string first = source_dir() + "/samples/flow/frame1.png", second = source_dir() + "/samples/flow/frame2.png";
    const auto r = test::run_command(test::bin_dir() + "/perceiver-flow -q -t 1 -m " + test::golden_dir() + "/flow " + first +
                                     " " + second + " -o " + dir + "/flow.flo");
    REQUIRE(r.exit_code == 0);
    const api::Model model(test::golden_dir() + "/flow", {1, false});
    const api::Flow flow = model.flow(api::load_image(first), api::load_image(second));
    const FlowField tool = read_flo(dir + "/flow.flo");
    CHECK(flow.width == tool.width);
    CHECK(flow.height == tool.height);
    CHECK(flow.uv == tool.uv);
  }
  SUBCASE("autoencode: whole windows, PSNR and labels") {
    const api::Model model(test::golden_dir() + "/multimodal", {1, false});
    std::vector<api::Image> frames;
    for (int t = 0; t < 5; ++t) {  // 2 frames per window: 2 windows, one frame left out
      api::Image frame{16, 12, std::vector<uint8_t>(16 * 12 * 3)};
      for (size_t i = 0; i < frame.rgb.size(); ++i) frame.rgb[i] = static_cast<uint8_t>(i * 7 + t * 31);
      frames.push_back(frame);
    }
    std::vector<float> audio(64);
    for (size_t i = 0; i < audio.size(); ++i) audio[i] = static_cast<float>(std::sin(0.3 * static_cast<double>(i)) * 0.5);
    const api::Reconstruction recon = model.autoencode(frames, audio, 3);
    // perceiver-autoencode on the same frames (as PNGs) and samples (a float WAV at the model's
    // rate, 25 fps × 8 samples per frame): the same PSNRs and labels.
    const std::string dir = test::temp_dir();
    std::filesystem::create_directories(dir + "/frames");
    for (size_t t = 0; t < frames.size(); ++t)
      write_png(dir + "/frames/" + std::to_string(t) + ".png", perceiver::Image{frames[t].width, frames[t].height, frames[t].rgb});
    write_audio(dir + "/audio.wav", Audio{200, audio}, AudioEncoding::Float32);
    const auto r = test::run_command(test::bin_dir() + "/perceiver-autoencode -q -t 1 --json -k 3 -m " + test::golden_dir() +
                                     "/multimodal --video " + dir + "/frames --audio " + dir + "/audio.wav");
    REQUIRE(r.exit_code == 0);
    const nlohmann::json summary = nlohmann::json::parse(r.out);
    CHECK(summary["windows"] == recon.windows);
    CHECK(summary["psnr"]["video_db"].get<double>() == doctest::Approx(recon.video_psnr_db).epsilon(1e-12));
    CHECK(summary["psnr"]["audio_db"].get<double>() == doctest::Approx(recon.audio_psnr_db).epsilon(1e-12));
    REQUIRE(summary["labels"].size() == recon.labels.size());
    for (size_t i = 0; i < recon.labels.size(); ++i) {
      CHECK(summary["labels"][i]["id"] == recon.labels[i].id);
      CHECK(summary["labels"][i]["p"].get<double>() == doctest::Approx(recon.labels[i].probability).epsilon(1e-12));
    }
    CHECK(recon.windows == 2);
    CHECK(recon.frames.size() == 4);
    CHECK(recon.frames[0].width == 8);
    CHECK(recon.audio.size() == 32);
    CHECK(recon.labels.size() == 3);
    CHECK(std::isfinite(recon.video_psnr_db));
    CHECK(recon.labels[0].probability >= recon.labels[1].probability);
  }
}

TEST_CASE("library API: errors carry a kind") {
  const auto kind_of = [](auto&& body) -> std::string {
    try {
      body();
    } catch (const api::Error& e) {
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
      return e.kind();
    }
    return "none";
  };
  CHECK(kind_of([] { api::Model model(test::temp_dir() + "/nothing"); }) == "model-missing");
  const api::Model mlm(cli::shipped_model_dir("byte-mlm"));
  CHECK(kind_of([&] { mlm.classify(api::Image{1, 1, {0, 0, 0}}); }) == "usage");
  const api::Model classifier(cli::shipped_model_dir("fashion-mnist"));
  CHECK(kind_of([&] { classifier.classify(api::Image{2, 2, {1, 2, 3}}); }) == "usage");  // 4 pixels, 3 bytes
  CHECK(kind_of([] { api::load_image(test::temp_dir() + "/missing.png"); }) == "input");
  if (!kernels::cpu_has_bf16()) CHECK(kind_of([] { api::Model model(cli::shipped_model_dir("byte-mlm"), {1, true}); }) == "usage");
}

TEST_CASE("library API: two models of different configs in two threads at once equal each alone") {
  // References, one model at a time on this thread.
  const bool bf16 = kernels::cpu_has_bf16();  // the classifier in bf16 where it can be: precision is per model
  std::vector<std::string> filled;
  {
    const api::Model mlm(cli::shipped_model_dir("byte-mlm"), {1, false});
    for (const std::string& text : kTexts) filled.push_back(mlm.fill_masks(text));
  }
  std::vector<std::vector<api::Label>> labels;
  std::vector<api::Image> images;
  for (int label = 0; label < 10; ++label) images.push_back(api::load_image(fashion_image(label)));
  {
    const api::Model classifier(cli::shipped_model_dir("fashion-mnist"), {1, bf16});
    for (const api::Image& image : images) labels.push_back(classifier.classify(image, 0));
  }
  const kernels::Precision before = kernels::precision();

  constexpr int kIterations = 12;
  std::atomic<int> mismatches_mlm{0}, mismatches_classifier{0}, failures{0};
  std::thread text_thread([&] {
    try {
      const api::Model mlm(cli::shipped_model_dir("byte-mlm"), {1, false});
      for (int i = 0; i < kIterations; ++i)
        for (size_t t = 0; t < kTexts.size(); ++t) mismatches_mlm += mlm.fill_masks(kTexts[t]) != filled[t];
    } catch (...) {
      ++failures;
    }
  });
  std::thread image_thread([&] {
    try {
      const api::Model classifier(cli::shipped_model_dir("fashion-mnist"), {1, bf16});
      for (int i = 0; i < kIterations; ++i)
        for (size_t k = 0; k < images.size(); ++k) {
          const std::vector<api::Label> got = classifier.classify(images[k], 0);
          bool same = got.size() == labels[k].size();
          for (size_t j = 0; same && j < got.size(); ++j)
            same = got[j].id == labels[k][j].id && got[j].probability == labels[k][j].probability;
          mismatches_classifier += !same;
        }
    } catch (...) {
      ++failures;
    }
  });
  text_thread.join();
  image_thread.join();
  CHECK(failures == 0);
  CHECK(mismatches_mlm == 0);
  CHECK(mismatches_classifier == 0);
  CHECK(kernels::precision() == before);  // building a bf16 model left this thread's setting alone
}
