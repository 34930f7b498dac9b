// Flow files besides .flo: KITTI 16-bit PNGs (against PNGs made by hand here, with this file's
// own CRC-32 and Adler-32, and our encoder's bytes taken apart sample by sample), .npy bytes as
// NumPy lays them out, FlyingThings3D PFMs of both byte orders, and the choice by extension.
#include <doctest/doctest.h>

// A private copy of stb_image / stb_image_write (internal linkage), to take our PNGs apart and to
// make an 8-bit one independently of the library.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/flo.h"
#include "media/flow_formats.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

// ---- checksums, bitwise from their definitions ----

uint32_t crc32_of(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

uint32_t adler32_of(const std::string& bytes) {
  uint32_t a = 1, b = 0;
  for (unsigned char byte : bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

std::string be16(uint32_t value) { return {static_cast<char>(value >> 8), static_cast<char>(value & 0xff)}; }
std::string be32(uint32_t value) { return be16(value >> 16) + be16(value & 0xffff); }
std::string le16(uint32_t value) { return {static_cast<char>(value & 0xff), static_cast<char>(value >> 8)}; }
std::string le32(uint32_t value) { return le16(value & 0xffff) + le16(value >> 16); }
uint32_t read_be(const std::string& bytes, size_t at, int count) {
  uint32_t value = 0;
  for (int i = 0; i < count; ++i) value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
  return value;
}
uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
std::string float_le(float f) { return le32(bits(f)); }
std::string float_be(float f) { return be32(bits(f)); }

std::string chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32_of(type + data));
}

const std::string kSignature = "\x89PNG\r\n\x1a\n";

// A PNG whose IDAT is a zlib stream of STORED deflate blocks of at most `block` bytes, cut into
// two IDAT chunks: no compressor involved. `scanlines` holds the filter bytes and samples.
std::string hand_made_png(uint32_t width, uint32_t height, int depth, int colour, const std::string& scanlines,
                          size_t block = 65535) {
  std::string zlib = "\x78\x01";  // deflate, 32 KiB window; (0x78·256 + 0x01) % 31 == 0
  for (size_t at = 0; at < scanlines.size(); at += block) {
    const size_t n = std::min(block, scanlines.size() - at);
    zlib += static_cast<char>(at + n == scanlines.size() ? 1 : 0);  // BFINAL, BTYPE 00 (stored)
    zlib += le16(static_cast<uint32_t>(n)) + le16(static_cast<uint32_t>(~n & 0xffff)) + scanlines.substr(at, n);
  }
  zlib += be32(adler32_of(scanlines));
  const std::string ihdr = be32(width) + be32(height) + std::string{static_cast<char>(depth), static_cast<char>(colour), 0, 0, 0};
  const size_t half = zlib.size() / 2;
  return kSignature + chunk("IHDR", ihdr) + chunk("IDAT", zlib.substr(0, half)) + chunk("IDAT", zlib.substr(half)) +
         chunk("IEND", "");
}

FlowField decode(FlowFileFormat format, const std::string& bytes, const FloLimits& limits = {}) {
  return decode_flow_file(format, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t", limits);
}

void expect_decode_error(FlowFileFormat format, const std::string& bytes, ErrorKind kind, const std::string& fragment,
                         const FloLimits& limits = {}) {
  test::expect_error([&] { decode(format, bytes, limits); }, kind, "t", fragment);
}

FlowField random_flow(int64_t width, int64_t height, uint32_t seed, float range) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> value(-range, range);
  FlowField flow(width, height);
  for (float& x : flow.uv) x = value(random);
  return flow;
}

// The raw samples of a PNG's pixels, taken apart by hand: chunks with their CRCs checked, the
// IDAT zlib stream inflated by the private stb and its Adler-32 checked, filter bytes, samples.
struct PngParts {
  std::string ihdr;
  std::vector<std::string> order;  // chunk types as they come
  std::string scanlines;
};

PngParts take_apart(const std::string& png) {
  PngParts parts;
  REQUIRE(png.substr(0, 8) == kSignature);
  std::string zlib;
  size_t at = 8;
  while (at < png.size()) {
    REQUIRE(at + 12 <= png.size());
    const uint32_t length = read_be(png, at, 4);
    REQUIRE(at + 12 + length <= png.size());
    const std::string type = png.substr(at + 4, 4), data = png.substr(at + 8, length);
    CHECK(read_be(png, at + 8 + length, 4) == crc32_of(type + data));
    parts.order.push_back(type);
    if (type == "IHDR") parts.ihdr = data;
    if (type == "IDAT") zlib += data;
    at += 12 + length;
  }
  REQUIRE(zlib.size() > 6);
  CHECK((static_cast<unsigned char>(zlib[0]) & 0x0f) == 8);  // deflate
  CHECK(read_be(zlib, 0, 2) % 31 == 0);
  int size = 0;
  char* inflated = stbi_zlib_decode_malloc(zlib.data(), static_cast<int>(zlib.size()), &size);
  REQUIRE(inflated != nullptr);
  parts.scanlines.assign(inflated, static_cast<size_t>(size));
  STBI_FREE(inflated);
  CHECK(read_be(zlib, zlib.size() - 4, 4) == adler32_of(parts.scanlines));  // stb does not check it
  return parts;
}

}  // namespace

