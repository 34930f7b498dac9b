// --save-inputs of perceiver-classify, perceiver-flow and perceiver-autoencode on the Pillow
// fixtures (tests/data/pillow): the tensors written equal the library's preprocessing applied to
// Pillow's decoded bytes, byte for byte, in input order, with failed inputs left out; perceiver-run
// takes the files as they are; --batch, --skip-existing and bad output paths.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adapters/flow_patches.h"
#include "checkpoint/safetensors.h"
#include "media/audio.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "media/video_frames.h"
#include "tasks/flow_tiling.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string pillow(const std::string& name) { return test::data_dir() + "/pillow/" + name; }

// Pillow's decoding of a fixture, from its .rgb file and the manifest.
Image pillow_image(const std::string& name) {
  static const nlohmann::json manifest = nlohmann::json::parse(test::read_text(pillow("manifest.json")));
  for (const auto& entry : manifest)
    if (entry.at("file") == name) {
      Image image;
      image.width = entry.at("width").get<int64_t>();
      image.height = entry.at("height").get<int64_t>();
      const std::string rgb = test::read_text(pillow(name + ".rgb"));
      image.rgb.assign(rgb.begin(), rgb.end());
      return image;
    }
  FAIL("no fixture " << name);
  return {};
}

void check_same_bytes(const Tensor& a, const Tensor& b) {
  REQUIRE(a.dtype() == b.dtype());
  REQUIRE(a.shape() == b.shape());
  CHECK(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

std::string tool(const std::string& name, const std::string& model, const std::string& args) {
  return test::kNoSlurm + test::bin_dir() + "/" + name + " -q -t 1 -m " + test::golden_dir() + "/" + model + " " + args;
}

const std::vector<std::string> kClassifyFixtures = {"baseline_420.jpg", "progressive.jpg", "cmyk_adobe.jpg",
                                                    "exif_rotated.jpg", "arithmetic.jpg",  "transparent.gif",
                                                    "offset_frame.gif", "gray16.png",      "palette_oor.png"};

}  // namespace

TEST_CASE("perceiver-classify --save-inputs: pixel_values of Pillow's bytes, in input order, bad images left out") {
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/bad.jpg", "\xFF\xD8\xFF not really a JPEG");
  std::string args;
  std::vector<std::string> expected_files;
  std::vector<Image> expected_images;
  for (size_t i = 0; i < kClassifyFixtures.size(); ++i) {
    args += " " + pillow(kClassifyFixtures[i]);
    expected_files.push_back(pillow(kClassifyFixtures[i]));
    expected_images.push_back(pillow_image(kClassifyFixtures[i]));
    if (i == 3) args += " " + dir + "/bad.jpg";  // one that fails, in the middle
  }
  const ImageProcessorConfig processor = load_image_processor_config(test::golden_dir() + "/vision_fourier");
  const Tensor expected = preprocess_images(expected_images, processor);

  for (const std::string batch : {"1", "4"}) {
    CAPTURE(batch);
    const std::string saved = dir + "/inputs" + batch + ".safetensors";
    const auto r = test::run_command(
        tool("perceiver-classify", "vision_fourier", "--format jsonl -b " + batch + " --save-inputs " + saved + args));
    CAPTURE(r.err);
    CHECK(r.exit_code == 10);  // one input failed
    CHECK(test::count_lines(r.out) == kClassifyFixtures.size() + 1);
    const SafetensorsFile file = read_safetensors(saved, ErrorKind::Input);
    REQUIRE(file.find("pixel_values"));
    check_same_bytes(*file.find("pixel_values"), expected);
    CHECK(nlohmann::json::parse(file.metadata.at("files")) == nlohmann::json(expected_files));
    CHECK(file.metadata.at("tool") == "perceiver-classify");
  }
  // perceiver-run takes the file as it is, and gives the logits the tool ranked.
  const auto run =
      test::run_command(test::bin_dir() + "/perceiver-run -t 1 -m " + test::golden_dir() + "/vision_fourier -i " + dir +
                        "/inputs1.safetensors -o " + dir + "/logits.safetensors");
  CAPTURE(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(read_safetensors(dir + "/logits.safetensors").find("logits")->dim(0) == int64_t(kClassifyFixtures.size()));
}

TEST_CASE(
    "perceiver-classify --save-inputs with --skip-existing holds every input, and a bad path fails before any work") {
  const std::string dir = test::temp_dir();
  const std::string first = pillow("baseline_420.jpg"), second = pillow("gray16.png");
  const std::string journal = dir + "/labels.jsonl";
  auto r = test::run_command(
      tool("perceiver-classify", "vision_fourier", "--format jsonl -o " + journal + " --skip-existing " + first));
  REQUIRE(r.exit_code == 0);
  r = test::run_command(tool("perceiver-classify", "vision_fourier",
                             "--format jsonl -o " + journal + " --skip-existing --save-inputs " + dir +
                                 "/all.safetensors " + first + " " + second));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(test::count_lines(test::read_text(journal)) == 3);  // header + two records: the first was skipped
  const SafetensorsFile file = read_safetensors(dir + "/all.safetensors", ErrorKind::Input);
  const ImageProcessorConfig processor = load_image_processor_config(test::golden_dir() + "/vision_fourier");
  check_same_bytes(*file.find("pixel_values"),
                   preprocess_images({pillow_image("baseline_420.jpg"), pillow_image("gray16.png")}, processor));

  r = test::run_command(
      tool("perceiver-classify", "vision_fourier", "--save-inputs " + dir + "/no/such/dir/x.safetensors " + first));
  CHECK(r.exit_code != 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("no/such/dir/x.safetensors") != std::string::npos);
}

TEST_CASE(
    "perceiver-flow --save-inputs: every tile's patches of Pillow's frames, pair by pair, as perceiver-run takes "
    "them") {
  const std::string dir = test::temp_dir();
  const std::string a = pillow("baseline_420.jpg"), b = pillow("progressive.jpg"), c = pillow("restart.jpg");
  const std::string small = pillow("rgb.png");  // 20×14: differs in size from the others
  test::write_text(dir + "/pairs.txt", a + "\t" + b + "\n" + small + "\t" + c + "\n" + b + "\t" + c + "\n");
  const std::string saved = dir + "/inputs.safetensors";
  const auto r = test::run_command(
      tool("perceiver-flow", "flow", "--pairs " + dir + "/pairs.txt -o " + dir + "/out --save-inputs " + saved));
  CAPTURE(r.err);
  CHECK(r.exit_code == 10);  // the pair of different sizes
  const SafetensorsFile file = read_safetensors(saved, ErrorKind::Input);
  const Tensor& inputs = *file.find("inputs");

  // The golden model's tile is 12×16; the frames are 29×21.
  const TileGrid grid = make_tile_grid(21, 29, 12, 16);
  REQUIRE(grid.tiles() > 1);
  std::vector<Tensor> tiles;
  for (const auto& [first, second] : {std::pair{a, b}, std::pair{b, c}}) {
    const Image f = pillow_image(fs::path(first).filename().string()),
                s = pillow_image(fs::path(second).filename().string());
    for (int64_t y0 : grid.ys)
      for (int64_t x0 : grid.xs) tiles.push_back(flow_patches(f, s, y0, x0, 12, 16));
  }
  REQUIRE(inputs.shape() == Shape{int64_t(tiles.size()), 2, 27, 12, 16});
  const size_t tile_bytes = tiles[0].nbytes();
  for (size_t t = 0; t < tiles.size(); ++t) {
    CAPTURE(t);
    CHECK(std::memcmp(static_cast<const char*>(inputs.raw()) + t * tile_bytes, tiles[t].raw(), tile_bytes) == 0);
  }
  const auto pairs = nlohmann::json::parse(file.metadata.at("pairs"));
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0]["first"] == a);
  CHECK(pairs[1]["second"] == c);
  CHECK(pairs[1]["start"] == grid.tiles());
  CHECK(pairs[0]["tiles"].size() == grid.tiles());

  // Nothing but --save-inputs: the same file, without running the model.
  const auto only =
      test::run_command(tool("perceiver-flow", "flow", a + " " + b + " --save-inputs " + dir + "/one.safetensors"));
  CAPTURE(only.err);
  REQUIRE(only.exit_code == 0);
  const Tensor one = *read_safetensors(dir + "/one.safetensors", ErrorKind::Input).find("inputs");
  REQUIRE(one.dim(0) == int64_t(grid.tiles()));
  CHECK(std::memcmp(one.raw(), inputs.raw(), one.nbytes()) == 0);
  const auto run = test::run_command(test::bin_dir() + "/perceiver-run -t 1 -m " + test::golden_dir() + "/flow -i " +
                                     dir + "/one.safetensors -o " + dir + "/raw.safetensors");
  CAPTURE(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(read_safetensors(dir + "/raw.safetensors").find("logits")->shape() == Shape{int64_t(grid.tiles()), 12, 16, 2});
}

TEST_CASE("perceiver-autoencode --save-inputs: each window's frames (Pillow's bytes, fitted), audio and label") {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/frames");
  const std::vector<std::string> names = {"baseline_420.jpg", "cmyk_adobe.jpg", "restart.jpg", "sample_440.jpg"};
  for (size_t i = 0; i < names.size(); ++i)
    fs::copy(pillow(names[i]), dir + "/frames/00000" + std::to_string(i) + ".jpg");
  std::vector<float> wave(40);
  for (size_t i = 0; i < wave.size(); ++i) wave[i] = float(i % 7) / 8.0f - 0.4f;
  write_audio(dir + "/audio.wav", Audio{200, wave}, AudioEncoding::Float32);
  const std::string saved = dir + "/inputs.safetensors";
  const auto r =
      test::run_command(tool("perceiver-autoencode", "multimodal_full",
                             "--json --video " + dir + "/frames --audio " + dir + "/audio.wav --save-inputs " + saved));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const SafetensorsFile file = read_safetensors(saved, ErrorKind::Input);
  // The golden model: windows of 2 frames of 8×8 and 16 samples, 5 labels; 40 samples → 2 windows.
  Tensor image = Tensor::f32({2, 2, 3, 8, 8}), audio = Tensor::f32({2, 16, 1});
  for (size_t i = 0; i < names.size(); ++i)
    frame_to_unit_floats(fit_frame(pillow_image(names[i]), 8, 8), image.mutable_data<float>() + i * 3 * 64);
  std::copy_n(wave.begin(), 32, audio.mutable_data<float>());
  check_same_bytes(*file.find("inputs.image"), image);
  check_same_bytes(*file.find("inputs.audio"), audio);
  check_same_bytes(*file.find("inputs.label"), Tensor::f32({2, 5}));
  const auto windows = nlohmann::json::parse(file.metadata.at("windows"));
  REQUIRE(windows.size() == 2);
  CHECK(windows[1]["frames"][0] == dir + "/frames/000002.jpg");
  const auto run = test::run_command(test::bin_dir() + "/perceiver-run -t 1 -m " + test::golden_dir() +
                                     "/multimodal_full -i " + saved + " -o " + dir + "/out.safetensors");
  CAPTURE(run.err);
  CHECK(run.exit_code == 0);

  // --skip-existing skips the clip only when this file exists too.
  fs::remove(saved);
  const auto again = test::run_command(
      tool("perceiver-autoencode", "multimodal_full",
           "--skip-existing --video " + dir + "/frames --audio " + dir + "/audio.wav --save-inputs " + saved));
  CHECK(again.exit_code == 0);
  CHECK(fs::exists(saved));
}
