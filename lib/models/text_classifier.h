// PerceiverForSequenceClassification: bytes → text preprocessor (as the masked LM) → encoder
// (the padding mask acts on its cross-attention) → one learned query → the classifiers'
// decoder (1 head, qk = v = d_latents, query residual on) → Linear(d_latents → num_labels).
//
// Shapes: input_ids [B, L] I64, attention_mask [B, L] → x [B, L, C] → latents [B, N, D] →
// logits [B, num_labels].
#pragma once

#include <string>

#include "adapters/text_preprocessor.h"
#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "core/decoder.h"
#include "core/encoder.h"
#include "core/trace.h"

namespace perceiver {

class TextClassifier {
 public:
  TextClassifier(const PerceiverConfig& config, Weights& weights);

  int64_t num_labels() const { return decoder_.output_channels(); }
  int64_t max_length() const { return max_length_; }  // max_position_embeddings, [CLS] and [SEP] included

  // HF's forward: input_ids [B, L] (L ≤ max_length), attention_mask [B, L] or nullptr → [B, num_labels].
  Tensor forward(const Tensor& input_ids, const Tensor* attention_mask = nullptr, const Trace* trace = nullptr) const;

  // The weights file it was built from (for messages: a non-finite output blames it).
  const std::string& weights_source() const { return weights_source_; }

 private:
  std::string weights_source_;
  int64_t max_length_;
  TextPreprocessor preprocessor_;
  Encoder encoder_;
  Tensor query_;  // [1, D]
  Decoder decoder_;
};

}  // namespace perceiver
