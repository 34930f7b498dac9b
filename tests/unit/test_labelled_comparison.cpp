// media/bitmap_font.h and media/labelled_comparison.h: compare.mp4's frames hold both pictures
// unchanged (enlarged by whole pixels when too narrow for their labels) under a black strip whose
// white pixels are the labels' glyphs, centred over each picture.
#include <doctest/doctest.h>

#include "media/bitmap_font.h"
#include "media/labelled_comparison.h"

using namespace perceiver;

namespace {

Image gradient(int64_t width, int64_t height, uint8_t seed) {
  Image image{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  for (size_t i = 0; i < image.rgb.size(); ++i) image.rgb[i] = static_cast<uint8_t>(seed + 7 * i);
  return image;
}

const uint8_t* pixel(const Image& image, int64_t x, int64_t y) { return image.rgb.data() + (y * image.width + x) * 3; }

// White pixels in columns [x0, x1) of rows [0, rows).
int64_t white_pixels(const Image& image, int64_t x0, int64_t x1, int64_t rows) {
  int64_t count = 0;
  for (int64_t y = 0; y < rows; ++y)
    for (int64_t x = x0; x < x1; ++x) count += pixel(image, x, y)[0] == 255;
  return count;
}

}  // namespace

TEST_CASE("bitmap font: widths, and the glyph pixels drawn") {
  CHECK(text_width("", 1) == 0);
  CHECK(text_width("a", 1) == 5);
  CHECK(text_width("input", 1) == 29);
  CHECK(text_width("input", 3) == 87);
  Image canvas{12, 7, std::vector<uint8_t>(12 * 7 * 3, 0)};
  draw_text(canvas, 0, 0, "l1", 1);
  // 'l' has 10 pixels drawn, '1' 10: 20 white, none in the space column 5.
  CHECK(white_pixels(canvas, 0, 12, 7) == 20);
  CHECK(white_pixels(canvas, 5, 6, 7) == 0);
  // Capitals are drawn as lower case; clipped at the edge without harm.
  Image a{5, 7, std::vector<uint8_t>(5 * 7 * 3, 0)}, b = a;
  draw_text(a, 0, 0, "A", 1);
  draw_text(b, 0, 0, "a", 1);
  CHECK(a.rgb == b.rgb);
  draw_text(a, 3, 4, "mmm", 2);
}

TEST_CASE("LabelledComparison: both pictures unchanged under their labels") {
  SUBCASE("a picture wide enough: no enlargement, text scale 2 at 224 px") {
    const LabelledComparison layout(224, 160, "input", "reconstruction");
    CHECK(layout.enlargement() == 1);
    CHECK(layout.width() == 2 * 224 + 2);
    CHECK(layout.height() == 160 + (7 + 4) * 2);
    const Image left = gradient(224, 160, 1), right = gradient(224, 160, 99);
    const Image frame = layout.compose(left, right);
    REQUIRE(frame.width == layout.width());
    REQUIRE(frame.height == layout.height());
    const int64_t strip = layout.height() - 160;
    for (int64_t y = 0; y < 160; y += 13)
      for (int64_t x = 0; x < 224; x += 17) {
        CHECK(std::equal(pixel(left, x, y), pixel(left, x, y) + 3, pixel(frame, x, strip + y)));
        CHECK(std::equal(pixel(right, x, y), pixel(right, x, y) + 3, pixel(frame, 226 + x, strip + y)));
      }
    // The labels: every glyph pixel of "input" (scale 2: 4 screen pixels each) over the left
    // picture, of "reconstruction" over the right one.
    Image left_label{224, strip, std::vector<uint8_t>(static_cast<size_t>(224 * strip * 3), 0)};
    draw_text(left_label, (224 - text_width("input", 2)) / 2, 4, "input", 2);
    CHECK(white_pixels(frame, 0, 224, strip) == white_pixels(left_label, 0, 224, strip));
    CHECK(white_pixels(frame, 0, 224, strip) > 0);
    CHECK(white_pixels(frame, 226, 450, strip) > white_pixels(frame, 0, 224, strip));
  }
  SUBCASE("8×8 pictures are enlarged until 'reconstruction' fits") {
    const LabelledComparison layout(8, 8, "input", "reconstruction");
    CHECK(layout.enlargement() == 11);  // 83 + 4 pixels of label over 8-pixel pictures
    const Image left = gradient(8, 8, 3), right = gradient(8, 8, 40);
    const Image frame = layout.compose(left, right);
    const int64_t strip = layout.height() - 88;
    CHECK(strip == 11);
    for (int64_t y = 0; y < 88; ++y)
      for (int64_t x = 0; x < 88; ++x)
        REQUIRE(std::equal(pixel(left, x / 11, y / 11), pixel(left, x / 11, y / 11) + 3, pixel(frame, x, strip + y)));
    CHECK(pixel(frame, 88, strip)[0] == 255);  // the white gap
    CHECK_THROWS(layout.compose(left, gradient(8, 7, 0)));
  }
}
