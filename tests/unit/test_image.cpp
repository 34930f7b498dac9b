// Images: decoding to RGB as transformers' load_image does (grayscale replicated, alpha dropped,
// EXIF orientation applied), size limits and corrupt files, PNG writing, Pillow's bicubic resize
// and the HF PerceiverImageProcessor against the golden files, and preprocessor_config.json.
#include <doctest/doctest.h>

// A private copy of stb_image / stb_image_write (internal linkage) to decode and encode test data
// independently of the library.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "checkpoint/safetensors.h"
#include "common/error.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "support/test_support.h"

namespace perceiver {
namespace {

std::string golden_image_dir() { return test::golden_dir() + "/image_processor"; }

const SafetensorsFile& golden_outputs() {
  static const SafetensorsFile file = read_safetensors(golden_image_dir() + "/outputs.safetensors", ErrorKind::Input);
  return file;
}

const Tensor& golden(const std::string& name) {
  const Tensor* tensor = golden_outputs().find(name);
  REQUIRE_MESSAGE(tensor != nullptr, "golden tensor " << name << " missing");
  return *tensor;
}

// Compares an image with a U8 [H, W, 3] tensor byte for byte; on a mismatch, says how many bytes
// differ and by how much at most.
void check_same_pixels(const Image& image, const Tensor& expected) {
  REQUIRE(expected.dtype() == DType::U8);
  REQUIRE(expected.shape() == Shape{image.height, image.width, 3});
  const uint8_t* want = expected.data<uint8_t>();
  size_t differing = 0;
  int worst = 0;
  for (size_t i = 0; i < image.rgb.size(); ++i) {
    const int diff = std::abs(int(image.rgb[i]) - int(want[i]));
    differing += diff != 0;
    worst = std::max(worst, diff);
  }
  INFO(differing << " of " << image.rgb.size() << " bytes differ, by up to " << worst);
  CHECK(differing == 0);
}

Image random_image(int64_t width, int64_t height, uint32_t seed) {
  std::mt19937 random(seed);
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  for (uint8_t& byte : image.rgb) byte = static_cast<uint8_t>(random() & 0xff);
  return image;
}

Image filled_image(int64_t width, int64_t height, std::array<uint8_t, 3> colour) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  for (size_t i = 0; i < image.rgb.size(); ++i) image.rgb[i] = colour[i % 3];
  return image;
}

std::array<uint8_t, 3> pixel(const Image& image, int64_t x, int64_t y) {
  const size_t at = static_cast<size_t>((y * image.width + x) * 3);
  return {image.rgb[at], image.rgb[at + 1], image.rgb[at + 2]};
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_dir() + "/" + name;
  test::write_text(path, bytes);
  return path;
}

Image decode(const std::string& bytes, const std::string& name = "buffer", const ImageLimits& limits = {}) {
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name, limits);
}

using test::expect_error;

// ---- building image files ------------------------------------------------------------------

void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::string encode_png(int width, int height, int channels, const std::vector<uint8_t>& pixels) {
  std::string out;
  REQUIRE(stbi_write_png_to_func(append_to_string, &out, width, height, channels, pixels.data(), width * channels));
  return out;
}

std::string be16(uint32_t v) { return {char((v >> 8) & 0xff), char(v & 0xff)}; }
std::string be32(uint32_t v) { return be16(v >> 16) + be16(v & 0xffff); }
std::string le16(uint32_t v) { return {char(v & 0xff), char((v >> 8) & 0xff)}; }
std::string le32(uint32_t v) { return le16(v & 0xffff) + le16(v >> 16); }

uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

const std::string kPngSignature = "\x89PNG\r\n\x1a\n";

