// Text input (docs/spec/preprocessors_postprocessors.md §1.1): x[b, t] = Emb[ids[b, t]] + Pos[t].
// Shapes: ids [B, L] (I64, L ≤ max_position_embeddings) → [B, L, d_model].
#pragma once

#include "checkpoint/config.h"
#include "checkpoint/weights.h"

namespace perceiver {

class TextPreprocessor {
 public:
  TextPreprocessor(Weights& weights, const PerceiverConfig& config);

  int64_t channels() const { return embeddings_.dim(1); }
  const Tensor& embeddings() const { return embeddings_; }  // [vocab_size, d_model], tied to the MLM head

  Tensor forward(const Tensor& input_ids) const;

 private:
  Tensor embeddings_;           // [vocab_size, d_model]
  Tensor position_embeddings_;  // [max_position_embeddings, d_model]
};

}  // namespace perceiver
