// Middlebury .flo files (round trip, magic and size checks, limits), the end-point error with the
// unknown-flow marker, and the colour wheel on known vectors (docs/spec/io_formats.md §3.6–3.8).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

#include "common/error.h"
#include "media/flo.h"
#include "media/flow_metrics.h"
#include "media/flow_color.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

FlowField sample_flow(int64_t width, int64_t height) {
  FlowField flow(width, height);
  for (size_t i = 0; i < flow.uv.size(); ++i) flow.uv[i] = static_cast<float>(i) * 0.37f - 5.f;
  return flow;
}

ErrorKind error_kind_of(const std::function<void()>& body, std::string& message) {
  try {
    body();
  } catch (const Error& e) {
    message = e.what();
    return e.kind();
  }
  FAIL("no error thrown");
  return ErrorKind::Internal;
}

std::string header(float magic, int32_t width, int32_t height) {
  std::string bytes(12, '\0');
  std::memcpy(&bytes[0], &magic, 4);
  std::memcpy(&bytes[4], &width, 4);
  std::memcpy(&bytes[8], &height, 4);
  return bytes;
}

}  // namespace

TEST_CASE(".flo: write then read gives the same field, bytes as the spec lays them out") {
  const std::string dir = test::temp_dir();
  FlowField flow = sample_flow(7, 3);
  flow.uv[5] = 1e10f;  // unknown marker survives
  flow.uv[6] = -0.0f;
  write_flo(dir + "/a.flo", flow);
  CHECK(fs::directory_iterator(dir)->path().filename() == "a.flo");  // no temporary left
  const std::string bytes = test::read_text(dir + "/a.flo");
  REQUIRE(bytes.size() == 12 + 8 * 7 * 3);
  CHECK(bytes.substr(0, 4) == "PIEH");
  int32_t w = 0, h = 0;
  std::memcpy(&w, bytes.data() + 4, 4);
  std::memcpy(&h, bytes.data() + 8, 4);
  CHECK(w == 7);
  CHECK(h == 3);
  float u01 = 0;  // pixel (row 0, column 1), u
  std::memcpy(&u01, bytes.data() + 12 + 8, 4);
  CHECK(u01 == flow.u(0, 1));

  const FlowField back = read_flo(dir + "/a.flo");
  CHECK(back.width == 7);
  CHECK(back.height == 3);
  REQUIRE(back.uv.size() == flow.uv.size());
  CHECK(std::memcmp(back.uv.data(), flow.uv.data(), flow.uv.size() * 4) == 0);
  CHECK(encode_flo(back) == bytes);
}

TEST_CASE(".flo: corrupt files give clear errors") {
  const std::string dir = test::temp_dir();
  const std::string good = encode_flo(sample_flow(4, 2));
  std::string message;

  test::write_text(dir + "/magic.flo", "XXXX" + good.substr(4));
  CHECK(error_kind_of([&] { read_flo(dir + "/magic.flo"); }, message) == ErrorKind::Input);
  CHECK(message.find(dir + "/magic.flo: not a .flo file") == 0);
  CHECK(message.find("magic") != std::string::npos);

  test::write_text(dir + "/cut.flo", good.substr(0, good.size() - 5));
  CHECK(error_kind_of([&] { read_flo(dir + "/cut.flo"); }, message) == ErrorKind::Input);
  CHECK(message.find("truncated") != std::string::npos);
  CHECK(message.find("4×2") != std::string::npos);

  test::write_text(dir + "/long.flo", good + "xyz");
  CHECK(error_kind_of([&] { read_flo(dir + "/long.flo"); }, message) == ErrorKind::Input);
  CHECK(message.find("trailing bytes") != std::string::npos);

  test::write_text(dir + "/short.flo", "PIEH");
  CHECK(error_kind_of([&] { read_flo(dir + "/short.flo"); }, message) == ErrorKind::Input);
  CHECK(message.find("12-byte header") != std::string::npos);

  test::write_text(dir + "/zero.flo", header(kFloMagic, 0, 5));
  CHECK(error_kind_of([&] { read_flo(dir + "/zero.flo"); }, message) == ErrorKind::Input);
  CHECK(message.find("invalid .flo header") != std::string::npos);

  test::write_text(dir + "/negative.flo", header(kFloMagic, 3, -1) + std::string(24, '\0'));
  CHECK(error_kind_of([&] { read_flo(dir + "/negative.flo"); }, message) == ErrorKind::Input);

  // An absurd header is refused before anything is allocated, with the flag that raises the limit.
  test::write_text(dir + "/huge.flo", header(kFloMagic, 1 << 30, 1 << 30));
  CHECK(error_kind_of([&] { read_flo(dir + "/huge.flo"); }, message) == ErrorKind::Limit);
  CHECK(message.find("--max-pixels") != std::string::npos);
  // Within the limit but not backed by data: truncated.
  FloLimits generous;
  generous.max_pixels = int64_t{1} << 62;
  CHECK(error_kind_of([&] { read_flo(dir + "/huge.flo", generous); }, message) == ErrorKind::Input);
  CHECK(message.find("truncated") != std::string::npos);

  FloLimits small;
  small.max_pixels = 7;
  CHECK(error_kind_of([&] { decode_flo(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "mem", small); },
                      message) == ErrorKind::Limit);

  CHECK(error_kind_of([&] { read_flo(dir + "/missing.flo"); }, message) == ErrorKind::Input);
  CHECK(message == dir + "/missing.flo: cannot open the file");
  CHECK(error_kind_of([&] { read_flo(dir); }, message) == ErrorKind::Input);
}