// A baseline JPEG that codes only the DC coefficient of each 8x8 block (the block's mean colour,
// YCbCr, no chroma subsampling, all quantisers 1), so an image made of one-colour blocks comes
// back almost exactly. (stb's JPEG writer is not used: it shifts negative ints, which UBSan
// refuses.) Starts SOI, APP0 "JFIF" (18 bytes), like most encoders.
std::string encode_jpeg(const Image& image) {
  REQUIRE(image.width % 8 == 0);
  REQUIRE(image.height % 8 == 0);
  std::string out = "\xFF\xD8";
  out += "\xFF\xE0" + be16(16) + std::string("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
  out += "\xFF\xDB" + be16(67) + std::string(1, '\0') + std::string(64, '\x01');
  out += "\xFF\xC0" + be16(17) + "\x08" + be16(uint32_t(image.height)) + be16(uint32_t(image.width)) + "\x03";
  for (char id : {'\x01', '\x02', '\x03'}) out += std::string(1, id) + "\x11" + std::string(1, '\0');
  // DC table: categories 0..11 all with 4-bit codes (code = category); AC table: EOB only, code "0".
  std::string dc_counts(16, '\0'), ac_counts(16, '\0');
  dc_counts[3] = 12;
  ac_counts[0] = 1;
  std::string dc_values;
  for (char c = 0; c < 12; ++c) dc_values += c;
  out += "\xFF\xC4" + be16(2 + 17 + 12 + 17 + 1) + std::string(1, '\x00') + dc_counts + dc_values +
         std::string(1, '\x10') + ac_counts + std::string(1, '\0');
  out += "\xFF\xDA" + be16(12) + "\x03" + std::string("\x01\0\x02\0\x03\0\0\x3F\0", 9);

  uint32_t bits = 0;
  int bit_count = 0;
  const auto put = [&](uint32_t value, int length) {
    for (int i = length - 1; i >= 0; --i) {
      bits = (bits << 1) | ((value >> i) & 1u);
      if (++bit_count == 8) {
        out += char(bits);
        if (bits == 0xFF) out += '\0';  // byte stuffing
        bits = 0;
        bit_count = 0;
      }
    }
  };
  int previous[3] = {0, 0, 0};
  for (int64_t by = 0; by < image.height / 8; ++by) {
    for (int64_t bx = 0; bx < image.width / 8; ++bx) {
      double mean[3] = {0, 0, 0};
      for (int64_t y = 0; y < 8; ++y)
        for (int64_t x = 0; x < 8; ++x)
          for (int c = 0; c < 3; ++c) mean[c] += pixel(image, bx * 8 + x, by * 8 + y)[c] / 64.0;
      const double r = mean[0], g = mean[1], b = mean[2];
      const double ycc[3] = {0.299 * r + 0.587 * g + 0.114 * b, -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
                             0.5 * r - 0.418688 * g - 0.081312 * b + 128};
      for (int c = 0; c < 3; ++c) {
        const int dc = int(std::lround(8 * (ycc[c] - 128)));  // DC of a flat block: 8 × (level − 128)
        const int diff = dc - previous[c];
        previous[c] = dc;
        int category = 0;
        while ((std::abs(diff) >> category) != 0) ++category;
        put(uint32_t(category), 4);
        if (category > 0) put(uint32_t(diff > 0 ? diff : diff + (1 << category) - 1), category);
        put(0, 1);  // EOB
      }
    }
  }
  if (bit_count > 0) put(0x7F, 8 - bit_count);  // pad with 1 bits
  return out + "\xFF\xD9";
}

// A TIFF structure whose IFD0 holds an unrelated tag, then Orientation = `orientation` (SHORT).
std::string tiff_with_orientation(int orientation, bool little) {
  const auto u16 = little ? le16 : be16;
  const auto u32 = little ? le32 : be32;
  std::string tiff = little ? "II" : "MM";
  tiff += u16(42) + u32(8);
  tiff += u16(2);                                                  // two entries
  tiff += u16(0x0100) + u16(4) + u32(1) + u32(32);                 // ImageWidth LONG 32
  tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0);  // Orientation SHORT
  tiff += u32(0);                                                  // no next IFD
  return tiff;
}

std::string exif_app1(int orientation, bool little) {
  const std::string payload = std::string("Exif\0\0", 6) + tiff_with_orientation(orientation, little);
  return "\xFF\xE1" + be16(static_cast<uint32_t>(payload.size() + 2)) + payload;
}

// A 32x16 image: red top-left, green top-right, blue bottom-left, white bottom-right quadrants
// (16x8 each, aligned to JPEG blocks so the colours survive compression).
Image quadrants() {
  Image image = filled_image(32, 16, {0, 0, 0});
  for (int64_t y = 0; y < 16; ++y) {
    for (int64_t x = 0; x < 32; ++x) {
      const std::array<uint8_t, 3> colour = y < 8 ? (x < 16 ? std::array<uint8_t, 3>{255, 0, 0}
                                                            : std::array<uint8_t, 3>{0, 255, 0})
                                                  : (x < 16 ? std::array<uint8_t, 3>{0, 0, 255}
                                                            : std::array<uint8_t, 3>{255, 255, 255});
      std::memcpy(&image.rgb[static_cast<size_t>((y * 32 + x) * 3)], colour.data(), 3);
    }
  }
  return image;
}

const std::array<uint8_t, 3> kRed{255, 0, 0}, kGreen{0, 255, 0}, kBlue{0, 0, 255}, kWhite{255, 255, 255};

// The colours near the four corners (two pixels in), within the JPEG error.
void check_corners(const Image& image, std::array<uint8_t, 3> top_left, std::array<uint8_t, 3> top_right,
                   std::array<uint8_t, 3> bottom_left, std::array<uint8_t, 3> bottom_right) {
  const auto near = [](std::array<uint8_t, 3> have, std::array<uint8_t, 3> want) {
    for (int c = 0; c < 3; ++c)
      if (std::abs(int(have[c]) - int(want[c])) > 8) return false;
    return true;
  };
  const int64_t r = image.width - 3, b = image.height - 3;
  CHECK(near(pixel(image, 2, 2), top_left));
  CHECK(near(pixel(image, r, 2), top_right));
  CHECK(near(pixel(image, 2, b), bottom_left));
  CHECK(near(pixel(image, r, b), bottom_right));
}

