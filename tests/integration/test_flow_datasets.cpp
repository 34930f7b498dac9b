// perceiver-flow --sintel / --kitti on tiny trees made here in the benchmarks' own layouts, with
// known ground truth (a constant motion of a random texture, some pixels unknown): the reported
// metrics must equal what this test computes from the flows the tool wrote and the ground truth,
// per scene / image and per set; outputs land in the dataset's tree and format.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "media/flo.h"
#include "media/flow_formats.h"
#include "media/image.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string flow_cmd(const std::string& args) {
  return test::kNoSlurm + "env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow -q -t 1 -m " +
         test::golden_dir() + "/flow " + args;
}

// The test's own sums of the metrics (not the library's): EPE, thresholds, KITTI outliers.
struct Expected {
  double epe_sum = 0;
  int64_t pixels = 0, under1 = 0, under3 = 0, under5 = 0, outliers = 0, pairs = 0;
  void add(const FlowField& flow, const FlowField& gt) {
    for (int64_t y = 0; y < gt.height; ++y)
      for (int64_t x = 0; x < gt.width; ++x) {
        const double gu = gt.u(y, x), gv = gt.v(y, x);
        if (!(std::fabs(gu) <= 1e9 && std::fabs(gv) <= 1e9)) continue;
        const double e = std::hypot(flow.u(y, x) - gu, flow.v(y, x) - gv);
        epe_sum += e;
        ++pixels;
        under1 += e < 1;
        under3 += e < 3;
        under5 += e < 5;
        outliers += e > 3 && e > 0.05 * std::hypot(gu, gv);
      }
    ++pairs;
  }
  void check(const nlohmann::json& line, bool kitti) const {
    CAPTURE(line.dump());
    CHECK(line["pairs"] == pairs);
    CHECK(line["pixels"] == pixels);
    REQUIRE(pixels > 0);
    const double n = static_cast<double>(pixels);
    CHECK(line["epe"].get<double>() == doctest::Approx(epe_sum / n).epsilon(1e-9));
    CHECK(line["px1"].get<double>() == doctest::Approx(under1 / n).epsilon(1e-12));
    CHECK(line["px3"].get<double>() == doctest::Approx(under3 / n).epsilon(1e-12));
    CHECK(line["px5"].get<double>() == doctest::Approx(under5 / n).epsilon(1e-12));
    if (kitti) CHECK(line["fl_all"].get<double>() == doctest::Approx(outliers / n).epsilon(1e-12));
    else CHECK_FALSE(line.contains("fl_all"));
  }
};

// A random texture and the same texture moved `shift` pixels right (the edge column repeated).
std::pair<Image, Image> moving_texture(int64_t width, int64_t height, uint32_t seed, int shift) {
  Image first = test::random_image(width, height, seed), second = first;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        second.rgb[(y * width + x) * 3 + c] = first.rgb[(y * width + std::max<int64_t>(0, x - shift)) * 3 + c];
  return {first, second};
}

