#include "adapters/text_preprocessor.h"

#include "common/error.h"
#include "core/tensor_names.h"

namespace perceiver {

TextPreprocessor::TextPreprocessor(Weights& weights, const PerceiverConfig& config)
    : embeddings_(weights.take(names::kTokenEmbeddings, {config.vocab_size, config.d_model})),
      position_embeddings_(weights.take(names::kTextPositions, {config.max_position_embeddings, config.d_model})) {}

Tensor TextPreprocessor::forward(const Tensor& input_ids) const {
  if (input_ids.rank() != 2 || input_ids.dtype() != DType::I64)
    fail(ErrorKind::Input, "input_ids must be I64 [B, L], got " + std::string(dtype_name(input_ids.dtype())) + " " +
                               shape_to_string(input_ids.shape()));
  const int64_t batch = input_ids.dim(0), length = input_ids.dim(1), channels = embeddings_.dim(1);
  const int64_t vocab = embeddings_.dim(0), max_length = position_embeddings_.dim(0);
  if (length > max_length)
    fail(ErrorKind::Input, "input of " + std::to_string(length) + " tokens exceeds max_position_embeddings " +
                               std::to_string(max_length));
  Tensor x = Tensor::f32({batch, length, channels});  // [B, L, C]
  const int64_t* ids = input_ids.data<int64_t>();
  const float* emb = embeddings_.data<float>();
  const float* pos = position_embeddings_.data<float>();
  float* out = x.mutable_data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t) {
      const int64_t id = ids[b * length + t];
      if (id < 0 || id >= vocab)
        fail(ErrorKind::Input, "token id " + std::to_string(id) + " at position " + std::to_string(t) +
                                   " is outside the vocabulary of " + std::to_string(vocab));
      float* row = out + (b * length + t) * channels;
      for (int64_t c = 0; c < channels; ++c) row[c] = emb[id * channels + c] + pos[t * channels + c];
    }
  return x;
}

}  // namespace perceiver
