// PerceiverForMaskedLM (language-perceiver): bytes → text preprocessor → encoder → learned
// position queries → decoder (8 heads, qk 256, v d_model, no residual) → tied embedding head.
//
// Dimension legend: B batch, L input tokens, N latents, D latent width, C = d_model,
// P = max_position_embeddings (decoder queries), V = vocab_size.
#pragma once

#include <string>

#include <vector>

#include "adapters/text_preprocessor.h"
#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "kernels/linear.h"
#include "core/decoder.h"
#include "core/encoder.h"
#include "core/trace.h"

namespace perceiver {

// The language decoder: queries of d_model, kLanguageDecoderHeads heads, qk
// kLanguageDecoderQkChannels, v d_model, no query residual, no final projection.
DecoderShape language_decoder_shape(const PerceiverConfig& config);

class MaskedLanguageModel {
 public:
  MaskedLanguageModel(const PerceiverConfig& config, Weights& weights);

  int64_t max_length() const { return queries_.dim(0); }  // P, [CLS] and [SEP] included
  int64_t vocab_size() const { return preprocessor_.embeddings().dim(0); }

  // HF's forward: input_ids [B, L] I64, attention_mask [B, L] or nullptr → logits [B, P, V]
  // (P rows always, as the decoder queries are a table of P positions).
  Tensor forward(const Tensor& input_ids, const Tensor* attention_mask = nullptr, const Trace* trace = nullptr) const;

  // One unpadded sequence, logits only at `positions` (indices into the sequence): [|positions|, V].
  // Equal to forward() at those rows: padding contributes nothing and queries are independent.
  Tensor logits_at(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions) const;

  // The weights file it was built from (for messages: a non-finite output blames it).
  const std::string& weights_source() const { return weights_source_; }

 private:
  std::string weights_source_;
  Tensor decode(const Tensor& queries, const Tensor& latents) const;  // [B, O, C] → [B, O, V]

  TextPreprocessor preprocessor_;
  Encoder encoder_;
  Tensor queries_;  // [P, C], names::decoder_queries(names::kLanguageDecoder)
  Decoder decoder_;
  kernels::Linear head_;  // logits = h·Embᵀ + embedding_decoder.bias
};

}  // namespace perceiver
