#include "adapters/flow_patches.h"

#include <array>

#include "common/error.h"

namespace perceiver {

namespace {

const std::array<float, 256>& normalized_values() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int x = 0; x < 256; ++x) t[x] = static_cast<float>(x / 255.0 * 2.0 - 1.0);
    return t;
  }();
  return table;
}

}  // namespace

float normalize_flow_pixel(uint8_t x) { return normalized_values()[x]; }

Tensor flow_patches(const Image& first, const Image& second, int64_t y0, int64_t x0, int64_t height, int64_t width) {
  if (first.width != second.width || first.height != second.height)
    fail(ErrorKind::Input, "the two frames differ in size: " + std::to_string(first.width) + "×" +
                               std::to_string(first.height) + " and " + std::to_string(second.width) + "×" +
                               std::to_string(second.height));
  if (y0 < 0 || x0 < 0 || height <= 0 || width <= 0 || y0 >= first.height || x0 >= first.width)
    fail(ErrorKind::Internal, "flow_patches: tile origin (" + std::to_string(y0) + ", " + std::to_string(x0) +
                                  ") outside a " + std::to_string(first.width) + "×" + std::to_string(first.height) +
                                  " frame");
  const auto& table = normalized_values();
  Tensor patches = Tensor::f32({1, 2, kFlowPatchChannels, height, width});  // zero-filled
  float* out = patches.mutable_data<float>();
  const int64_t plane = height * width;
  // Rows and columns of the tile that hold frame pixels; the rest stays zero.
  const int64_t rows = std::min(height, first.height - y0), cols = std::min(width, first.width - x0);
  for (int frame = 0; frame < 2; ++frame) {
    const Image& image = frame == 0 ? first : second;
    float* base = out + frame * kFlowPatchChannels * plane;
    for (int64_t dy = 0; dy < 3; ++dy)
      for (int64_t dx = 0; dx < 3; ++dx)
        for (int64_t y = 0; y < height; ++y) {
          const int64_t sy = y + dy - 1;  // source row within the tile
          if (sy < 0 || sy >= rows) continue;
          const uint8_t* src_row = image.rgb.data() + ((y0 + sy) * image.width + x0) * 3;
          for (int64_t c = 0; c < 3; ++c) {
            float* dst = base + ((dy * 3 + dx) * 3 + c) * plane + y * width;
            for (int64_t x = 0; x < width; ++x) {
              const int64_t sx = x + dx - 1;
              if (sx >= 0 && sx < cols) dst[x] = table[src_row[sx * 3 + c]];
            }
          }
        }
  }
  return patches;
}

}  // namespace perceiver