TEST_CASE(".flo: a failed write leaves nothing behind") {
  const std::string dir = test::temp_dir();
  std::string message;
  CHECK(error_kind_of([&] { write_flo(dir + "/no/such/dir/a.flo", sample_flow(2, 2)); }, message) == ErrorKind::Output);
  CHECK(fs::is_empty(dir));
}

TEST_CASE("end-point error: mean over known pixels, the unknown marker and NaN left out") {
  FlowField truth(2, 2), flow(2, 2);
  truth.uv = {1, 2, 1e10f, 0, -1, 0.5f, std::numeric_limits<float>::quiet_NaN(), 0};
  flow.uv = {4, 6, 0, 0, -1, 0.5f, 100, 100};
  FlowErrorSums epe;
  epe.add(flow, truth);
  CHECK(epe.pixels == 2);
  CHECK(epe.epe() == doctest::Approx(2.5).epsilon(1e-12));  // (5 + 0) / 2

  truth.uv[1] = -2e9f;  // |v| > 1e9: unknown as well
  FlowErrorSums one;
  one.add(flow, truth);
  CHECK(one.pixels == 1);
  CHECK(one.epe() == 0);
  CHECK(flow_is_known(1e9f, -1e9f));
  CHECK_FALSE(flow_is_known(0, 1.5e9f));
  CHECK_FALSE(flow_is_known(std::numeric_limits<float>::infinity(), 0));

  std::string message;
  CHECK(error_kind_of([&] { FlowErrorSums().add(FlowField(3, 2), truth); }, message) == ErrorKind::Input);
  CHECK(message.find("2×2") != std::string::npos);
  CHECK(message.find("3×2") != std::string::npos);
}

TEST_CASE("flow metrics: px1/px3/px5 thresholds and KITTI's Fl-all outlier rule on hand-made pixels") {
  // Ground truth and errors chosen around each threshold (EPE along u only, so EPE = |du|).
  //   gt |flow|   EPE    <1 <3 <5  outlier (EPE > 3 and EPE > 5 % of |gt|)
  //   10          0.5    y  y  y   n
  //   10          2.9    n  y  y   n
  //   10          3.5    n  n  y   y
  //   100         4.0    n  n  y   n   (4 < 5 % of 100)
  //   100         6.0    n  n  n   y   (6 > 5)
  //   0           3.0    n  n  y   n   (not > 3)
  FlowField truth(6, 1), flow(6, 1);
  const float gt_u[6] = {10, 10, 10, 100, 100, 0};
  const float error[6] = {0.5f, 2.9f, 3.5f, 4.0f, 6.0f, 3.0f};
  for (int i = 0; i < 6; ++i) {
    truth.uv[2 * i] = gt_u[i];
    flow.uv[2 * i] = gt_u[i] + error[i];
  }
  FlowErrorSums sums;
  sums.add(flow, truth);
  CHECK(sums.pixels == 6);
  CHECK(sums.under_1 == 1);
  CHECK(sums.under_3 == 2);
  CHECK(sums.under_5 == 5);
  CHECK(sums.outliers == 2);
  CHECK(sums.fl_all() == doctest::Approx(2.0 / 6));
  CHECK(sums.epe() == doctest::Approx((0.5 + 2.9 + 3.5 + 4.0 + 6.0 + 3.0) / 6).epsilon(1e-6));
  // Sets add pixels, not means: a second pair of one pixel with EPE 0 moves the mean by 1/7.
  FlowField small_truth(1, 1), small_flow(1, 1);
  FlowErrorSums other;
  other.add(small_flow, small_truth);
  sums.add(other);
  CHECK(sums.pairs == 2);
  CHECK(sums.pixels == 7);
  CHECK(sums.epe() == doctest::Approx((0.5 + 2.9 + 3.5 + 4.0 + 6.0 + 3.0) / 7).epsilon(1e-6));
}