// Ground truth of the motion: (shift, 0) everywhere, unknown (1e10) at every `unknown_every`-th pixel.
FlowField constant_truth(int64_t width, int64_t height, float shift, int unknown_every) {
  FlowField gt(width, height);
  for (int64_t i = 0; i < width * height; ++i) {
    const bool unknown = unknown_every > 0 && i % unknown_every == 0;
    gt.uv[2 * i] = unknown ? 1e10f : shift;
    gt.uv[2 * i + 1] = unknown ? 1e10f : 0.f;
  }
  return gt;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("perceiver-flow --sintel: every pair of every scene and pass, metrics per scene and per pass equal the test's own") {
  const std::string root = test::temp_dir() + "/training";
  // Scenes: alley (4 frames, 3 pairs) and cave (2 frames, 1 pair), both passes.
  const std::map<std::string, int> scenes = {{"alley", 4}, {"cave", 2}};
  for (const auto& [scene, frames] : scenes) {
    fs::create_directories(root + "/flow/" + scene);
    for (const char* pass : {"clean", "final"}) fs::create_directories(root + "/" + pass + "/" + scene);
    for (int f = 1; f <= frames; ++f) {
      const auto [a, b] = moving_texture(20, 12, static_cast<uint32_t>(f + 10 * frames), 1);
      char name[32];
      std::snprintf(name, sizeof name, "frame_%04d", f);
      write_png(root + "/clean/" + scene + "/" + name + ".png", f % 2 ? a : b);
      write_png(root + "/final/" + scene + "/" + name + ".png", f % 2 ? b : a);
      if (f < frames) write_flo(root + "/flow/" + scene + "/" + name + ".flo", constant_truth(20, 12, 1.0f + f, 7));
    }
  }
  const std::string out = test::temp_dir() + "/out";
  const test::CommandResult r = test::run_command(flow_cmd("--sintel " + root + " --pass both --json -o " + out));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  // The flows in Sintel's own tree: <pass>/<scene>/frame_NNNN.flo.
  std::map<std::string, Expected> per_scene, per_pass;
  for (const char* pass : {"clean", "final"})
    for (const auto& [scene, frames] : scenes)
      for (int f = 1; f < frames; ++f) {
        char name[32];
        std::snprintf(name, sizeof name, "frame_%04d.flo", f);
        const std::string written = out + "/" + pass + "/" + scene + "/" + name;
        REQUIRE(fs::exists(written));
        const FlowField flow = read_flo(written), gt = read_flo(root + "/flow/" + scene + "/" + name);
        per_scene[std::string(pass) + "/" + scene].add(flow, gt);
        per_pass[std::string("sintel/") + pass].add(flow, gt);
      }
  // One line per scene in pass order, then one per pass.
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  REQUIRE(lines.size() == 6);
  const char* order[4] = {"clean/alley", "clean/cave", "final/alley", "final/cave"};
  for (int i = 0; i < 4; ++i) {
    const std::string group = order[i];
    CHECK(lines[i]["pass"] == group.substr(0, group.find('/')));
    CHECK(lines[i]["scene"] == group.substr(group.find('/') + 1));
    per_scene[group].check(lines[i], false);
  }
  CHECK(lines[4]["set"] == "sintel/clean");
  per_pass["sintel/clean"].check(lines[4], false);
  CHECK(lines[5]["set"] == "sintel/final");
  per_pass["sintel/final"].check(lines[5], false);
  // Unknown ground truth (every 7th pixel) is left out: 240 pixels, 35 of them unknown, per pair.
  CHECK(lines[4]["pixels"] == 4 * (240 - 35));

  // Text: a '#' header, then tab-separated lines with the same numbers.
  const test::CommandResult text = test::run_command(flow_cmd("--sintel " + root + " --pass clean -o " + out + " --skip-existing"));
  REQUIRE(text.exit_code == 0);
  std::istringstream lines_in(text.out);
  std::string header, alley, cave, total;
  std::getline(lines_in, header);
  std::getline(lines_in, alley);
  std::getline(lines_in, cave);
  std::getline(lines_in, total);
  CHECK(header == "# scene\tpairs\tpixels\tepe\tpx1\tpx3\tpx5");
  CHECK(alley.rfind("clean/alley\t3\t615\t", 0) == 0);
  CHECK(total.rfind("sintel/clean\t4\t820\t", 0) == 0);
  char epe[32];
  std::snprintf(epe, sizeof epe, "%.6f", lines[4]["epe"].get<double>());
  CHECK(total.find(std::string("\t") + epe + "\t") != std::string::npos);

  // Shards: their per-pass lines combine, weighted by pixels, into the whole run's.
  double epe_pixels = 0;
  int64_t pixels = 0;
  for (int shard = 0; shard < 3; ++shard) {
    const test::CommandResult part =
        test::run_command(flow_cmd("--sintel " + root + " --pass clean --json --shard " + std::to_string(shard) + "/3"));
    REQUIRE(part.exit_code == 0);
    const nlohmann::json last = json_lines(part.out).back();
    CHECK(last["set"] == "sintel/clean");
    epe_pixels += last["epe"].get<double>() * last["pixels"].get<double>();
    pixels += last["pixels"].get<int64_t>();
  }
  CHECK(pixels == 820);
  CHECK(epe_pixels / static_cast<double>(pixels) == doctest::Approx(lines[4]["epe"].get<double>()).epsilon(1e-9));

  // The test split has no flow/: flows only, nothing on stdout; without -o there is nothing to do.
  fs::remove_all(root + "/flow");
  const std::string submission = test::temp_dir() + "/submission";
  const test::CommandResult flows_only = test::run_command(flow_cmd("--sintel " + root + " -o " + submission));
  CHECK(flows_only.exit_code == 0);
  CHECK(flows_only.out.empty());
  CHECK(fs::exists(submission + "/clean/alley/frame_0003.flo"));
  const test::CommandResult nothing = test::run_command(flow_cmd("--sintel " + root));
  CHECK(nothing.exit_code == 2);
  CHECK(nothing.err.find("no ground truth") != std::string::npos);
}

TEST_CASE("perceiver-flow --kitti: flow_occ and flow_noc, Fl-all, KITTI 16-bit PNG outputs, metrics equal the test's own") {
  const std::string root = test::temp_dir() + "/training";
  for (const char* folder : {"image_2", "flow_occ", "flow_noc"}) fs::create_directories(root + "/" + folder);
  for (int i = 0; i < 3; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%06d", i);
    const auto [a, b] = moving_texture(20, 12, static_cast<uint32_t>(40 + i), 2);
    write_png(root + "/image_2/" + id + "_10.png", a);
    write_png(root + "/image_2/" + id + "_11.png", b);
    // Large motion for image 1, so that some pixels are outliers and others are within 5 %.
    const float shift = i == 1 ? 80.f : 2.f;
    write_flow_file(root + "/flow_occ/" + id + "_10.png", constant_truth(20, 12, shift, 11));
    write_flow_file(root + "/flow_noc/" + id + "_10.png", constant_truth(20, 12, shift, 3));
  }
  const std::string out = test::temp_dir() + "/out";
  const test::CommandResult r = test::run_command(flow_cmd("--kitti " + root + " --json -o " + out));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  Expected all, noc;
  std::vector<Expected> images(3), images_noc(3);
  for (int i = 0; i < 3; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%06d", i);
    // The estimate in KITTI's format, read back as KITTI's tools read it (within its 1/64 px steps).
    const FlowField flow = read_flow_file(out + "/" + id + "_10.png");
    const FlowField occ = read_flow_file(root + "/flow_occ/" + id + "_10.png");
    const FlowField non_occluded = read_flow_file(root + "/flow_noc/" + id + "_10.png");
    images[i].add(flow, occ);
    images_noc[i].add(flow, non_occluded);
    all.add(flow, occ);
    noc.add(flow, non_occluded);
  }
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  REQUIRE(lines.size() == 4);
  // The tool measures its float flow, the test the 16-bit file: equal within the quantisation.
  const auto close = [](const nlohmann::json& line, const Expected& e) {
    CAPTURE(line.dump());
    CHECK(line["pixels"] == e.pixels);
    CHECK(line["epe"].get<double>() == doctest::Approx(e.epe_sum / static_cast<double>(e.pixels)).epsilon(0.01));
  };
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i]["image"] == "00000" + std::to_string(i) + "_10");
    close(lines[i], images[i]);
    close(lines[i]["noc"], images_noc[i]);
  }
  CHECK(lines[3]["set"] == "kitti");
  close(lines[3], all);
  close(lines[3]["noc"], noc);
  // Exactly equal on the tool's own flows: run again with --skip-existing, which measures the
  // written PNGs, so both sides see the same numbers.
  const test::CommandResult again = test::run_command(flow_cmd("--kitti " + root + " --json -o " + out + " --skip-existing"));
  REQUIRE(again.exit_code == 0);
  const std::vector<nlohmann::json> measured = json_lines(again.out);
  REQUIRE(measured.size() == 4);
  for (int i = 0; i < 3; ++i) {
    images[i].check(measured[i], true);
    images_noc[i].check(measured[i]["noc"], true);
  }
  all.check(measured[3], true);
  noc.check(measured[3]["noc"], true);
  CHECK(again.err.find("3 skipped") != std::string::npos);

  // -o and --color into one folder would both write NNNNNN_10.png: refused before any work.
  const test::CommandResult clash = test::run_command(flow_cmd("--kitti " + root + " -o " + out + "2 --color " + out + "2"));
  CHECK(clash.exit_code == 2);
  CHECK(clash.err.find("would be written twice") != std::string::npos);
  CHECK_FALSE(fs::exists(out + "2/000000_10.png"));
}