// ---- an independent bicubic (double precision, no fixed point) -------------------------------

double keys_cubic(double x) {
  const double t = std::abs(x);
  if (t < 1) return 1.5 * t * t * t - 2.5 * t * t + 1;
  if (t < 2) return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2;
  return 0;
}

// One axis: out[j] = Σ_k w_jk in[k] with Pillow's antialiased weights, rounded and clamped.
std::vector<uint8_t> reference_axis(const std::vector<uint8_t>& in, int64_t out_n) {
  const int64_t in_n = static_cast<int64_t>(in.size());
  const double scale = double(in_n) / double(out_n), fs = std::max(1.0, scale);
  std::vector<uint8_t> out;
  for (int64_t j = 0; j < out_n; ++j) {
    double sum = 0, total = 0;
    for (int64_t k = 0; k < in_n; ++k) {
      const double w = keys_cubic((k + 0.5 - (j + 0.5) * scale) / fs);
      sum += w * in[static_cast<size_t>(k)];
      total += w;
    }
    out.push_back(static_cast<uint8_t>(std::clamp(std::floor(sum / total + 0.5), 0.0, 255.0)));
  }
  return out;
}

Image reference_resize(const Image& in, int64_t width, int64_t height) {
  Image mid = filled_image(width, in.height, {0, 0, 0});
  for (int64_t y = 0; y < in.height; ++y) {
    for (int c = 0; c < 3; ++c) {
      std::vector<uint8_t> line;
      for (int64_t x = 0; x < in.width; ++x) line.push_back(pixel(in, x, y)[c]);
      const std::vector<uint8_t> done = reference_axis(line, width);
      for (int64_t x = 0; x < width; ++x) mid.rgb[static_cast<size_t>((y * width + x) * 3 + c)] = done[x];
    }
  }
  Image out = filled_image(width, height, {0, 0, 0});
  for (int64_t x = 0; x < width; ++x) {
    for (int c = 0; c < 3; ++c) {
      std::vector<uint8_t> line;
      for (int64_t y = 0; y < in.height; ++y) line.push_back(pixel(mid, x, y)[c]);
      const std::vector<uint8_t> done = reference_axis(line, height);
      for (int64_t y = 0; y < height; ++y) out.rgb[static_cast<size_t>((y * width + x) * 3 + c)] = done[y];
    }
  }
  return out;
}

}  // namespace

// ---- golden -------------------------------------------------------------------------------------

TEST_CASE("image processor golden: load, center crop and Pillow bicubic resize match byte for byte") {
  const int64_t sizes[3][2] = {{300, 200}, {64, 64}, {500, 375}};
  for (int i = 0; i < 3; ++i) {
    const std::string index = std::to_string(i);
    INFO("img" << i);
    const Image image = load_image(golden_image_dir() + "/img" + index + ".png");
    CHECK(image.width == sizes[i][0]);
    CHECK(image.height == sizes[i][1]);
    const Image cropped = center_crop(image, 256, 224);
    check_same_pixels(cropped, golden("cropped." + index));
    const Image resized = resize_bicubic(cropped, 224, 224);
    check_same_pixels(resized, golden("resized." + index));
  }
}

TEST_CASE("image processor golden: preprocess_images of the three PNGs gives pixel_values") {
  std::vector<Image> images;
  for (int i = 0; i < 3; ++i) images.push_back(load_image(golden_image_dir() + "/img" + std::to_string(i) + ".png"));
  const ImageProcessorConfig config;
  const Tensor pixels = preprocess_images(images, config);
  const Tensor& expected = golden("pixel_values");
  REQUIRE(pixels.shape() == Shape{3, 3, 224, 224});
  const double diff = test::max_abs_diff(pixels, expected);
  INFO("max abs diff " << diff);
  CHECK(diff <= 1e-6);

  // write_pixel_values of one image is the matching slice.
  std::vector<float> one(3 * 224 * 224);
  write_pixel_values(resize_bicubic(center_crop(images[1], 256, 224), 224, 224), config, one.data());
  CHECK(std::memcmp(one.data(), pixels.data<float>() + one.size(), one.size() * sizeof(float)) == 0);
}

// ---- decoding -----------------------------------------------------------------------------------

