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

#include "common/error.h"
#include "training/gemm.h"

namespace perceiver::training {

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
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h) {
      const T* qh = q + b * s.queries * s.qk_channels + h * dq;
      const T* kh = k + b * s.keys * s.qk_channels + h * dq;
      const T* vh = v + b * s.keys * s.v_channels + h * dv;
      T* p = probabilities.data() + (b * s.heads + h) * s.queries * s.keys;  // [Nq, Nk]
      gemm(backend, GemmShape{false, true, s.queries, s.keys, dq, s.qk_channels, s.qk_channels, s.keys, false}, qh, kh, p);
      for (int64_t i = 0; i < s.queries; ++i) {
        T* row = p + i * s.keys;
        T max = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < s.keys; ++j) {
          row[j] = row[j] * scale + (mask_bias ? mask_bias[b * s.keys + j] : static_cast<T>(0));
          max = std::max(max, row[j]);
        }
        T sum = 0;
        for (int64_t j = 0; j < s.keys; ++j) sum += (row[j] = std::exp(row[j] - max));
        for (int64_t j = 0; j < s.keys; ++j) row[j] /= sum;
      }
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
  scratch.resize(static_cast<size_t>(s.queries * s.keys));
  T* dp = scratch.data();  // [Nq, Nk]
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h) {
      const int64_t q_off = b * s.queries * s.qk_channels + h * cq, k_off = b * s.keys * s.qk_channels + h * cq;
      const int64_t v_off = b * s.keys * s.v_channels + h * cv, c_off = b * s.queries * s.v_channels + h * cv;
      const T* p = probabilities.data() + (b * s.heads + h) * s.queries * s.keys;
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
