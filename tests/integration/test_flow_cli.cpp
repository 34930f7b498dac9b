// perceiver-flow end to end on the golden tiny flow model (12×16 tile): the golden frames as PNG
// files give ×20 the golden logits; a frames directory, a list of pairs, ground truth and EPE,
// mismatched sizes, outputs written whole, exit codes.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "media/flo.h"
#include "media/image.h"
#include "tasks/flow_estimator.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string flow_model() { return test::golden_dir() + "/flow"; }

std::string flow_cmd(const std::string& args) {
  return "env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow -q -t 1 -m " + flow_model() + " " + args;
}

using test::random_image;

// The golden frames written as PNGs: <dir>/a.png, <dir>/b.png.
void write_golden_frames(const std::string& dir) {
  SafetensorsFile file = read_safetensors(flow_model() + "/patches_from_frames.safetensors");
  const Tensor& frames = *file.find("frames_uint8");  // [1, 2, 12, 16, 3]
  for (int t = 0; t < 2; ++t) {
    Image image;
    image.height = 12;
    image.width = 16;
    const uint8_t* p = frames.data<uint8_t>() + t * 12 * 16 * 3;
    image.rgb.assign(p, p + 12 * 16 * 3);
    write_png(dir + (t == 0 ? "/a.png" : "/b.png"), image);
  }
}

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

double max_diff(const FlowField& a, const FlowField& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  double worst = 0;
  for (size_t i = 0; i < a.uv.size(); ++i) worst = std::max(worst, std::fabs(double(a.uv[i]) - b.uv[i]));
  return worst;
}

FlowField library_flow(const std::string& first, const std::string& second) {
  const PerceiverConfig config = load_config(flow_model() + "/config.json");
  auto weights = open_model_weights(flow_model());
  const FlowEstimator estimator(config, *weights);
  return estimator.estimate(load_image(first), load_image(second));
}

}  // namespace

TEST_CASE("perceiver-flow: the golden frames as PNGs give 20 × the golden logits, .flo and colour PNG written whole") {
  const std::string dir = test::temp_dir();
  write_golden_frames(dir);
  const auto r = test::run_command(flow_cmd(dir + "/a.png " + dir + "/b.png -o " + dir + "/flow.flo --color " + dir + "/flow.png"));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(listing(dir) == std::set<std::string>{"a.png", "b.png", "flow.flo", "flow.png"});  // no temporaries

  const FlowField flow = read_flo(dir + "/flow.flo");
  REQUIRE(flow.width == 16);
  REQUIRE(flow.height == 12);
  SafetensorsFile outputs = read_safetensors(flow_model() + "/outputs.safetensors");
  const Tensor& logits = *outputs.find("logits");
  const double tolerance = nlohmann::json::parse(test::read_text(flow_model() + "/meta.json"))["outputs"]["logits"]
                               ["tolerance_max_abs_diff"].get<double>();
  double worst = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) worst = std::max(worst, std::fabs(double(flow.uv[i]) - 20.0 * logits.data<float>()[i]));
  MESSAGE("perceiver-flow vs 20·golden logits: max |diff| " << worst << " (tolerance 20 × " << tolerance << ")");
  CHECK(worst <= 20 * tolerance);

  const Image color = load_image(dir + "/flow.png");
  CHECK(color.width == 16);
  CHECK(color.height == 12);

  // -o and --color naming an existing directory: <first frame name>.flo / .png inside it.
  fs::create_directories(dir + "/out");
  REQUIRE(test::run_command(flow_cmd(dir + "/a.png " + dir + "/b.png -o " + dir + "/out --color " + dir + "/out")).exit_code == 0);
  CHECK(listing(dir + "/out") == std::set<std::string>{"a.flo", "a.png"});
  CHECK(max_diff(read_flo(dir + "/out/a.flo"), flow) == 0);
}