TEST_CASE("image decoding: grayscale is replicated to R, G, B and RGBA alpha is dropped, not blended") {
  SUBCASE("golden img1.png (RGBA) against stb's own RGBA decode") {
    const std::string bytes = test::read_text(golden_image_dir() + "/img1.png");
    int width = 0, height = 0, channels = 0;
    stbi_uc* raw = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &width,
                                         &height, &channels, 4);
    REQUIRE(raw != nullptr);
    CHECK(channels == 4);
    const Image image = decode(bytes);
    REQUIRE(image.width == width);
    REQUIRE(image.height == height);
    bool translucent = false, same = true;
    for (int i = 0; i < width * height; ++i) {
      translucent = translucent || raw[i * 4 + 3] != 255;
      for (int c = 0; c < 3; ++c) same = same && image.rgb[size_t(i * 3 + c)] == raw[i * 4 + c];
    }
    stbi_image_free(raw);
    CHECK(translucent);  // the test means something: blending would have changed pixels
    CHECK(same);
  }
  SUBCASE("golden img2.png (grayscale)") {
    const std::string bytes = test::read_text(golden_image_dir() + "/img2.png");
    int width = 0, height = 0, channels = 0;
    stbi_uc* raw = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &width,
                                         &height, &channels, 1);
    REQUIRE(raw != nullptr);
    CHECK(channels == 1);
    const Image image = decode(bytes);
    REQUIRE(image.width * image.height == int64_t(width) * height);
    bool same = true;
    for (int i = 0; i < width * height; ++i)
      for (int c = 0; c < 3; ++c) same = same && image.rgb[size_t(i * 3 + c)] == raw[i];
    stbi_image_free(raw);
    CHECK(same);
  }
  SUBCASE("synthetic gray+alpha and RGBA PNGs") {
    std::mt19937 random(5);
    std::vector<uint8_t> gray_alpha(7 * 5 * 2), rgba(7 * 5 * 4);
    for (uint8_t& byte : gray_alpha) byte = uint8_t(random());
    for (uint8_t& byte : rgba) byte = uint8_t(random());
    const Image from_gray_alpha = decode(encode_png(7, 5, 2, gray_alpha));
    const Image from_rgba = decode(encode_png(7, 5, 4, rgba));
    REQUIRE(from_gray_alpha.rgb.size() == 7 * 5 * 3);
    REQUIRE(from_rgba.rgb.size() == 7 * 5 * 3);
    for (size_t i = 0; i < 35; ++i) {
      for (size_t c = 0; c < 3; ++c) {
        CHECK(from_gray_alpha.rgb[i * 3 + c] == gray_alpha[i * 2]);
        CHECK(from_rgba.rgb[i * 3 + c] == rgba[i * 4 + c]);
      }
    }
  }
}

TEST_CASE("image write_png: written whole, read back identical") {
  const std::string dir = test::temp_dir();
  const Image image = random_image(37, 23, 11);
  const std::string path = dir + "/out.png";
  write_png(path, image);
  const Image back = load_image(path);
  CHECK(back.width == 37);
  CHECK(back.height == 23);
  CHECK(back.rgb == image.rgb);
  // Only the finished file is left in the folder.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files += entry.is_regular_file();
  CHECK(files == 1);
  // Overwriting replaces it.
  write_png(path, filled_image(3, 2, {1, 2, 3}));
  CHECK(load_image(path).rgb == filled_image(3, 2, {1, 2, 3}).rgb);

  const std::string nowhere = dir + "/no/such/folder/out.png";
  expect_error([&] { write_png(nowhere, image); }, ErrorKind::Output, nowhere, "");
  CHECK_THROWS_AS(write_png(dir + "/bad.png", Image{}), Error);
}

// ---- EXIF orientation ----------------------------------------------------------------------------

TEST_CASE("image EXIF orientation: the seven transforms on a tiny image") {
  // a b c
  // d e f
  Image image;
  image.width = 3;
  image.height = 2;
  for (uint8_t v : {'a', 'b', 'c', 'd', 'e', 'f'}) image.rgb.insert(image.rgb.end(), {v, v, v});
  const auto text = [](const Image& im) {
    std::string out;
    for (int64_t y = 0; y < im.height; ++y) {
      if (y) out += '/';
      for (int64_t x = 0; x < im.width; ++x) out += char(im.rgb[size_t((y * im.width + x) * 3)]);
    }
    return out;
  };
  CHECK(text(apply_exif_orientation(image, 1)) == "abc/def");
  CHECK(text(apply_exif_orientation(image, 2)) == "cba/fed");    // mirror left-right
  CHECK(text(apply_exif_orientation(image, 3)) == "fed/cba");    // rotate 180
  CHECK(text(apply_exif_orientation(image, 4)) == "def/abc");    // mirror top-bottom
  CHECK(text(apply_exif_orientation(image, 5)) == "ad/be/cf");   // transpose
  CHECK(text(apply_exif_orientation(image, 6)) == "da/eb/fc");   // rotate 90° clockwise
  CHECK(text(apply_exif_orientation(image, 7)) == "fc/eb/da");   // transverse
  CHECK(text(apply_exif_orientation(image, 8)) == "cf/be/ad");   // rotate 90° counter-clockwise
  CHECK(text(apply_exif_orientation(image, 9)) == "abc/def");
  CHECK(apply_exif_orientation(image, 6).width == 2);
}

