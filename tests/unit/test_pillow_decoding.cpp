// Image decoding against Pillow: every file of tests/data/pillow (made by
// fixtures/make_pillow_fixtures.py with Debian 12's Pillow 9.4) decodes to exactly the RGB bytes
// Pillow's Image.open → exif_transpose → convert("RGB") gave, and the processor's pixel_values of
// our decode equal those of Pillow's bytes; truncated and hostile variants are refused cleanly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "media/jpeg_decoder.h"
#include "support/test_support.h"

namespace perceiver {
namespace {

std::string pillow_dir() { return test::data_dir() + "/pillow"; }

struct Fixture {
  std::string file, what, pillow_mode;
  Image pillow;                             // Pillow's decoding
  std::vector<size_t> cuts_pillow_decodes;  // lengths k at which Pillow decodes the first k bytes
};

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = [] {
    std::vector<Fixture> out;
    const auto manifest = nlohmann::json::parse(test::read_text(pillow_dir() + "/manifest.json"));
    for (const auto& entry : manifest) {
      Fixture f;
      f.file = entry.at("file").get<std::string>();
      f.what = entry.at("what").get<std::string>();
      f.pillow_mode = entry.at("pillow_mode").get<std::string>();
      f.cuts_pillow_decodes = entry.at("cuts_pillow_decodes").get<std::vector<size_t>>();
      f.pillow.width = entry.at("width").get<int64_t>();
      f.pillow.height = entry.at("height").get<int64_t>();
      const std::string rgb = test::read_text(pillow_dir() + "/" + entry.at("rgb").get<std::string>());
      f.pillow.rgb.assign(rgb.begin(), rgb.end());
      REQUIRE(f.pillow.rgb.size() == static_cast<size_t>(f.pillow.width * f.pillow.height * 3));
      out.push_back(std::move(f));
    }
    return out;
  }();
  return all;
}

std::string extension(const std::string& file) { return file.substr(file.rfind('.') + 1); }

Image decode(const std::string& bytes, const std::string& name = "buffer") {
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
}

// Bytes that differ and the largest difference.
struct Difference {
  size_t bytes = 0;
  int largest = 0;
};
Difference difference(const Image& a, const Image& b) {
  Difference d;
  for (size_t i = 0; i < a.rgb.size() && i < b.rgb.size(); ++i) {
    const int diff = std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    d.bytes += diff != 0;
    d.largest = std::max(d.largest, diff);
  }
  return d;
}

}  // namespace

TEST_CASE("Pillow fixtures: every image decodes to Pillow's convert(\"RGB\") bytes, byte for byte") {
  REQUIRE(fixtures().size() >= 30);
  std::map<std::string, int> kinds;
  for (const Fixture& f : fixtures()) {
    CAPTURE(f.file);
    CAPTURE(f.what);
    ++kinds[extension(f.file)];
    const Image ours = load_image(pillow_dir() + "/" + f.file);
    REQUIRE(ours.width == f.pillow.width);
    REQUIRE(ours.height == f.pillow.height);
    const Difference d = difference(ours, f.pillow);
    INFO(d.bytes << " of " << ours.rgb.size() << " bytes differ, by up to " << d.largest);
    CHECK(d.bytes == 0);
    // The size from the header alone is the decoded one (EXIF orientation included).
    const std::string bytes = test::read_text(pillow_dir() + "/" + f.file);
    const ImageSize size = decode_image_size(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), f.file);
    CHECK(size.width == ours.width);
    CHECK(size.height == ours.height);
  }
  // Every kind the issue names is there.
  CHECK(kinds["jpg"] >= 10);
  CHECK(kinds["gif"] >= 6);
  CHECK(kinds["png"] >= 12);
}