TEST_CASE("flow formats: the test's own CRC-32 and Adler-32 give the published check values") {
  CHECK(crc32_of("123456789") == 0xCBF43926u);
  CHECK(adler32_of("Wikipedia") == 0x11E60398u);
}

TEST_CASE("flow formats: KITTI PNG round trip keeps known flow within 1/128 px and unknown pixels unknown") {
  FlowField flow = random_flow(37, 23, 7, 300.f);
  std::mt19937 random(11);
  const float markers[] = {kUnknownFlowValue, -2e9f, std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity()};
  int unknown = 0;
  for (size_t i = 0; i < flow.uv.size(); i += 2) {
    if (random() % 10 != 0) continue;
    flow.uv[i + random() % 2] = markers[unknown++ % 4];  // one component is enough to be unknown
  }
  REQUIRE(unknown > 50);

  const FlowField back = decode(FlowFileFormat::KittiPng, encode_flow_file(FlowFileFormat::KittiPng, flow));
  REQUIRE(back.width == 37);
  REQUIRE(back.height == 23);
  REQUIRE(back.uv.size() == flow.uv.size());
  int wrong = 0, unknown_back = 0;
  double worst = 0;
  for (size_t i = 0; i < flow.uv.size(); i += 2) {
    if (!flow_is_known(flow.uv[i], flow.uv[i + 1])) {
      unknown_back += !flow_is_known(back.uv[i], back.uv[i + 1]);
      wrong += back.uv[i] != kUnknownFlowValue || back.uv[i + 1] != kUnknownFlowValue;
      continue;
    }
    for (size_t c = 0; c < 2; ++c) worst = std::max(worst, std::fabs(double(back.uv[i + c]) - flow.uv[i + c]));
  }
  CHECK(wrong == 0);
  CHECK(unknown_back == unknown);
  CHECK(worst <= 1.0 / 128);
  CHECK(worst > 1.0 / 512);  // the samples really are quantised

  // Beyond ±512 px the samples saturate, still valid.
  FlowField far(2, 1);
  far.uv = {600.f, -600.f, 511.99f, -512.f};
  const FlowField clamped = decode(FlowFileFormat::KittiPng, encode_flow_file(FlowFileFormat::KittiPng, far));
  CHECK(clamped.uv == std::vector<float>{511.984375f, -512.f, 511.984375f, -512.f});
}