TEST_CASE("image EXIF orientation: JPEG APP1 Exif segments are applied") {
  const std::string jpeg = encode_jpeg(quadrants());
  REQUIRE(jpeg.size() > 20);
  const Image plain = decode(jpeg);
  CHECK(plain.width == 32);
  CHECK(plain.height == 16);
  check_corners(plain, kRed, kGreen, kBlue, kWhite);

  for (const bool little : {true, false}) {
    for (const size_t at : {size_t{2}, size_t{20}}) {  // right after SOI, or after stb's JFIF APP0
      INFO((little ? "little" : "big") << " endian, segment at " << at);
      const auto with = [&](int orientation) { return jpeg.substr(0, at) + exif_app1(orientation, little) + jpeg.substr(at); };
      CHECK(image_exif_orientation(reinterpret_cast<const uint8_t*>(with(6).data()), with(6).size()) == 6);

      const Image six = decode(with(6));  // rotate 90° clockwise
      CHECK(six.width == 16);
      CHECK(six.height == 32);
      check_corners(six, kBlue, kRed, kWhite, kGreen);

      const Image three = decode(with(3));  // rotate 180°
      CHECK(three.width == 32);
      CHECK(three.height == 16);
      check_corners(three, kWhite, kBlue, kGreen, kRed);

      const Image eight = decode(with(8));  // rotate 90° counter-clockwise
      CHECK(eight.width == 16);
      CHECK(eight.height == 32);
      check_corners(eight, kGreen, kWhite, kRed, kBlue);

      CHECK(decode(with(1)).width == 32);
    }
  }
}

