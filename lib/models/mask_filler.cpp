#include "models/mask_filler.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "media/byte_tokenizer.h"

namespace perceiver {

std::vector<int64_t> window_starts(int64_t length, int64_t capacity) {
  if (length <= capacity) return {0};
  const int64_t stride = std::max<int64_t>(1, capacity / 2);
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + capacity < length; s += stride) starts.push_back(s);
  starts.push_back(length - capacity);
  return starts;
}

namespace {

std::vector<TokenScore> top_candidates(const float* logits, int64_t vocab, int64_t top_k) {
  const float peak = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(logits[v]) - peak);
  std::vector<TokenScore> scores(static_cast<size_t>(vocab));
  for (int64_t v = 0; v < vocab; ++v)
    scores[v] = {v, static_cast<float>(std::exp(static_cast<double>(logits[v]) - peak) / sum)};
  const int64_t k = top_k <= 0 ? vocab : std::min(top_k, vocab);
  // Stable on ties: the lower id first, so output is deterministic.
  std::partial_sort(scores.begin(), scores.begin() + k, scores.end(),
                    [](const TokenScore& a, const TokenScore& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); });
  scores.resize(static_cast<size_t>(k));
  return scores;
}

void append_token_text(std::string& text, int64_t id) {
  if (id >= tokenizer::kByteOffset) text.push_back(static_cast<char>(id - tokenizer::kByteOffset));
  else text += tokenizer::special_token_name(id);
}

}  // namespace

FilledDocument fill_masks(const MaskedLanguageModel& model, const std::vector<int64_t>& ids, int64_t top_k) {
  const int64_t length = static_cast<int64_t>(ids.size());
  const int64_t capacity = model.max_length() - 2;
  if (capacity < 1) fail(ErrorKind::ConfigInvalid, "max_position_embeddings must be at least 3 to hold [CLS] x [SEP]");

  std::vector<int64_t> masked;
  for (int64_t i = 0; i < length; ++i)
    if (ids[i] == tokenizer::kMask) masked.push_back(i);

  FilledDocument result;
  std::vector<int64_t> best(ids.begin(), ids.end());
  const std::vector<int64_t> starts = window_starts(length, capacity);
  // owner[j]: the window whose centre is nearest to masked byte j.
  std::vector<size_t> owner(masked.size(), 0);
  for (size_t j = 0; j < masked.size(); ++j) {
    double best_distance = INFINITY;
    for (size_t w = 0; w < starts.size(); ++w) {
      const int64_t end = std::min(length, starts[w] + capacity);
      if (masked[j] < starts[w] || masked[j] >= end) continue;
      const double distance = std::fabs(masked[j] - (starts[w] + end - 1) / 2.0);
      if (distance < best_distance) best_distance = distance, owner[j] = w;
    }
  }

  result.masks.resize(masked.size());
  for (size_t w = 0; w < starts.size(); ++w) {
    std::vector<size_t> mine;
    for (size_t j = 0; j < masked.size(); ++j)
      if (owner[j] == w) mine.push_back(j);
    if (mine.empty()) continue;
    const int64_t start = starts[w], end = std::min(length, start + capacity);
    std::vector<int64_t> window = {tokenizer::kCls};  // [CLS] window bytes [SEP]
    window.insert(window.end(), ids.begin() + start, ids.begin() + end);
    window.push_back(tokenizer::kSep);
    std::vector<int64_t> positions;
    for (size_t j : mine) positions.push_back(masked[j] - start + 1);
    const Tensor logits = model.logits_at(window, positions);  // [|mine|, V]
    const int64_t vocab = logits.dim(1);
    for (size_t i = 0; i < mine.size(); ++i) {
      MaskPrediction& prediction = result.masks[mine[i]];
      prediction.position = masked[mine[i]] + 1;
      prediction.candidates = top_candidates(logits.data<float>() + i * vocab, vocab, top_k);
      best[masked[mine[i]]] = top_candidates(logits.data<float>() + i * vocab, vocab, 1).front().id;
    }
  }
  for (int64_t id : best) append_token_text(result.text, id);
  return result;
}

}  // namespace perceiver
