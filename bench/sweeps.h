// Scaling sweeps: one model, inputs or outputs of growing size, time and peak memory per point,
// and a least-squares line through them (seconds and MB against size), so that "linear in the
// input and output size" is measured rather than claimed.
//   mlm        — the byte MLM on L = 256, 512, …, 2048 bytes, every position decoded
//   flow       — perceiver-flow's estimator on random frame pairs of growing area (tiles)
//   multimodal — one clip encoded, then O output points decoded in chunks of 8192
#pragma once

#include <string>
#include <vector>

#include "kernels/runtime.h"

namespace perceiver::bench {

const std::vector<std::string>& sweep_names();

// Prints one JSON line per point and one with the fits. `cache_dir` as perceiver-bench's --cache.
void run_sweep(const std::string& name, kernels::Precision precision, const std::string& cache_dir);

}  // namespace perceiver::bench