TEST_CASE("image EXIF orientation: malformed Exif data is ignored, PNG eXIf chunks are applied") {
  const std::string jpeg = encode_jpeg(quadrants());
  const auto orientation_of = [](const std::string& bytes) {
    return image_exif_orientation(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  };
  const std::string good = exif_app1(6, true);
  // The IFD offset pointing past the end of the segment.
  std::string far = good;
  far[4 + 6 + 4] = '\x7f';
  CHECK(orientation_of(jpeg.substr(0, 2) + far + jpeg.substr(2)) == 1);
  // The segment length running past the end of the file.
  CHECK(orientation_of(jpeg.substr(0, 2) + good.substr(0, good.size() - 6)) == 1);
  // An unknown byte order mark.
  std::string order = good;
  order[4 + 6] = 'X';
  CHECK(orientation_of(jpeg.substr(0, 2) + order + jpeg.substr(2)) == 1);
  // 9 is not an orientation.
  CHECK(orientation_of(jpeg.substr(0, 2) + exif_app1(9, false) + jpeg.substr(2)) == 1);
  CHECK(decode(jpeg.substr(0, 2) + far + jpeg.substr(2)).width == 32);
  // Tiny buffers.
  for (size_t n = 0; n < 40; ++n) orientation_of((jpeg.substr(0, 2) + good).substr(0, n));

  // PNG: eXIf right after IHDR (8-byte signature + 25-byte IHDR chunk).
  Image small = random_image(5, 3, 2);
  const std::string png = encode_png(5, 3, 3, small.rgb);
  const std::string rotated = png.substr(0, 33) + png_chunk("eXIf", tiff_with_orientation(8, false)) + png.substr(33);
  CHECK(orientation_of(rotated) == 8);
  const Image upright = decode(rotated);
  CHECK(upright.width == 3);
  CHECK(upright.height == 5);
  CHECK(upright.rgb == apply_exif_orientation(small, 8).rgb);
}

// ---- corrupt and refused inputs -----------------------------------------------------------------

TEST_CASE("image decoding: corrupt, missing and oversized files are refused") {
  SUBCASE("empty file") {
    const std::string path = write_file("empty.png", "");
    expect_error([&] { load_image(path); }, ErrorKind::Input, path, "not a readable image");
  }
  SUBCASE("random bytes") {
    std::mt19937 random(3);
    std::string bytes(1000, '\0');
    for (char& byte : bytes) byte = char(random());
    const std::string path = write_file("random.jpg", bytes);
    expect_error([&] { load_image(path); }, ErrorKind::Input, path, "not a readable image (");
  }
  SUBCASE("truncated PNG") {
    const std::string bytes = test::read_text(golden_image_dir() + "/img0.png");
    // (A file cut after its last row's data, in the zlib stream's last bytes, its CRC or IEND,
    // still decodes, as with Pillow: test_pillow_decoding.cpp.)
    for (const size_t keep : {size_t{8}, size_t{30}, bytes.size() / 2, bytes.size() - 100}) {
      INFO("first " << keep << " bytes");
      const std::string path = write_file("truncated.png", bytes.substr(0, keep));
      expect_error([&] { load_image(path); }, ErrorKind::Input, path, "not a readable image (");
    }
  }
  SUBCASE("a PNG header announcing 100000x100000 pixels") {
    std::string ihdr = be32(100000) + be32(100000) + std::string("\x08\x02\x00\x00\x00", 5);
    const std::string bytes = kPngSignature + png_chunk("IHDR", ihdr) + png_chunk("IDAT", "") + png_chunk("IEND", "");
    expect_error([&] { decode(bytes, "huge.png"); }, ErrorKind::Limit, "huge.png",
                 "image of 100000x100000 pixels exceeds the limit of 100000000 (raise it with --max-pixels)");
    // Within a raised limit the header passes that check, and the file is refused as too short
    // to hold such pixels, before they are allocated.
    ImageLimits raised;
    raised.max_pixels = 20'000'000'000;
    expect_error([&] { decode(bytes, "huge.png", raised); }, ErrorKind::Input, "huge.png",
                 "not a readable image (truncated PNG file: 57 bytes cannot hold 100000x100000 pixels)");
  }
  SUBCASE("a PNG header with the largest 32-bit sizes") {
    std::string ihdr = be32(0xFFFFFFFFu) + be32(0xFFFFFFFFu) + std::string("\x08\x02\x00\x00\x00", 5);
    const std::string bytes = kPngSignature + png_chunk("IHDR", ihdr) + png_chunk("IEND", "");
    expect_error([&] { decode(bytes, "max.png"); }, ErrorKind::Limit, "max.png", "image of 4294967295x4294967295 pixels");
  }
  SUBCASE("a grayscale PNG header of 20000x10000 (which stb's header check accepts)") {
    std::string ihdr = be32(20000) + be32(10000) + std::string("\x08\x00\x00\x00\x00", 5);
    const std::string bytes = kPngSignature + png_chunk("IHDR", ihdr) + png_chunk("IDAT", "") + png_chunk("IEND", "");
    int width = 0, height = 0, channels = 0;
    CHECK(stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &width, &height,
                                &channels) == 1);
    expect_error([&] { decode(bytes, "gray.png"); }, ErrorKind::Limit, "gray.png",
                 "image of 20000x10000 pixels exceeds the limit of 100000000");
  }
  SUBCASE("a JPEG frame header announcing 60000x50000 pixels") {
    std::string sof = "\xFF\xC0" + be16(17) + "\x08" + be16(50000) + be16(60000) + "\x03";
    for (char id : {'\x01', '\x02', '\x03'}) sof += std::string(1, id) + "\x11" + std::string(1, '\0');
    const std::string bytes = "\xFF\xD8" + sof + "\xFF\xD9";
    expect_error([&] { decode(bytes, "huge.jpg"); }, ErrorKind::Limit, "huge.jpg",
                 "image of 60000x50000 pixels exceeds the limit of 100000000");
  }
  SUBCASE("a lowered limit") {
    const std::string path = golden_image_dir() + "/img0.png";
    ImageLimits limits;
    limits.max_pixels = 59'999;
    expect_error([&] { load_image(path, limits); }, ErrorKind::Limit, path, "300x200 pixels exceeds the limit of 59999");
    limits.max_pixels = 60'000;
    CHECK(load_image(path, limits).width == 300);
  }
  SUBCASE("missing file and folder") {
    const std::string path = test::temp_dir() + "/no-such-image.png";
    expect_error([&] { load_image(path); }, ErrorKind::Input, path, "cannot open the file");
    const std::string folder = test::temp_dir();
    expect_error([&] { load_image(folder); }, ErrorKind::Input, folder, "is a directory, not a file");
  }
  SUBCASE("a file that begins no image format is refused after its first bytes") {
    expect_error([&] { load_image("/dev/zero"); }, ErrorKind::Input, "/dev/zero", "not a readable image (unknown image format)");
    const std::string text = test::temp_dir() + "/notes.png";
    test::write_text(text, "these are notes, not a picture\n");
    expect_error([&] { load_image(text); }, ErrorKind::Input, text, "unknown image format");
  }
}

// ---- resizing and cropping ----------------------------------------------------------------------

