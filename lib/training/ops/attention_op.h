// Multi-head scaled dot-product attention over already projected q, k, v, with an additive
// key mask, forward and backward. Per batch element b and head h (channels split evenly):
//   S = q_h·k_hᵀ/√d + mask_b,  P = softmax_rows(S),  ctx_h = P·v_h
//   dP = dctx_h·v_hᵀ,  dv_h = Pᵀ·dctx_h,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//   dq_h = dS·k_h/√d,  dk_h = dSᵀ·q_h/√d.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <omp.h>

#include <type_traits>

#include "common/error.h"
#include "kernels/reference.h"
#include "training/ops/gemm.h"
#include "training/ops/onednn_ops.h"

namespace perceiver::training {

// Heads go to threads when there are enough (element, head) pairs to keep every thread busy;
// otherwise each product uses all threads itself.
inline bool split_heads_between_threads(int64_t pairs) { return pairs >= 2 * omp_get_max_threads(); }

// Each row of values [rows, cols] replaced by its softmax: oneDNN's primitive on the fast path,
// the reference loop (kernels/reference.h) on the other.
template <typename T>
void softmax_rows(GemmBackend backend, T* values, int64_t rows, int64_t cols) {
  if constexpr (std::is_same_v<T, float>) {
    if (backend == GemmBackend::OneDnn) return onednn_softmax_rows(values, rows, cols);
  }
  kernels::reference::softmax_rows(values, rows, cols);
}

struct AttentionShape {
  int64_t batch = 1, queries = 0, keys = 0;  // B, Nq, Nk
  int64_t heads = 1;
  int64_t qk_channels = 0, v_channels = 0;   // totals over heads: Cqk, Cv
};

// q [B, Nq, Cqk], k [B, Nk, Cqk], v [B, Nk, Cv], mask_bias [B, Nk] or null → context [B, Nq, Cv].
// probabilities [B, h, Nq, Nk] is kept for the backward.
template <typename T>
void attention_forward(GemmBackend backend, const AttentionShape& s, const T* q, const T* k, const T* v,
                       const T* mask_bias, T* context, std::vector<T>& probabilities) {
  if (s.qk_channels % s.heads || s.v_channels % s.heads)
    fail(ErrorKind::ConfigInvalid, "attention channels are not divisible by the number of heads");
  const int64_t dq = s.qk_channels / s.heads, dv = s.v_channels / s.heads;
  const T scale = static_cast<T>(1) / std::sqrt(static_cast<T>(dq));
  probabilities.resize(static_cast<size_t>(s.batch * s.heads * s.queries * s.keys));
  const int64_t pairs = s.batch * s.heads;
  const bool split = split_heads_between_threads(pairs);
  // One (element, head) pair per iteration, the pairs split between the threads (each pair's
  // products then run single-threaded): per-head products are too small to split one by one.
#pragma omp parallel for schedule(static) if (split)
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t b = pair / s.heads, h = pair % s.heads;
    const T* qh = q + b * s.queries * s.qk_channels + h * dq;
    const T* kh = k + b * s.keys * s.qk_channels + h * dq;
    T* scores = probabilities.data() + pair * s.queries * s.keys;  // [Nq, Nk]
    gemm(backend, GemmShape{false, true, s.queries, s.keys, dq, s.qk_channels, s.qk_channels, s.keys, false}, qh, kh,
         scores);
    for (int64_t i = 0; i < s.queries; ++i)
      for (int64_t j = 0; j < s.keys; ++j)
        scores[i * s.keys + j] = scores[i * s.keys + j] * scale + (mask_bias ? mask_bias[b * s.keys + j] : static_cast<T>(0));
  }
  softmax_rows(backend, probabilities.data(), pairs * s.queries, s.keys);
#pragma omp parallel for schedule(static) if (split)
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t b = pair / s.heads, h = pair % s.heads;
    const T* vh = v + b * s.keys * s.v_channels + h * dv;
    const T* p = probabilities.data() + pair * s.queries * s.keys;
    gemm(backend, GemmShape{false, false, s.queries, dv, s.keys, s.keys, s.v_channels, s.v_channels, false}, p, vh,
         context + b * s.queries * s.v_channels + h * dv);
  }
}

// Writes dq, dk, dv (same shapes as q, k, v). `scratch` is reused between calls.
template <typename T>
void attention_backward(GemmBackend backend, const AttentionShape& s, const T* q, const T* k, const T* v,
                        const std::vector<T>& probabilities, const T* d_context, T* dq, T* dk, T* dv,
                        std::vector<T>& scratch) {
  const int64_t cq = s.qk_channels / s.heads, cv = s.v_channels / s.heads;
  const T scale = static_cast<T>(1) / std::sqrt(static_cast<T>(cq));
  const int64_t pairs = s.batch * s.heads;
  const bool split = split_heads_between_threads(pairs);
  scratch.resize(static_cast<size_t>((split ? omp_get_max_threads() : 1) * s.queries * s.keys));
#pragma omp parallel for schedule(static) if (split)
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t b = pair / s.heads, h = pair % s.heads;
    T* dp = scratch.data() + (split ? omp_get_thread_num() : 0) * s.queries * s.keys;  // [Nq, Nk]
    const int64_t q_off = b * s.queries * s.qk_channels + h * cq, k_off = b * s.keys * s.qk_channels + h * cq;
    const int64_t v_off = b * s.keys * s.v_channels + h * cv, c_off = b * s.queries * s.v_channels + h * cv;
    const T* p = probabilities.data() + pair * s.queries * s.keys;
    gemm(backend, GemmShape{false, true, s.queries, s.keys, cv, s.v_channels, s.v_channels, s.keys, false},
         d_context + c_off, v + v_off, dp);
    gemm(backend, GemmShape{true, false, s.keys, cv, s.queries, s.keys, s.v_channels, s.v_channels, false}, p,
         d_context + c_off, dv + v_off);
    for (int64_t i = 0; i < s.queries; ++i) {
      const T* prow = p + i * s.keys;
      T* row = dp + i * s.keys;
      T dot = 0;
      for (int64_t j = 0; j < s.keys; ++j) dot += row[j] * prow[j];
      for (int64_t j = 0; j < s.keys; ++j) row[j] = prow[j] * (row[j] - dot) * scale;
    }
    gemm(backend, GemmShape{false, false, s.queries, cq, s.keys, s.keys, s.qk_channels, s.qk_channels, false}, dp,
         k + k_off, dq + q_off);
    gemm(backend, GemmShape{true, false, s.keys, cq, s.queries, s.keys, s.qk_channels, s.qk_channels, false}, dp,
         q + q_off, dk + k_off);
  }
}

}  // namespace perceiver::training