TEST_CASE("flow formats: a hand-made KITTI PNG of stored deflate blocks decodes to exactly its flows") {
  // 3×2 pixels, (R, G, B) each; B = 0 is invalid whatever R and G hold, any other B is valid.
  const uint32_t samples[2][3][3] = {
      {{32768 + 96, 32768 - 144, 1}, {1234, 4321, 0}, {0, 65535, 1}},
      {{32768, 32768, 7}, {32768 + 1, 32768 - 1, 1}, {40000, 20000, 0}},
  };
  std::string rgb, rgba;
  for (const auto& row : samples) {
    rgb += '\0';
    rgba += '\0';
    for (const auto& pixel : row) {
      const std::string sample = be16(pixel[0]) + be16(pixel[1]) + be16(pixel[2]);
      rgb += sample;
      rgba += sample + be16(0xABCD);  // alpha, ignored
    }
  }
  const std::vector<float> expected = {1.5f,  -2.25f, kUnknownFlowValue, kUnknownFlowValue, -512.f,           511.984375f,
                                       0.f,   0.f,    1 / 64.f,          -1 / 64.f,         kUnknownFlowValue, kUnknownFlowValue};

  const std::string dir = test::temp_dir();
  test::write_text(dir + "/hand.PNG", hand_made_png(3, 2, 16, 2, rgb, 5));  // 8 stored blocks
  const FlowField flow = read_flow_file(dir + "/hand.PNG");
  CHECK(flow.width == 3);
  CHECK(flow.height == 2);
  CHECK(flow.uv == expected);
  CHECK(!flow_is_known(flow.u(0, 1), flow.v(0, 1)));

  const FlowField with_alpha = decode(FlowFileFormat::KittiPng, hand_made_png(3, 2, 16, 6, rgba));
  CHECK(with_alpha.uv == expected);
}