namespace {

// The text of a PNG's tEXt chunk named `keyword` ("" when there is none).
std::string png_text(const std::string& path, const std::string& keyword) {
  const std::string png = test::read_text(path);
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(png[i])); };
    const uint32_t length = byte(at) << 24 | byte(at + 1) << 16 | byte(at + 2) << 8 | byte(at + 3);
    if (png.compare(at + 4, 4, "tEXt") == 0) {
      const std::string body = png.substr(at + 8, length);
      const size_t nul = body.find('\0');
      if (body.substr(0, nul) == keyword) return body.substr(nul + 1);
    }
    at += 12 + length;
  }
  return "";
}

}  // namespace

TEST_CASE("perceiver-flow pictures: the colour key, one colour scale for a sequence, the error map, scales in the PNG text") {
  const std::string dir = test::temp_dir();
  // The key needs no model: a disk of the wheel's colours, white outside, zero flow white.
  const test::CommandResult key = test::run_command(test::bin_dir() + "/perceiver-flow --color-key " + dir + "/key.png");
  REQUIRE(key.exit_code == 0);
  const Image wheel = load_image(dir + "/key.png");
  CHECK(wheel.width == 256);
  const auto pixel = [](const Image& image, int64_t x, int64_t y) {
    const uint8_t* p = &image.rgb[static_cast<size_t>((y * image.width + x) * 3)];
    return std::array<int, 3>{p[0], p[1], p[2]};
  };
  CHECK(pixel(wheel, 0, 0) == std::array<int, 3>{255, 255, 255});       // outside the disk
  CHECK(pixel(wheel, 250, 128)[0] == 255);                               // rightwards: red
  CHECK(pixel(wheel, 250, 128)[2] < 40);
  CHECK(pixel(wheel, 128, 250)[0] > 200);                                // downwards: yellow
  CHECK(pixel(wheel, 128, 250)[1] > 200);
  CHECK(pixel(wheel, 128, 250)[2] < 60);

  // A clip of three frames: with --color-max auto every picture has the same scale, the
  // largest flow magnitude over both pairs, printed once and kept in each PNG's text.
  fs::create_directories(dir + "/clip");
  for (int f = 0; f < 3; ++f) write_png(dir + "/clip/f" + std::to_string(f) + ".png", test::random_image(20, 12, 70 + f));
  const std::string flow = test::kNoSlurm + "env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow -t 1 -m " +
                           test::golden_dir() + "/flow ";
  const test::CommandResult clip =
      test::run_command(flow + "--frames " + dir + "/clip -o " + dir + "/out --color " + dir + "/color --color-max auto");
  CAPTURE(clip.err);
  REQUIRE(clip.exit_code == 0);
  double largest = 0;
  for (const char* name : {"f0", "f1"}) {
    const FlowField f = read_flo(dir + "/out/" + name + ".flo");
    for (int64_t y = 0; y < f.height; ++y)
      for (int64_t x = 0; x < f.width; ++x) largest = std::max(largest, std::hypot(double(f.u(y, x)), double(f.v(y, x))));
  }
  char scale[48];
  std::snprintf(scale, sizeof scale, "%.4f px", largest);
  CHECK(clip.err.find(std::string("colour scale for all 2 pairs: ") + scale) != std::string::npos);
  for (const char* name : {"f0", "f1"}) CHECK(png_text(dir + "/color/" + name + ".png", "perceiver-flow color scale").rfind(scale, 0) == 0);
  // Without auto each picture has its own scale, also printed.
  const test::CommandResult own = test::run_command(flow + dir + "/clip/f0.png " + dir + "/clip/f1.png --color " + dir + "/one.png");
  REQUIRE(own.exit_code == 0);
  CHECK(own.err.find(dir + "/one.png: colour scale ") != std::string::npos);
  // --color-max auto without -o cannot read the flows back: refused before any work.
  const test::CommandResult no_output = test::run_command(flow + "--frames " + dir + "/clip --color " + dir + "/c2 --color-max auto");
  CHECK(no_output.exit_code == 2);

  // The error map against a ground truth equal to the flow but for one pixel off by 2 px and one
  // unknown: zero error is viridis' start, the largest error (the scale) its end, unknown black.
  FlowField truth = read_flo(dir + "/out/f0.flo");
  truth.uv[0] += 2;                  // pixel (0, 0): error 2, the largest
  truth.uv[2] = truth.uv[3] = 1e10f;  // pixel (1, 0): unknown
  write_flo(dir + "/gt.flo", truth);
  const test::CommandResult map = test::run_command(flow + dir + "/clip/f0.png " + dir + "/clip/f1.png --gt " + dir +
                                                    "/gt.flo --error-map " + dir + "/error.png");
  CAPTURE(map.err);
  REQUIRE(map.exit_code == 0);
  const Image error = load_image(dir + "/error.png");
  CHECK(pixel(error, 0, 0) == std::array<int, 3>{253, 231, 37});
  CHECK(pixel(error, 1, 0) == std::array<int, 3>{0, 0, 0});
  CHECK(pixel(error, 5, 5) == std::array<int, 3>{68, 1, 84});
  CHECK(png_text(dir + "/error.png", "perceiver-flow error scale").rfind("2.0000 px", 0) == 0);
  CHECK(map.err.find("error scale 2.0000 px") != std::string::npos);
}

