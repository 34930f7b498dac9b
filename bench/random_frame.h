// A frame of random RGB bytes, deterministic for a seed: benchmark inputs need realistic sizes,
// not content (the cost of a forward pass does not depend on the pixels).
#pragma once

#include <cstdint>
#include <random>

#include "media/image.h"

namespace perceiver::bench {

inline Image random_frame(int64_t width, int64_t height, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  std::mt19937 rng(seed);
  for (uint8_t& byte : image.rgb) byte = static_cast<uint8_t>(rng());
  return image;
}

}  // namespace perceiver::bench