TEST_CASE("flow formats: our KITTI PNG is 16-bit RGB with valid CRCs and Adler-32 and the expected samples") {
  FlowField flow(2, 2);
  flow.uv = {1.5f, -2.25f, kUnknownFlowValue, 3.f, 0.f, 0.f, 511.99f, -600.f};
  const std::string png = encode_flow_file(FlowFileFormat::KittiPng, flow);

  const PngParts parts = take_apart(png);
  CHECK(parts.order == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
  CHECK(parts.ihdr == be32(2) + be32(2) + std::string{16, 2, 0, 0, 0});
  const std::vector<uint32_t> want = {32768 + 96, 32768 - 144, 1, 32768, 32768, 0,   // row 0
                                      32768, 32768, 1, 65535, 0, 1};                 // row 1
  REQUIRE(parts.scanlines.size() == 2 * (1 + 2 * 6));
  std::vector<uint32_t> got;
  for (size_t row = 0; row < 2; ++row) {
    CHECK(parts.scanlines[row * 13] == '\0');  // filter: none
    for (size_t i = 0; i < 6; ++i) got.push_back(read_be(parts.scanlines, row * 13 + 1 + 2 * i, 2));
  }
  CHECK(got == want);

  // stb's PNG reader agrees, sample for sample.
  const auto* bytes = reinterpret_cast<const stbi_uc*>(png.data());
  CHECK(stbi_is_16_bit_from_memory(bytes, static_cast<int>(png.size())) == 1);
  int w = 0, h = 0, channels = 0;
  stbi_us* pixels = stbi_load_16_from_memory(bytes, static_cast<int>(png.size()), &w, &h, &channels, 0);
  REQUIRE(pixels != nullptr);
  CHECK(w == 2);
  CHECK(h == 2);
  CHECK(channels == 3);
  CHECK(std::vector<uint32_t>(pixels, pixels + 12) == want);
  stbi_image_free(pixels);
}

TEST_CASE("flow formats: PNGs that are not KITTI flow are refused with the reason") {
  // An 8-bit RGB PNG, written by the private stb.
  const unsigned char rgb8[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::string eight_bit;
  stbi_write_png_to_func([](void* context, void* data, int size) { static_cast<std::string*>(context)->append(static_cast<char*>(data), size); },
                         &eight_bit, 2, 2, 3, rgb8, 6);
  REQUIRE(eight_bit.size() > 8);
  expect_decode_error(FlowFileFormat::KittiPng, eight_bit, ErrorKind::Input, "not a KITTI flow PNG: 8-bit RGB, KITTI flow PNGs are 16-bit RGB");

  const std::string gray16 = hand_made_png(2, 1, 16, 0, std::string("\0", 1) + be16(1) + be16(2));
  expect_decode_error(FlowFileFormat::KittiPng, gray16, ErrorKind::Input, "16-bit grayscale, KITTI flow PNGs are 16-bit RGB");
  expect_decode_error(FlowFileFormat::KittiPng, "GIF89a......", ErrorKind::Input, "not a PNG file");

  const std::string good = encode_flow_file(FlowFileFormat::KittiPng, random_flow(4, 4, 3, 10.f));
  expect_decode_error(FlowFileFormat::KittiPng, good, ErrorKind::Limit, "4×4 = 16 pixels, more than the limit of 15 (--max-pixels)",
                      FloLimits{15});
  CHECK(decode(FlowFileFormat::KittiPng, good, FloLimits{16}).width == 4);
  expect_decode_error(FlowFileFormat::KittiPng, good.substr(0, good.size() / 2), ErrorKind::Input, "corrupt PNG");
  expect_decode_error(FlowFileFormat::KittiPng, good.substr(0, 20), ErrorKind::Input, "corrupt PNG");
}

TEST_CASE("flow formats: PFM from hand-made bytes in both byte orders, rows stored bottom to top") {
  // W = 2, H = 3; in file row r (0 = the bottom one), pixel x holds (10r + x + 0.5, −10r − x − 0.25, 99).
  const auto pfm = [](const std::string& header, bool little) {
    std::string bytes = header;
    for (int r = 0; r < 3; ++r)
      for (int x = 0; x < 2; ++x)
        for (float value : {10.f * r + x + 0.5f, -10.f * r - x - 0.25f, 99.f})
          bytes += little ? float_le(value) : float_be(value);
    return bytes;
  };
  const std::vector<float> expected = {20.5f, -20.25f, 21.5f, -21.25f,   // top row = file row 2
                                       10.5f, -10.25f, 11.5f, -11.25f,
                                       0.5f,  -0.25f,  1.5f,  -1.25f};
  const std::string little = pfm("PF\n2 3\n-1.0\n", true), big = pfm("PF\n2 3\n1.0\n", false);
  REQUIRE(little.size() == 12 + 2 * 3 * 12);

  const std::string dir = test::temp_dir();
  test::write_text(dir + "/little.pfm", little);
  const FlowField from_little = read_flow_file(dir + "/little.pfm");
  CHECK(from_little.width == 2);
  CHECK(from_little.height == 3);
  CHECK(from_little.uv == expected);
  CHECK(decode(FlowFileFormat::Pfm, big).uv == expected);
  CHECK(decode(FlowFileFormat::Pfm, pfm("PF \t2\n\n  3 \r\n-0.5\n", true)).uv == expected);  // any whitespace between fields
  CHECK(decode(FlowFileFormat::Pfm, pfm("PF\n2 3\n+2 ", false)).uv == expected);             // one whitespace character ends it

  expect_decode_error(FlowFileFormat::Pfm, little.substr(0, little.size() - 1), ErrorKind::Input,
                      "a 2×3 PFM file must be 84 bytes, this one is 83 (truncated)");
  expect_decode_error(FlowFileFormat::Pfm, little + "x", ErrorKind::Input, "(trailing bytes)");
  expect_decode_error(FlowFileFormat::Pfm, "Pf\n2 3\n-1.0\n" + std::string(24, '\0'), ErrorKind::Input, "one-channel \"Pf\" PFM");
  expect_decode_error(FlowFileFormat::Pfm, pfm("PF\n2 3\n0\n", true), ErrorKind::Input, "invalid PFM scale '0'");
  expect_decode_error(FlowFileFormat::Pfm, pfm("PF\n2 -3\n-1\n", true), ErrorKind::Input, "invalid PFM size '-3'");
  expect_decode_error(FlowFileFormat::Pfm, "PF\n2 3", ErrorKind::Input, "truncated PFM header");
  expect_decode_error(FlowFileFormat::Pfm, "P6\n2 3\n255\n", ErrorKind::Input, "not a PFM file");
  expect_decode_error(FlowFileFormat::Pfm, little, ErrorKind::Limit, "2×3 = 6 pixels, more than the limit of 5", FloLimits{5});
}

TEST_CASE("flow formats: .npy bytes are NumPy 1.0 '<f4' of shape (H, W, 2), 64-byte aligned, read back equal") {
  const FlowField flow = random_flow(3, 2, 5, 50.f);
  const std::string bytes = encode_flow_file(FlowFileFormat::Npy, flow);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 2), }";
  REQUIRE(dict.size() == 62);
  // 10 bytes of magic, version and length, the dictionary, 55 spaces and '\n': the data at 128.
  const std::string header = std::string("\x93NUMPY\x01\x00", 8) + le16(118) + dict + std::string(55, ' ') + "\n";
  REQUIRE(header.size() == 128);
  REQUIRE(bytes.size() == 128 + 2 * 3 * 2 * 4);
  CHECK(bytes.substr(0, 128) == header);
  std::string data;
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x) data += float_le(flow.u(y, x)) + float_le(flow.v(y, x));
  CHECK(bytes.substr(128) == data);

  const FlowField back = decode(FlowFileFormat::Npy, bytes);
  CHECK(back.width == 3);
  CHECK(back.height == 2);
  CHECK(back.uv == flow.uv);

  // Longer shapes still put the data on a multiple of 64 bytes, with '\n' just before it.
  for (const auto& [w, h] : {std::pair<int64_t, int64_t>{1, 1}, {1242, 375}, {123456, 7}}) {
    FlowField big(w, h);
    const std::string encoded = encode_flow_file(FlowFileFormat::Npy, big);
    const size_t data_at = 10 + read_be(encoded, 8, 1) + 256 * read_be(encoded, 9, 1);
    CHECK(data_at % 64 == 0);
    CHECK(encoded[data_at - 1] == '\n');
    CHECK(encoded.size() == data_at + static_cast<size_t>(w * h * 8));
  }
}

