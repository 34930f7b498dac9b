// FLOP counts from shapes: 2·M·N·K for every matrix product a layer executes (projections,
// attention scores and weighted sums, MLP). Element-wise work (LayerNorm, softmax, GELU) is
// not counted, so GFLOP/s compares directly with a matmul's.
#pragma once

#include "core/layer.h"

namespace perceiver::bench {

inline double matmul_flops(double m, double n, double k) { return 2.0 * m * n * k; }

inline double layer_flops(const LayerShape& s, double nq, double nk) {
  return matmul_flops(nq, s.qk_channels, s.q_dim)                      // query
         + matmul_flops(nk, s.qk_channels, s.kv_dim)                   // key
         + matmul_flops(nk, s.v_channels, s.kv_dim)                    // value
         + matmul_flops(nq, nk, s.qk_channels)                         // scores, all heads
         + matmul_flops(nq, s.v_channels, nk)                          // weighted sum
         + matmul_flops(nq, s.q_dim, s.v_channels)                     // output projection
         + 2 * matmul_flops(nq, s.widening_factor * s.q_dim, s.q_dim); // MLP
}

}  // namespace perceiver::bench
