// The interface of every input preprocessor (raw model input → the encoder's input array
// x [B, M, C]), and the small array helpers they share.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace perceiver {

class InputPreprocessor {
 public:
  virtual ~InputPreprocessor() = default;
  virtual int64_t channels() const = 0;  // C
  virtual Tensor forward(const Tensor& input) const = 0;
};

// out[b, m, :] = [content[b, m, :] | positions[m, :]]: content [B, M, Cc], positions [M, Cp]
// (shared by the batch) → [B, M, Cc + Cp].
Tensor concat_positions(const Tensor& content, const Tensor& positions);

// [B, C, H, W] → [B, H·W, C] (channels last, pixels row-major).
Tensor channels_last(const Tensor& x);

// Checks pixel_values is F32 [B, 3, H, W]; returns B, H, W.
void check_pixels(const Tensor& pixels, int64_t& batch, int64_t& height, int64_t& width);

}  // namespace perceiver
