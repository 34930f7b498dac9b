// A tiny 5x7 bitmap font for labelling plots without a font library: digits, A-Z (lowercase
// letters are drawn with the uppercase shapes), space and . , - + % ( ) : / _ ? = [ ].
// Characters it does not know are drawn as '?', so missing glyphs are visible rather than silent.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver::training {

inline constexpr int64_t kGlyphWidth = 5, kGlyphHeight = 7;
inline constexpr int64_t kGlyphAdvance = kGlyphWidth + 1;  // one blank column between characters

// Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale block.
// Pixels falling outside the image are skipped.
void draw_text(Image& image, int64_t x, int64_t y, const std::string& text, std::array<uint8_t, 3> colour,
               int scale = 1);

// Width in pixels of `text` drawn at `scale`: kGlyphAdvance per character, minus the trailing
// blank column (0 for empty text). The height is always kGlyphHeight * scale.
int64_t text_width(const std::string& text, int scale);

}  // namespace perceiver::training
