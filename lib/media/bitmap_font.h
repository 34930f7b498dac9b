// A 5×7 pixel bitmap font for the labels the tools draw into their pictures and videos
// (compare.mp4's "input" | "reconstruction"): lower-case letters (capitals are drawn as them),
// digits, space and . , : - / ( ) | %; any other byte is drawn as a hollow box. Each glyph
// advances 6 pixels (one column of space) at scale 1; `scale` multiplies every pixel.
#pragma once

#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver {

constexpr int64_t kGlyphWidth = 5, kGlyphHeight = 7, kGlyphAdvance = 6;

// Width in pixels of `text` drawn at `scale` (no trailing space).
int64_t text_width(const std::string& text, int64_t scale);

// Draws `text` with its top-left corner at (x, y) in colour (r, g, b); pixels outside the image
// are left out.
void draw_text(Image& image, int64_t x, int64_t y, const std::string& text, int64_t scale, uint8_t r = 255,
               uint8_t g = 255, uint8_t b = 255);

}  // namespace perceiver