TEST_CASE("flow formats: .npy files of another dtype, order or shape, or of the wrong size, are refused") {
  // A .npy file of format `major`.0 with header `dict`, padded as NumPy pads, then `data`.
  const auto npy = [](const std::string& dict, const std::string& data, int major = 1) {
    const size_t prefix = major == 1 ? 10 : 12;
    const size_t padded = (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix;
    const std::string text = dict + std::string(padded - dict.size() - 1, ' ') + "\n";
    const std::string length = major == 1 ? le16(static_cast<uint32_t>(text.size())) : le32(static_cast<uint32_t>(text.size()));
    return std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0' + length + text + data;
  };
  const std::string one_pixel = float_le(1.25f) + float_le(-3.5f);
  const FlowField reordered =
      decode(FlowFileFormat::Npy, npy("{\"shape\": (1, 1, 2), \"fortran_order\": False, \"descr\": '<f4'}", one_pixel, 2));
  CHECK(reordered.uv == std::vector<float>{1.25f, -3.5f});

  const std::string shape = "'shape': (1, 1, 2), }";
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f8', 'fortran_order': False, " + shape, one_pixel + one_pixel),
                      ErrorKind::Input, "a .npy array of dtype '<f8', flow .npy files are '<f4'");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'fortran_order': True, " + shape, one_pixel), ErrorKind::Input,
                      "in Fortran order");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", one_pixel),
                      ErrorKind::Input, "a .npy array of shape (1, 2), flow .npy files");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", one_pixel),
                      ErrorKind::Input, "of shape (2,)");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 3), }", one_pixel),
                      ErrorKind::Input, "of shape (1, 1, 3)");
  const std::string good = npy("{'descr': '<f4', 'fortran_order': False, " + shape, one_pixel);
  CHECK(decode(FlowFileFormat::Npy, good).uv == std::vector<float>{1.25f, -3.5f});
  expect_decode_error(FlowFileFormat::Npy, good.substr(0, good.size() - 1), ErrorKind::Input,
                      "a 1×1 .npy file must be 136 bytes, this one is 135 (truncated)");
  expect_decode_error(FlowFileFormat::Npy, good + std::string(1, '\0'), ErrorKind::Input, "(trailing bytes)");
  expect_decode_error(FlowFileFormat::Npy, good.substr(0, 40), ErrorKind::Input, "truncated .npy header");
  expect_decode_error(FlowFileFormat::Npy, "PIEH" + good.substr(4), ErrorKind::Input, "not a .npy file");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'fortran_order': False, " + shape, one_pixel, 4),
                      ErrorKind::Input, "unsupported .npy format version 4.0");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'shape': (1, 1, 2)}", one_pixel), ErrorKind::Input,
                      "malformed .npy header");
  expect_decode_error(FlowFileFormat::Npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (9, 9, 2), }", one_pixel),
                      ErrorKind::Limit, "9×9 = 81 pixels, more than the limit of 80", FloLimits{80});
}