TEST_CASE("colour wheel: the six ramps") {
  const auto& wheel = color_wheel();
  using RGB = std::array<uint8_t, 3>;
  CHECK(wheel[0] == RGB{255, 0, 0});
  CHECK(wheel[1] == RGB{255, 17, 0});  // floor(255/15)
  CHECK(wheel[14] == RGB{255, 238, 0});
  CHECK(wheel[15] == RGB{255, 255, 0});
  CHECK(wheel[16] == RGB{213, 255, 0});  // 255 − floor(255/6)
  CHECK(wheel[21] == RGB{0, 255, 0});
  CHECK(wheel[22] == RGB{0, 255, 63});  // floor(255/4)
  CHECK(wheel[25] == RGB{0, 255, 255});
  CHECK(wheel[36] == RGB{0, 0, 255});
  CHECK(wheel[37] == RGB{19, 0, 255});  // floor(255/13)
  CHECK(wheel[49] == RGB{255, 0, 255});
  CHECK(wheel[54] == RGB{255, 0, 43});  // 255 − floor(255·5/6)
}

TEST_CASE("colour wheel: zero flow is white, the four axis directions as computed by hand") {
  using RGB = std::array<uint8_t, 3>;
  auto pixel = [](const Image& image, int64_t i) {
    return RGB{image.rgb[3 * i], image.rgb[3 * i + 1], image.rgb[3 * i + 2]};
  };
  // All zero: rmax = 0, r = 0 → white everywhere.
  const Image white = flow_to_color(FlowField(3, 2));
  for (uint8_t byte : white.rgb) CHECK(byte == 255);

  // rmax = 1, so each unit vector has r = 1/(1 + 1e-5), just inside the wheel.
  FlowField flow(6, 1);
  flow.uv = {1, 0, 0, 1, -1, 0, 0, -1, 0, 0, 1e10f, 1e10f};
  const Image image = flow_to_color(flow);
  REQUIRE(image.width == 6);
  REQUIRE(image.height == 1);
  // Right: atan2(−0, −1) = −π → k0 = 0, f = 0: wheel[0], red.
  CHECK(pixel(image, 0) == RGB{255, 0, 0});
  // Down: atan2(−1, −0) = −π/2 → fk = 13.5: G = (221 + 238)/2 = 229.5 → 229.
  CHECK(pixel(image, 1) == RGB{255, 229, 0});
  // Left: atan2(−0, 1) = −0 → fk = 27: wheel[27] = (0, 255 − floor(510/11), 255).
  CHECK(pixel(image, 2) == RGB{0, 209, 255});
  // Up: atan2(1, −0) = π/2 → fk = 40.5: R = (78 + 98)/2 = 88.
  CHECK(pixel(image, 3) == RGB{88, 0, 255});
  CHECK(pixel(image, 4) == RGB{255, 255, 255});  // zero flow
  CHECK(pixel(image, 5) == RGB{0, 0, 0});        // unknown: black, and not part of rmax

  // Half the largest magnitude: desaturated halfway towards white.
  // Down at r = 0.5: 1 − 0.5·(1 − col) of (255, 229.5, 0) → (255, 242.25, 127.5).
  CHECK(flow_color(0, 0.5) == RGB{255, 242, 127});
  // Beyond the wheel (a fixed --color-max smaller than the flow): 0.75 of the wheel colour.
  const Image fixed = flow_to_color(flow, 0.5);
  CHECK(pixel(fixed, 0) == RGB{191, 0, 0});  // floor(0.75·255)
}
