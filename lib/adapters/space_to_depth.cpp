#include "adapters/space_to_depth.h"

#include "common/error.h"

namespace perceiver {

Tensor space_to_depth(const Tensor& video, int64_t ts, int64_t s) {
  if (video.rank() != 5 || video.dtype() != DType::F32)
    fail(ErrorKind::Input, "expected F32 [B, T, C, H, W], got " + shape_to_string(video.shape()));
  const int64_t batch = video.dim(0), t = video.dim(1), c = video.dim(2), h = video.dim(3), w = video.dim(4);
  if (t % ts || h % s || w % s)
    fail(ErrorKind::Input, "video " + shape_to_string(video.shape()) + " does not divide into " + std::to_string(ts) + "x" +
                               std::to_string(s) + "x" + std::to_string(s) + " patches");
  const int64_t ot = t / ts, oh = h / s, ow = w / s, oc = ts * s * s * c;
  Tensor out = Tensor::f32({batch, ot, oh, ow, oc});  // [B, T/ts, H/s, W/s, ts·s·s·C]
  const float* in = video.data<float>();
  float* o = out.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < ot; ++i)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          float* row = o + (((b * ot + i) * oh + y) * ow + x) * oc;
          for (int64_t dt = 0; dt < ts; ++dt)
            for (int64_t dy = 0; dy < s; ++dy)
              for (int64_t dx = 0; dx < s; ++dx)
                for (int64_t ch = 0; ch < c; ++ch)
                  row[((dt * s + dy) * s + dx) * c + ch] =
                      in[(((b * t + i * ts + dt) * c + ch) * h + y * s + dy) * w + x * s + dx];
        }
  return out;
}

}  // namespace perceiver
