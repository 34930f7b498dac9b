// Space-to-depth patches (docs/spec/preprocessors_postprocessors.md §1.2.2).
// 5-D video [B, T, C, H, W] with temporal block ts and spatial block s →
// [B, T/ts, H/s, W/s, ts·s·s·C], channel ((dt·s + dy)·s + dx)·C + c (time offset slowest,
// colour fastest). Sizes must divide exactly.
#pragma once

#include "tensor/tensor.h"

namespace perceiver {

Tensor space_to_depth(const Tensor& video, int64_t temporal_block, int64_t spatial_block);

}  // namespace perceiver