TEST_CASE("Pillow fixtures: the modes Pillow opened them in (what the conversions are about)") {
  std::map<std::string, std::string> mode;
  for (const Fixture& f : fixtures()) mode[f.file] = f.pillow_mode;
  CHECK(mode["cmyk_adobe.jpg"] == "CMYK");
  CHECK(mode["grayscale.jpg"] == "L");
  CHECK(mode["gray16.png"] == "I");  // clipped to 255 by convert("RGB"), not shifted
  CHECK(mode["palette_oor.png"] == "P");
  CHECK(mode["transparent.gif"] == "P");
  // The fixtures mean something: the transparent GIF's transparent pixels are not black, the
  // 16-bit grey PNG has values clipped (255) and kept (under 255), the rotated JPEG is turned.
  const auto& all = fixtures();
  const auto find = [&](const std::string& name) -> const Image& {
    for (const Fixture& f : all)
      if (f.file == name) return f.pillow;
    FAIL("no fixture " << name);
    return all.front().pillow;
  };
  const Image& gray16 = find("gray16.png");
  CHECK(std::count(gray16.rgb.begin(), gray16.rgb.end(), 255) > 0);
  CHECK(std::count_if(gray16.rgb.begin(), gray16.rgb.end(), [](uint8_t v) { return v > 0 && v < 255; }) > 0);
  const Image& rotated = find("exif_rotated.jpg");
  CHECK(rotated.width == 21);
  CHECK(rotated.height == 29);
}

