// Fourier position features and coordinate grids (docs/spec/position_encodings.md §2–§3).
// For positions p [n, d]: [p_0 … p_{d-1}, sin(π·p_a·f_a,k) for a, k, cos(π·p_a·f_a,k) for a, k],
// frequencies f_a = linspace(1, max_resolution_a / 2, num_bands), all in float32 as HF does.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace perceiver {

// torch.linspace(start, end, steps) in float32: the symmetric two-sided formula.
std::vector<float> linspace(float start, float end, int64_t steps);

// Coordinates of a row-major grid over `index_dims`, each axis linspace(-1, 1, n): [Π n, d].
Tensor grid_positions(const std::vector<int64_t>& index_dims);

// Coordinates of flat indices into `index_dims` with the subsampled-query formula −1 + 2·i/n.
Tensor subsampled_positions(const std::vector<int64_t>& flat_indices, const std::vector<int64_t>& index_dims);

// Fourier features of positions [n, d]: [n, d + 2·d·num_bands] (concat_pos, sin and cos).
Tensor fourier_features(const Tensor& positions, const std::vector<int64_t>& max_resolution, int64_t num_bands);

inline int64_t fourier_channels(int64_t dims, int64_t num_bands) { return dims + 2 * dims * num_bands; }

}  // namespace perceiver