TEST_CASE("perceiver-flow --frames: every consecutive pair, named after its first frame, --gt directory") {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/clip");
  for (int i = 0; i < 3; ++i) write_png(dir + "/clip/frame_000" + std::to_string(i + 1) + ".png", random_image(20, 12, 10 + i));
  test::write_text(dir + "/clip/notes.txt", "not a frame");
  const auto r = test::run_command(flow_cmd("--frames " + dir + "/clip -o " + dir + "/out --color " + dir + "/color"));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(listing(dir + "/out") == std::set<std::string>{"frame_0001.flo", "frame_0002.flo"});
  CHECK(listing(dir + "/color") == std::set<std::string>{"frame_0001.png", "frame_0002.png"});
  const FlowField f12 = library_flow(dir + "/clip/frame_0001.png", dir + "/clip/frame_0002.png");
  const FlowField f23 = library_flow(dir + "/clip/frame_0002.png", dir + "/clip/frame_0003.png");
  CHECK(max_diff(read_flo(dir + "/out/frame_0001.flo"), f12) <= 1e-6);
  CHECK(max_diff(read_flo(dir + "/out/frame_0002.flo"), f23) <= 1e-6);

  // Ground truth parallel to the frames: the first pair off by (3, 4) where known, one pixel unknown;
  // the second exact. EPE per pair and the mean of the pairs.
  fs::create_directories(dir + "/gt");
  FlowField gt1 = f12;
  for (size_t i = 0; i < gt1.uv.size(); i += 2) gt1.uv[i] += 3, gt1.uv[i + 1] += 4;
  gt1.uv[0] = 1e10f;
  write_flo(dir + "/gt/frame_0001.flo", gt1);
  write_flo(dir + "/gt/frame_0002.flo", f23);
  const auto e = test::run_command(flow_cmd("--frames " + dir + "/clip --gt " + dir + "/gt"));
  CAPTURE(e.err);
  REQUIRE(e.exit_code == 0);
  std::istringstream lines(e.out);
  std::string line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) fields.push_back(field);
    rows.push_back(fields);
  }
  REQUIRE(rows.size() == 3);
  CHECK(rows[0][0] == dir + "/clip/frame_0001.png");
  CHECK(rows[0][1] == dir + "/clip/frame_0002.png");
  CHECK(std::stod(rows[0][2]) == doctest::Approx(5.0).epsilon(1e-5));
  CHECK(std::stod(rows[1][2]) == doctest::Approx(0.0));
  CHECK(rows[2][0] == "mean");
  CHECK(rows[2][1] == "2 pairs");
  CHECK(std::stod(rows[2][2]) == doctest::Approx(2.5).epsilon(1e-5));

  // A pair without ground truth fails alone (exit 10).
  fs::remove(dir + "/gt/frame_0002.flo");
  const auto missing = test::run_command(flow_cmd("--frames " + dir + "/clip --gt " + dir + "/gt"));
  CHECK(missing.exit_code == 10);
  CHECK(missing.err.find(dir + "/gt/frame_0002.flo: cannot open the file") != std::string::npos);
  CHECK(missing.err.find("2 inputs: 1 done, 1 failed, 0 skipped") != std::string::npos);
}

TEST_CASE("perceiver-flow --pairs: a list of pairs, a bad pair is reported with both sizes and skipped") {
  const std::string dir = test::temp_dir();
  write_png(dir + "/p.png", random_image(16, 12, 1));
  write_png(dir + "/q.png", random_image(16, 12, 2));
  write_png(dir + "/wide.png", random_image(20, 12, 3));
  write_png(dir + "/r.png", random_image(16, 12, 4));
  test::write_text(dir + "/pairs.txt", "# first\tsecond\n" + dir + "/p.png\t" + dir + "/q.png\n\n" + dir + "/q.png " +
                                           dir + "/wide.png\n" + dir + "/r.png\t" + dir + "/p.png\n");
  const auto r = test::run_command(flow_cmd("--pairs " + dir + "/pairs.txt -o " + dir + "/out"));
  CHECK(r.exit_code == 10);
  CHECK(r.err.find("the frames differ in size: " + dir + "/q.png is 16×12, " + dir + "/wide.png is 20×12") != std::string::npos);
  CHECK(r.err.find("3 inputs: 2 done, 1 failed, 0 skipped") != std::string::npos);
  CHECK(listing(dir + "/out") == std::set<std::string>{"p.flo", "r.flo"});
  CHECK(max_diff(read_flo(dir + "/out/r.flo"), library_flow(dir + "/r.png", dir + "/p.png")) <= 1e-6);

  test::write_text(dir + "/bad.txt", dir + "/p.png\n");
  const auto bad = test::run_command(flow_cmd("--pairs " + dir + "/bad.txt -o " + dir + "/out2"));
  CHECK(bad.exit_code == 7);
  CHECK(bad.err.find(dir + "/bad.txt:1: expected two frame paths") != std::string::npos);

  test::write_text(dir + "/same.txt", dir + "/p.png\t" + dir + "/q.png\n" + dir + "/p.png\t" + dir + "/r.png\n");
  CHECK(test::run_command(flow_cmd("--pairs " + dir + "/same.txt -o " + dir + "/out3")).exit_code == 2);
}