TEST_CASE("perceiver-flow -o by extension (.flo, KITTI .png, .npy) and --gt in .pfm and KITTI .png give the same flow and EPE") {
  const std::string dir = test::temp_dir();
  const auto [a, b] = moving_texture(20, 12, 90, 1);
  write_png(dir + "/a.png", a);
  write_png(dir + "/b.png", b);
  const std::string flow = test::kNoSlurm + "env -u PERCEIVER_FLOW_MODEL " + test::bin_dir() + "/perceiver-flow -q -t 1 -m " +
                           test::golden_dir() + "/flow " + dir + "/a.png " + dir + "/b.png ";
  for (const char* name : {"f.flo", "f.png", "f.npy", "plain"}) REQUIRE(test::run_command(flow + "-o " + dir + "/" + name).exit_code == 0);
  const FlowField reference = read_flo(dir + "/f.flo");
  CHECK(read_flo(dir + "/plain").uv == reference.uv);  // no extension: .flo
  CHECK(read_flow_file(dir + "/f.npy").uv == reference.uv);
  const FlowField kitti = read_flow_file(dir + "/f.png");
  for (size_t i = 0; i < reference.uv.size(); ++i) CHECK(std::fabs(kitti.uv[i] - reference.uv[i]) <= 1.0 / 128 + 1e-6);
  // The .npy bytes as NumPy lays them out: the header, then (H, W, 2) float32.
  const std::string npy = test::read_text(dir + "/f.npy");
  CHECK(npy.find("'shape': (12, 20, 2)") != std::string::npos);
  CHECK(npy.size() % 64 == (20 * 12 * 2 * 4) % 64);

  // Ground truth = the flow, as a .pfm written here by hand (little-endian, rows bottom to top)
  // with one pixel moved by (3, 4): EPE 5 / 240 per pixel on average.
  std::string pfm = "PF\n20 12\n-1.0\n";
  for (int64_t y = 11; y >= 0; --y)
    for (int64_t x = 0; x < 20; ++x) {
      float values[3] = {reference.u(y, x), reference.v(y, x), 0};
      if (y == 0 && x == 0) values[0] += 3, values[1] += 4;
      pfm.append(reinterpret_cast<const char*>(values), sizeof values);  // the test machine is little-endian (x86-64)
    }
  test::write_text(dir + "/gt.pfm", pfm);
  const test::CommandResult measured = test::run_command(flow + "--gt " + dir + "/gt.pfm");
  CAPTURE(measured.err);
  REQUIRE(measured.exit_code == 0);
  char expected[32];
  std::snprintf(expected, sizeof expected, "\t%.6f\n", 5.0 / 240);
  CHECK(measured.out.find(expected) != std::string::npos);
  // -o .pfm is refused before any work: .pfm is read, not written.
  const test::CommandResult pfm_out = test::run_command(flow + "-o " + dir + "/out.pfm");
  CHECK(pfm_out.exit_code == 2);
  CHECK_FALSE(fs::exists(dir + "/out.pfm"));
}
