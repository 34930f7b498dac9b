#include "core/position_encoding.h"

#include <cmath>

#include "common/error.h"

namespace perceiver {

std::vector<float> linspace(float start, float end, int64_t steps) {
  std::vector<float> values(static_cast<size_t>(std::max<int64_t>(steps, 0)));
  if (steps == 1) values[0] = start;
  if (steps <= 1) return values;
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int64_t half = steps / 2;
  for (int64_t i = 0; i < steps; ++i)  // both ends exact, as torch computes it
    values[i] = i < half ? start + step * static_cast<float>(i) : end - step * static_cast<float>(steps - 1 - i);
  return values;
}

Tensor grid_positions(const std::vector<int64_t>& index_dims) {
  const int64_t d = static_cast<int64_t>(index_dims.size());
  int64_t n = 1;
  for (int64_t size : index_dims) n *= size;
  Tensor positions = Tensor::f32({n, d});  // [n, d]
  std::vector<std::vector<float>> axes;
  for (int64_t size : index_dims) axes.push_back(linspace(-1.f, 1.f, size));
  float* out = positions.mutable_data<float>();
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rest = flat;
    for (int64_t a = d - 1; a >= 0; --a) {  // row-major: the last axis varies fastest
      out[flat * d + a] = axes[a][rest % index_dims[a]];
      rest /= index_dims[a];
    }
  }
  return positions;
}

Tensor subsampled_positions(const std::vector<int64_t>& flat_indices, const std::vector<int64_t>& index_dims) {
  const int64_t d = static_cast<int64_t>(index_dims.size()), n = static_cast<int64_t>(flat_indices.size());
  int64_t total = 1;
  for (int64_t size : index_dims) total *= size;
  Tensor positions = Tensor::f32({n, d});  // [n, d]
  float* out = positions.mutable_data<float>();
  for (int64_t i = 0; i < n; ++i) {
    if (flat_indices[i] < 0 || flat_indices[i] >= total)
      fail(ErrorKind::Input, "output point " + std::to_string(flat_indices[i]) + " outside [0, " + std::to_string(total) + ")");
    int64_t rest = flat_indices[i];
    for (int64_t a = d - 1; a >= 0; --a) {
      const int64_t index = rest % index_dims[a];
      rest /= index_dims[a];
      // HF: (float)(2·i) / (float)n, then −1 + that.
      out[i * d + a] = -1.f + static_cast<float>(2 * index) / static_cast<float>(index_dims[a]);
    }
  }
  return positions;
}

Tensor fourier_features(const Tensor& positions, const std::vector<int64_t>& max_resolution, int64_t num_bands) {
  const int64_t n = positions.dim(0), d = positions.dim(1);
  if (static_cast<int64_t>(max_resolution.size()) != d)
    fail(ErrorKind::Internal, "Fourier features: max_resolution has " + std::to_string(max_resolution.size()) +
                                  " entries for " + std::to_string(d) + "-D positions");
  std::vector<std::vector<float>> bands;  // [d][num_bands]
  for (int64_t r : max_resolution) bands.push_back(linspace(1.f, static_cast<float>(r) / 2.f, num_bands));
  const int64_t channels = fourier_channels(d, num_bands), k = num_bands;
  Tensor features = Tensor::f32({n, channels});  // [n, d + 2·d·K]
  const float pi = static_cast<float>(M_PI);  // π rounded to float32, as HF multiplies
  const float* p = positions.data<float>();
  float* out = features.mutable_data<float>();
  for (int64_t i = 0; i < n; ++i) {
    float* row = out + i * channels;
    for (int64_t a = 0; a < d; ++a) {
      row[a] = p[i * d + a];
      for (int64_t b = 0; b < k; ++b) {
        const float angle = pi * (p[i * d + a] * bands[a][b]);
        row[d + a * k + b] = std::sin(angle);
        row[d + d * k + a * k + b] = std::cos(angle);
      }
    }
  }
  return features;
}

}  // namespace perceiver
