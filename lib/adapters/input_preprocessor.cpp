#include "adapters/input_preprocessor.h"

#include <cstring>

#include "common/error.h"

namespace perceiver {

Tensor concat_positions(const Tensor& content, const Tensor& positions) {
  const int64_t batch = content.dim(0), m = content.dim(1), cc = content.dim(2), cp = positions.dim(1);
  Tensor out = Tensor::f32({batch, m, cc + cp});  // [B, M, Cc + Cp]
  float* o = out.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i) {
      float* row = o + (b * m + i) * (cc + cp);
      std::memcpy(row, content.data<float>() + (b * m + i) * cc, cc * sizeof(float));
      std::memcpy(row + cc, positions.data<float>() + i * cp, cp * sizeof(float));
    }
  return out;
}

Tensor channels_last(const Tensor& x) {
  const int64_t batch = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  Tensor out = Tensor::f32({batch, h * w, c});
  const float* in = x.data<float>();
  float* o = out.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) o[(b * h * w + p) * c + ch] = in[(b * c + ch) * h * w + p];
  return out;
}

void check_pixels(const Tensor& pixels, int64_t& batch, int64_t& height, int64_t& width) {
  if (pixels.rank() != 4 || pixels.dim(1) != 3 || pixels.dtype() != DType::F32)
    fail(ErrorKind::Input, "pixel_values must be F32 [B, 3, H, W], got " + std::string(dtype_name(pixels.dtype())) + " " +
                               shape_to_string(pixels.shape()));
  batch = pixels.dim(0);
  height = pixels.dim(2);
  width = pixels.dim(3);
}

}  // namespace perceiver