TEST_CASE("image resize_bicubic: edge cases") {
  SUBCASE("upsampling 2x3 to 5x7 agrees with a double-precision bicubic within one level") {
    const Image small = random_image(2, 3, 7);
    const Image big = resize_bicubic(small, 5, 7);
    REQUIRE(big.width == 5);
    REQUIRE(big.height == 7);
    REQUIRE(big.rgb.size() == 5 * 7 * 3);
    const Image reference = reference_resize(small, 5, 7);
    for (size_t i = 0; i < big.rgb.size(); ++i) CHECK(std::abs(int(big.rgb[i]) - int(reference.rgb[i])) <= 1);
  }
  SUBCASE("downsampling agrees with a double-precision bicubic within one level") {
    const Image image = random_image(41, 29, 8);
    for (const auto& size : {std::array<int64_t, 2>{13, 7}, std::array<int64_t, 2>{40, 28}, std::array<int64_t, 2>{5, 60}}) {
      const Image resized = resize_bicubic(image, size[0], size[1]);
      const Image reference = reference_resize(image, size[0], size[1]);
      REQUIRE(resized.rgb.size() == reference.rgb.size());
      int worst = 0;
      for (size_t i = 0; i < resized.rgb.size(); ++i)
        worst = std::max(worst, std::abs(int(resized.rgb[i]) - int(reference.rgb[i])));
      CHECK(worst <= 1);
    }
  }
  SUBCASE("a constant image stays constant") {
    const Image grey = filled_image(13, 9, {77, 0, 255});
    for (const auto& size : {std::array<int64_t, 2>{5, 7}, std::array<int64_t, 2>{224, 224},
                             std::array<int64_t, 2>{1, 1}, std::array<int64_t, 2>{40, 3}}) {
      CHECK(resize_bicubic(grey, size[0], size[1]).rgb == filled_image(size[0], size[1], {77, 0, 255}).rgb);
    }
  }
  SUBCASE("same size is a copy; one changed dimension runs one pass") {
    const Image image = random_image(6, 4, 9);
    CHECK(resize_bicubic(image, 6, 4).rgb == image.rgb);
    // Rows of one value each: a horizontal-only resize keeps every row constant at its value.
    Image rows = filled_image(6, 4, {0, 0, 0});
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 6; ++x)
        for (int c = 0; c < 3; ++c) rows.rgb[size_t((y * 6 + x) * 3 + c)] = uint8_t(40 * y + c);
    const Image wide = resize_bicubic(rows, 11, 4);
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 11; ++x) CHECK(pixel(wide, x, y) == std::array<uint8_t, 3>{uint8_t(40 * y), uint8_t(40 * y + 1), uint8_t(40 * y + 2)});
    CHECK(resize_bicubic(image, 6, 9).width == 6);
  }
  SUBCASE("an empty image is refused") {
    CHECK_THROWS_AS(resize_bicubic(Image{}, 4, 4), Error);
  }
}

TEST_CASE("image center_crop: HF's side, offsets and zero padding") {
  const Image image = random_image(300, 200, 4);
  const Image cropped = center_crop(image, 256, 224);
  CHECK(cropped.width == 175);
  CHECK(cropped.height == 175);
  CHECK(pixel(cropped, 0, 0) == pixel(image, 62, 12));
  CHECK(pixel(cropped, 174, 174) == pixel(image, 62 + 174, 12 + 174));
  // A tall image: top = (H - side) div 2.
  const Image tall = random_image(9, 20, 5);
  const Image tall_crop = center_crop(tall, 8, 7);  // side = int(0.875 * 9) = 7
  CHECK(tall_crop.width == 7);
  CHECK(pixel(tall_crop, 0, 0) == pixel(tall, 1, 6));
  // size > crop_size: the window is larger than the image and the outside is zero.
  const Image small = random_image(4, 2, 6);
  const Image padded = center_crop(small, 1, 3);  // side 6, top -2, left -1
  REQUIRE(padded.width == 6);
  CHECK(pixel(padded, 0, 0) == std::array<uint8_t, 3>{0, 0, 0});
  CHECK(pixel(padded, 1, 2) == pixel(small, 0, 0));
  CHECK(pixel(padded, 4, 3) == pixel(small, 3, 1));
  CHECK(pixel(padded, 5, 3) == std::array<uint8_t, 3>{0, 0, 0});
  CHECK(pixel(padded, 1, 4) == std::array<uint8_t, 3>{0, 0, 0});
}

// ---- preprocess_images --------------------------------------------------------------------------

