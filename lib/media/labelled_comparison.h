// The frames of perceiver-autoencode's compare.mp4: two pictures of one size side by side (2
// white pixels apart), each under its label on a black strip ("input" | "reconstruction"). A
// picture too narrow for its label (the tiny test models' 8×8 frames) is enlarged by a whole
// factor, each pixel repeated, until the longer label fits; the text grows with the picture
// (one font pixel per 112 picture pixels of width, and at most one per 56 of height).
#pragma once

#include <cstdint>
#include <string>

#include "media/image.h"

namespace perceiver {

class LabelledComparison {
 public:
  LabelledComparison(int64_t width, int64_t height, std::string left_label, std::string right_label);
  int64_t width() const;   // of the composed frames
  int64_t height() const;
  int64_t enlargement() const { return enlargement_; }  // pixels per picture pixel
  // Error(Internal) when `left` or `right` is not width × height.
  Image compose(const Image& left, const Image& right) const;

 private:
  int64_t width_, height_;  // of the pictures
  std::string left_label_, right_label_;
  int64_t enlargement_ = 1, text_scale_ = 1, strip_height_ = 0;
};

}  // namespace perceiver
