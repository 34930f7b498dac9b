#include "media/labelled_comparison.h"

#include <algorithm>

#include "common/error.h"
#include "media/bitmap_font.h"
#include "media/video_frames.h"

namespace perceiver {

namespace {

constexpr int64_t kGap = 2;      // white pixels between the pictures (as side_by_side)
constexpr int64_t kMargin = 2;   // font pixels around the text in the strip

Image enlarge(const Image& image, int64_t factor) {
  if (factor == 1) return image;
  Image out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.rgb.resize(static_cast<size_t>(out.width * out.height * 3));
  for (int64_t y = 0; y < out.height; ++y)
    for (int64_t x = 0; x < out.width; ++x)
      std::copy_n(image.rgb.begin() + ((y / factor) * image.width + x / factor) * 3, 3,
                  out.rgb.begin() + (y * out.width + x) * 3);
  return out;
}

}  // namespace

LabelledComparison::LabelledComparison(int64_t width, int64_t height, std::string left_label, std::string right_label)
    : width_(width), height_(height), left_label_(std::move(left_label)), right_label_(std::move(right_label)) {
  if (width < 1 || height < 1) fail(ErrorKind::Internal, "LabelledComparison: empty pictures");
  const int64_t label = std::max(text_width(left_label_, 1), text_width(right_label_, 1)) + 2 * kMargin;
  enlargement_ = std::max<int64_t>(1, (label + width - 1) / width);
  const int64_t panel_width = width * enlargement_, panel_height = height * enlargement_;
  text_scale_ = std::max<int64_t>(1, std::min(panel_width / 112, panel_height / 56));
  while (text_scale_ > 1 && label * text_scale_ > panel_width) --text_scale_;
  strip_height_ = (kGlyphHeight + 2 * kMargin) * text_scale_;
}

int64_t LabelledComparison::width() const { return 2 * width_ * enlargement_ + kGap; }
int64_t LabelledComparison::height() const { return height_ * enlargement_ + strip_height_; }

Image LabelledComparison::compose(const Image& left, const Image& right) const {
  for (const Image* picture : {&left, &right})
    if (picture->width != width_ || picture->height != height_)
      fail(ErrorKind::Internal, "LabelledComparison: a picture of another size");
  const Image pictures = side_by_side(enlarge(left, enlargement_), enlarge(right, enlargement_), kGap);
  Image out;
  out.width = width();
  out.height = height();
  out.rgb.assign(static_cast<size_t>(out.width * strip_height_ * 3), 0);  // the black strip
  out.rgb.insert(out.rgb.end(), pictures.rgb.begin(), pictures.rgb.end());
  const int64_t panel = width_ * enlargement_;
  const int64_t top = kMargin * text_scale_;
  draw_text(out, (panel - text_width(left_label_, text_scale_)) / 2, top, left_label_, text_scale_);
  draw_text(out, panel + kGap + (panel - text_width(right_label_, text_scale_)) / 2, top, right_label_, text_scale_);
  return out;
}

}  // namespace perceiver