TEST_CASE("image preprocess_images: options, sizes and refused batches") {
  ImageProcessorConfig config;
  SUBCASE("without crop and resize the images must share one size") {
    config.do_center_crop = false;
    config.do_resize = false;
    const std::vector<Image> same = {random_image(5, 4, 1), random_image(5, 4, 2)};
    const Tensor pixels = preprocess_images(same, config);
    CHECK(pixels.shape() == Shape{2, 3, 4, 5});
    // Pixel (x 3, y 2), green channel, of the second image.
    const uint8_t u = pixel(same[1], 3, 2)[1];
    const float expected = (static_cast<float>(u * (1.0 / 255)) - 0.456f) / 0.224f;
    CHECK(pixels.data<float>()[((1 * 3 + 1) * 4 + 2) * 5 + 3] == expected);
    CHECK_THROWS_AS(preprocess_images({random_image(5, 4, 1), random_image(4, 5, 2)}, config), Error);
  }
  SUBCASE("without rescale and normalisation the values are the bytes") {
    config.do_rescale = false;
    config.do_normalize = false;
    config.do_center_crop = false;
    const Image image = random_image(30, 20, 3);
    const Tensor pixels = preprocess_images({image}, config);
    const Image resized = resize_bicubic(image, 224, 224);
    CHECK(pixels.data<float>()[2 * 224 * 224 + 10 * 224 + 7] == float(pixel(resized, 7, 10)[2]));
  }
  SUBCASE("different sizes are fine with crop and resize") {
    const Tensor pixels = preprocess_images({random_image(30, 20, 1), random_image(20, 70, 2)}, config);
    CHECK(pixels.shape() == Shape{2, 3, 224, 224});
  }
  SUBCASE("refused") {
    CHECK_THROWS_AS(preprocess_images({}, config), Error);
    try {
      preprocess_images({random_image(1, 1, 1)}, config);  // side int(0.875) = 0
      FAIL("a 1x1 image was accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Input);
    }
  }
}

// ---- preprocessor_config.json -------------------------------------------------------------------

TEST_CASE("image processor config: defaults, legacy and new forms, refused values") {
  const ImageProcessorConfig defaults;
  const auto folder_with = [](const std::string& json) {
    const std::string dir = test::temp_dir();
    test::write_text(dir + "/preprocessor_config.json", json);
    return dir;
  };
  SUBCASE("no file: the released checkpoints' settings") {
    const ImageProcessorConfig config = load_image_processor_config(test::temp_dir());
    CHECK(config.do_center_crop);
    CHECK(config.crop_size == 256);
    CHECK(config.do_resize);
    CHECK(config.size == 224);
    CHECK(config.do_rescale);
    CHECK(config.rescale_factor == 1.0 / 255);
    CHECK(config.do_normalize);
    CHECK(config.image_mean == std::array<float, 3>{0.485f, 0.456f, 0.406f});
    CHECK(config.image_std == std::array<float, 3>{0.229f, 0.224f, 0.225f});
    CHECK(config.resample == 3);
  }
  SUBCASE("legacy feature-extractor form (the hub repos' file)") {
    const ImageProcessorConfig config = load_image_processor_config(folder_with(
        R"({"crop_size": 256, "do_center_crop": true, "do_normalize": true, "do_resize": true,
            "feature_extractor_type": "PerceiverFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
            "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 224})"));
    CHECK(config.crop_size == 256);
    CHECK(config.size == 224);
    CHECK(config.image_mean == defaults.image_mean);
    CHECK(config.image_std == defaults.image_std);
    CHECK(config.rescale_factor == defaults.rescale_factor);
  }
  SUBCASE("newer image-processor form") {
    const ImageProcessorConfig config = load_image_processor_config(folder_with(
        R"({"crop_size": {"height": 320, "width": 320}, "size": {"height": 288, "width": 288},
            "do_center_crop": false, "do_rescale": false, "rescale_factor": 0.5, "do_normalize": true,
            "image_mean": [0.5, 0.25, 0.125], "image_std": 0.5, "resample": 3,
            "image_processor_type": "PerceiverImageProcessor"})"));
    CHECK(config.crop_size == 320);
    CHECK(config.size == 288);
    CHECK_FALSE(config.do_center_crop);
    CHECK_FALSE(config.do_rescale);
    CHECK(config.rescale_factor == 0.5);
    CHECK(config.image_mean == std::array<float, 3>{0.5f, 0.25f, 0.125f});
    CHECK(config.image_std == std::array<float, 3>{0.5f, 0.5f, 0.5f});
  }
  SUBCASE("refused") {
    const auto refused = [&](const std::string& json, const std::string& fragment) {
      INFO(json);
      const std::string dir = folder_with(json);
      expect_error([&] { load_image_processor_config(dir); }, ErrorKind::ConfigInvalid,
                   dir + "/preprocessor_config.json", fragment);
    };
    refused(R"({"size": {"height": 224, "width": 256}})", "not square");
    refused(R"({"crop_size": 1, "size": 224})", "size 224 is more than 4 times crop_size 1");
    refused(R"({"crop_size": {"height": 256}})", "crop_size");
    refused(R"({"resample": 2})", "resample 2");
    refused(R"({"resample": "bicubic"})", "resample");
    refused(R"({"size": 224,)", "not valid JSON");
    refused(R"([224])", "not a JSON object");
    refused(R"({"do_resize": "yes"})", "do_resize");
    refused(R"({"size": 0})", "size");
    refused(R"({"size": 22.5})", "size");
    refused(R"({"image_std": [0.2, 0, 0.2]})", "image_std");
    refused(R"({"image_mean": [0.5, 0.5]})", "image_mean");
    refused(R"({"rescale_factor": -1})", "rescale_factor");
  }
}

}  // namespace perceiver