TEST_CASE("perceiver-flow: single-pair errors and exit codes") {
  const std::string dir = test::temp_dir();
  write_png(dir + "/a.png", random_image(16, 12, 1));
  write_png(dir + "/b.png", random_image(17, 12, 2));
  write_png(dir + "/c.png", random_image(16, 12, 3));
  const std::string pair = dir + "/a.png " + dir + "/c.png";

  auto r = test::run_command(flow_cmd(dir + "/a.png " + dir + "/b.png -o " + dir + "/x.flo"));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("16×12") != std::string::npos);
  CHECK(r.err.find("17×12") != std::string::npos);
  CHECK(r.err.find(dir + "/a.png") != std::string::npos);
  CHECK(r.err.find(dir + "/b.png") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/x.flo"));

  CHECK(test::run_command(flow_cmd(dir + "/a.png " + dir + "/missing.png -o " + dir + "/x.flo")).exit_code == 7);
  CHECK(test::run_command(flow_cmd(pair)).exit_code == 2);                               // nothing to write
  CHECK(test::run_command(flow_cmd(dir + "/a.png -o " + dir + "/x.flo")).exit_code == 2);  // one frame
  CHECK(test::run_command(flow_cmd(pair + " --frames " + dir + " -o " + dir + "/o")).exit_code == 2);
  CHECK(test::run_command("env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow " + pair + " -o " + dir +
                          "/x.flo")
            .exit_code == 2);
  CHECK(test::run_command(test::bin_dir() + "/perceiver-flow -m " + dir + "/no-model " + pair + " -o " + dir + "/x.flo")
            .exit_code == 3);
  r = test::run_command(test::bin_dir() + "/perceiver-flow -m " + test::golden_dir() + "/vision_fourier " + pair + " -o " +
                        dir + "/x.flo");
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("PerceiverForOpticalFlow") != std::string::npos);
  r = test::run_command(flow_cmd(pair + " -o " + dir + "/no/such/dir/x.flo"));
  CHECK(r.exit_code == 8);
  CHECK_FALSE(fs::exists(dir + "/x.flo"));

  // --gt: EPE line then the mean; a ground truth of the wrong size is an input error.
  REQUIRE(test::run_command(flow_cmd(pair + " -o " + dir + "/ac.flo")).exit_code == 0);
  r = test::run_command(flow_cmd(pair + " --gt " + dir + "/ac.flo"));
  CHECK(r.exit_code == 0);
  CHECK(r.out == dir + "/a.png\t" + dir + "/c.png\t0.000000\nmean\t1 pairs\t0.000000\n");
  write_flo(dir + "/small.flo", FlowField(3, 3));
  r = test::run_command(flow_cmd(pair + " --gt " + dir + "/small.flo"));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("3×3") != std::string::npos);
  test::write_text(dir + "/corrupt.flo", "not a flow file");
  r = test::run_command(flow_cmd(pair + " --gt " + dir + "/corrupt.flo"));
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("not a .flo file") != std::string::npos);

  CHECK(listing(dir) == std::set<std::string>{"a.png", "b.png", "c.png", "ac.flo", "small.flo", "corrupt.flo"});
}