TEST_CASE("Pillow fixtures: pixel_values of our decoding equal the processor applied to Pillow's bytes") {
  ImageProcessorConfig config;
  config.size = 24;
  config.crop_size = 27;
  std::vector<Image> ours, pillow;
  for (const Fixture& f : fixtures()) {
    ours.push_back(load_image(pillow_dir() + "/" + f.file));
    pillow.push_back(f.pillow);
  }
  const Tensor a = preprocess_images(ours, config), b = preprocess_images(pillow, config);
  REQUIRE(a.shape() == b.shape());
  CHECK(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

TEST_CASE("Pillow's CMYK to RGB: nk − MULDIV255(255 − c, nk) with nk the decoded K") {
  const uint8_t cases[][7] = {
      // decoded C, M, Y, K → R, G, B
      {255, 255, 255, 255, 255, 255, 255}, {0, 0, 0, 255, 0, 0, 0},          {255, 0, 128, 255, 255, 0, 128},
      {255, 255, 255, 0, 0, 0, 0},         {200, 100, 50, 128, 100, 50, 25},
  };
  for (const auto& c : cases) {
    uint8_t rgb[3];
    jpeg_cmyk_to_rgb(c, rgb);
    CAPTURE(int(c[0]));
    CAPTURE(int(c[3]));
    CHECK(int(rgb[0]) == c[4]);
    CHECK(int(rgb[1]) == c[5]);
    CHECK(int(rgb[2]) == c[6]);
  }
}

TEST_CASE("Pillow fixtures: a file cut short is refused exactly where Pillow refuses it (JPEG, PNG, GIF)") {
  for (const Fixture& f : fixtures()) {
    const std::string bytes = test::read_text(pillow_dir() + "/" + f.file);
    CAPTURE(f.file);
    const std::set<size_t> pillow_decodes(f.cuts_pillow_decodes.begin(), f.cuts_pillow_decodes.end());
    const std::string kind = extension(f.file);
    const bool ours = kind == "jpg" || kind == "png" || kind == "gif";  // not stb's
    size_t accepted_where_pillow_refuses = 0;
    for (size_t keep = 0; keep < bytes.size(); ++keep) {
      CAPTURE(keep);
      bool decoded = false;
      try {
        const Image image = decode(bytes.substr(0, keep), f.file);
        decoded = true;
        // Where Pillow decodes a cut file too, both give the whole file's pixels.
        REQUIRE(image.rgb.size() == static_cast<size_t>(image.width * image.height * 3));
        if (pillow_decodes.count(keep)) CHECK(difference(image, f.pillow).bytes == 0);
      } catch (const Error& e) {
        CHECK((e.kind() == ErrorKind::Input || e.kind() == ErrorKind::Limit));
        CHECK(std::string(e.what()).rfind(f.file + ": ", 0) == 0);
      }
      if (ours) {
        CHECK(decoded == (pillow_decodes.count(keep) != 0));
      } else {
        // stb reads the missing pixels of a cut BMP, TGA or PNM as zeros (docs/images.md), but
        // never refuses a file Pillow decodes.
        if (!decoded) CHECK(pillow_decodes.count(keep) == 0);
        accepted_where_pillow_refuses += decoded && !pillow_decodes.count(keep);
      }
    }
    if (!ours) MESSAGE(f.file << ": stb decodes " << accepted_where_pillow_refuses << " cuts Pillow refuses");
  }
}

TEST_CASE("JPEG: truncated data is refused (as Pillow refuses it), corrupt data decodes without a word") {
  const std::string jpeg = test::read_text(pillow_dir() + "/baseline_420.jpg");
  SUBCASE("cut inside the scan") {
    test::expect_error([&] { decode(jpeg.substr(0, jpeg.size() - 200), "cut.jpg"); }, ErrorKind::Input, "cut.jpg",
                       "not a readable image (Premature end of JPEG file)");
  }
  SUBCASE("a scan with bytes changed still decodes (libjpeg warns; the warning is not printed)") {
    std::string corrupt = jpeg;
    for (size_t i = corrupt.size() - 300; i < corrupt.size() - 280; ++i) corrupt[i] = '\x55';
    CHECK(decode(corrupt).width == 29);
  }
  SUBCASE("two components (Pillow cannot handle them either)") {
    std::string two = jpeg;
    const size_t sof = two.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    two[sof + 9] = 2;
    test::expect_error([&] { decode(two, "two.jpg"); }, ErrorKind::Input, "two.jpg", "not a readable image (");
  }
  SUBCASE("a progressive JPEG of more scans than the limit") {
    const std::string progressive = test::read_text(pillow_dir() + "/progressive.jpg");
    // Its scans repeated until over the limit: the same refinement scans again are valid syntax.
    const size_t first_sos = progressive.find("\xFF\xDA");
    const size_t eoi = progressive.rfind("\xFF\xD9");
    REQUIRE(first_sos != std::string::npos);
    const std::string scans = progressive.substr(first_sos, eoi - first_sos);
    std::string many = progressive.substr(0, first_sos);
    while (many.size() < first_sos + scans.size() * 60) many += scans;  // ~10 scans each
    many += "\xFF\xD9";
    test::expect_error([&] { decode(many, "many.jpg"); }, ErrorKind::Input, "many.jpg",
                       "not a readable image (more than 500 scans)");
  }
}

TEST_CASE("GIF: refused as Pillow refuses them") {
  const std::string gif = test::read_text(pillow_dir() + "/transparent.gif");
  SUBCASE("no image before the trailer") {
    test::expect_error([&] { decode(gif.substr(0, 13 + 24) + ";", "empty.gif"); }, ErrorKind::Input, "empty.gif",
                       "no image in the GIF file");
  }
  SUBCASE("cut inside the pixel data") {
    test::expect_error([&] { decode(gif.substr(0, gif.size() - 30), "cut.gif"); }, ErrorKind::Input, "cut.gif",
                       "truncated GIF image data");
  }
  SUBCASE("a logical screen over the pixel limit") {
    std::string huge = gif;
    huge[6] = huge[7] = huge[8] = huge[9] = '\xFF';
    ImageLimits limits;
    limits.max_pixels = 1'000'000;
    test::expect_error(
        [&] { decode_image(reinterpret_cast<const uint8_t*>(huge.data()), huge.size(), "huge.gif", limits); },
        ErrorKind::Limit, "huge.gif", "image of 65535x65535 pixels exceeds the limit of 1000000");
  }
}

}  // namespace perceiver