TEST_CASE("flow formats: the format comes from the extension in any case, unknown ones are refused") {
  CHECK(flow_format_of("a/b.FLO") == FlowFileFormat::Flo);
  CHECK(flow_format_of("x.Png") == FlowFileFormat::KittiPng);
  CHECK(flow_format_of("/data/y.NPY") == FlowFileFormat::Npy);
  CHECK(flow_format_of("z.PfM") == FlowFileFormat::Pfm);
  CHECK(flow_output_format_of("w.PNG") == FlowFileFormat::KittiPng);
  test::expect_error([] { flow_format_of("flow.txt"); }, ErrorKind::Usage, "flow.txt", ".flo, .png (KITTI 16-bit), .npy or .pfm");
  CHECK(flow_format_of("dir.png/flow") == FlowFileFormat::Flo);  // no extension: .flo (a dot in a folder does not count)
  test::expect_error([] { flow_format_of("dir.flo/flow.txt"); }, ErrorKind::Usage, "dir.flo/flow.txt", "unknown flow file extension");
  test::expect_error([] { flow_output_format_of("out.pfm"); }, ErrorKind::Usage, "out.pfm", "read, not written");
}

TEST_CASE("flow formats: write_flow_file then read_flow_file for every written format, whole files only") {
  const std::string dir = test::temp_dir();
  FlowField flow = random_flow(5, 4, 9, 20.f);
  flow.uv[6] = kUnknownFlowValue;
  for (const std::string name : {"a.flo", "b.PNG", "c.npy"}) {
    write_flow_file(dir + "/" + name, flow);
    const FlowField back = read_flow_file(dir + "/" + name);
    REQUIRE(back.uv.size() == flow.uv.size());
    if (name == "b.PNG") {
      CHECK(!flow_is_known(back.uv[6], back.uv[7]));
      CHECK(std::fabs(back.uv[0] - flow.uv[0]) <= 1.f / 128);
    } else {
      CHECK(back.uv == flow.uv);
    }
  }
  test::expect_error([&] { write_flow_file(dir + "/d.pfm", flow); }, ErrorKind::Usage, dir + "/d.pfm", "read, not written");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"a.flo", "b.PNG", "c.npy"});  // no temporary left, no .pfm

  // The byte limit follows the pixel limit: one pixel allows 12 bytes plus 1 MiB of headers.
  test::write_text(dir + "/huge.flo", std::string((1 << 20) + 13, '\0'));
  test::expect_error([&] { read_flow_file(dir + "/huge.flo", FloLimits{1}); }, ErrorKind::Limit, dir + "/huge.flo",
                     "bytes exceed the limit of 1048588 bytes (raise it with --max-pixels)");
  test::expect_error([&] { read_flow_file(dir + "/missing.npy"); }, ErrorKind::Input, dir + "/missing.npy", "cannot open");
}
