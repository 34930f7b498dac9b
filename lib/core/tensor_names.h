// The HF tensor names of the modules that the inference models take their weights under and that
// perceiver-train creates its parameters under, spelled once so that the two cannot drift apart
// (docs/spec/checkpoints.md): one PerceiverLayer, the encoder, the decoders, and the inputs and
// output head of the masked LM and of the learned-position image classifier. A module's tensors
// are weight(module) and bias(module); a name here without ".weight" is a module.
#pragma once

#include <cstdint>
#include <string>

namespace perceiver::names {

inline std::string weight(const std::string& module) { return module + ".weight"; }
inline std::string bias(const std::string& module) { return module + ".bias"; }

// ---- one PerceiverLayer, relative to its prefix (e.g. "perceiver.encoder.self_attends.3") ----
inline constexpr char kLayerNorm1[] = "attention.self.layernorm1";  // the queries' LayerNorm
inline constexpr char kLayerNorm2[] = "attention.self.layernorm2";  // the keys' and values' (cross-attention only)
inline constexpr char kQuery[] = "attention.self.query";
inline constexpr char kKey[] = "attention.self.key";
inline constexpr char kValue[] = "attention.self.value";
inline constexpr char kAttentionOutput[] = "attention.output.dense";
inline constexpr char kLayerNorm[] = "layernorm";  // before the MLP
inline constexpr char kDense1[] = "mlp.dense1";
inline constexpr char kDense2[] = "mlp.dense2";

// The modules of the layer under `prefix`.
struct LayerNames {
  std::string layernorm1, layernorm2, query, key, value, output, layernorm, dense1, dense2;

  explicit LayerNames(const std::string& prefix)
      : layernorm1(prefix + "." + kLayerNorm1),
        layernorm2(prefix + "." + kLayerNorm2),
        query(prefix + "." + kQuery),
        key(prefix + "." + kKey),
        value(prefix + "." + kValue),
        output(prefix + "." + kAttentionOutput),
        layernorm(prefix + "." + kLayerNorm),
        dense1(prefix + "." + kDense1),
        dense2(prefix + "." + kDense2) {}
};

// ---- the encoder ----
inline constexpr char kLatents[] = "perceiver.embeddings.latents";  // [N, D], a tensor
inline constexpr char kEncoder[] = "perceiver.encoder";
inline constexpr char kEncoderCrossAttention[] = "perceiver.encoder.cross_attention";
// Self-attention layer i of a block (the blocks share them).
inline std::string encoder_self_attend(int64_t i) { return std::string(kEncoder) + ".self_attends." + std::to_string(i); }

// ---- a decoder (HF PerceiverBasicDecoder) under `decoder` ----
inline std::string decoding_cross_attention(const std::string& decoder) { return decoder + ".decoding_cross_attention"; }
inline std::string final_layer(const std::string& decoder) { return decoder + ".final_layer"; }
// Its learned queries, a tensor [O, E].
inline std::string decoder_queries(const std::string& decoder) {
  return decoder + ".output_position_encodings.position_embeddings";
}
inline constexpr char kLanguageDecoder[] = "perceiver.decoder";         // PerceiverForMaskedLM's
inline constexpr char kWrappedDecoder[] = "perceiver.decoder.decoder";  // inside the classification, flow and multimodal decoders

// ---- PerceiverForMaskedLM: the text input and the tied output head (tensors) ----
inline constexpr char kTokenEmbeddings[] = "perceiver.input_preprocessor.embeddings.weight";           // [V, C]
inline constexpr char kTextPositions[] = "perceiver.input_preprocessor.position_embeddings.weight";    // [P, C]
inline constexpr char kEmbeddingDecoderBias[] = "embedding_decoder.bias";                              // [V]

// ---- PerceiverForImageClassificationLearned's input ----
inline constexpr char kImageConv1x1[] = "perceiver.input_preprocessor.convnet_1x1";  // module, weight [256, 3, 1, 1]
inline constexpr char kImagePositionTable[] =
    "perceiver.input_preprocessor.position_embeddings.position_embeddings";  // tensor [S², 256]
inline constexpr char kImagePositionsProjection[] = "perceiver.input_preprocessor.positions_projection";  // module

}  // namespace perceiver::names
