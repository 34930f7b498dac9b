#include "tasks/mask_filler.h"

#include "models/finite_output.h"

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

std::string fill_masks(const MaskedLanguageModel& model, const std::vector<int64_t>& original, int64_t top_k,
                       const WindowPredictions& on_window, Decoding decoding) {
  // Iterative decoding writes each decided byte into the document, so later passes and later
  // windows read it as context.
  std::vector<int64_t> ids = original;
  const int64_t length = static_cast<int64_t>(ids.size());
  const int64_t capacity = model.max_length() - 2;
  if (capacity < 1) fail(ErrorKind::ConfigInvalid, "max_position_embeddings must be at least 3 to hold [CLS] x [SEP]");
  const std::vector<int64_t> starts = window_starts(length, capacity);
  const int64_t stride = std::max<int64_t>(1, capacity / 2);
  const int64_t windows = static_cast<int64_t>(starts.size());
  // The window whose centre is nearest to position p (the earlier on a tie): only the few
  // windows that hold p are candidates, so this is O(1) per mask, not O(windows).
  const auto owner_of = [&](int64_t p) {
    int64_t best = -1;
    double best_distance = INFINITY;
    const auto consider = [&](int64_t w) {
      const int64_t end = std::min(length, starts[w] + capacity);
      if (p < starts[w] || p >= end) return;
      const double distance = std::fabs(static_cast<double>(p) - static_cast<double>(starts[w] + end - 1) / 2.0);
      if (distance < best_distance) best_distance = distance, best = w;
    };
    const int64_t first = std::max<int64_t>(0, (p - capacity + 1 + stride - 1) / stride);
    for (int64_t w = first; w <= std::min(windows - 2, p / stride); ++w) consider(w);
    consider(windows - 1);
    return best;
  };

  std::string text;  // the filled document
  text.reserve(ids.size());
  std::vector<int64_t> window_ids, positions, mine;  // reused for every window
  std::vector<MaskPrediction> predictions;
  int64_t next = 0;  // the first position not yet written to text
  // Owners never decrease along the document, so one pass over the positions assigns every mask
  // to its window, window by window, in position order.
  int64_t p = 0;
  while (p < length) {
    if (ids[p] != tokenizer::kMask) {
      ++p;
      continue;
    }
    const int64_t w = owner_of(p);
    mine.clear();
    const int64_t end = std::min(length, starts[w] + capacity);
    for (int64_t q = p; q < end; ++q)
      if (ids[q] == tokenizer::kMask) {
        if (owner_of(q) != w) break;
        mine.push_back(q);
      }
    window_ids.assign(1, tokenizer::kCls);  // [CLS] window bytes [SEP]
    window_ids.insert(window_ids.end(), ids.begin() + starts[w], ids.begin() + end);
    window_ids.push_back(tokenizer::kSep);
    positions.clear();
    for (int64_t q : mine) positions.push_back(q - starts[w] + 1);
    predictions.assign(mine.size(), MaskPrediction{});
    std::vector<int64_t> chosen(mine.size(), 0);  // the byte (id) decided for each of mine
    std::vector<size_t> remaining(mine.size());   // indices into mine, in position order
    for (size_t i = 0; i < mine.size(); ++i) remaining[i] = i;
    while (!remaining.empty()) {
      positions.clear();
      for (size_t i : remaining) positions.push_back(mine[i] - starts[w] + 1);
      const Tensor logits = model.logits_at(window_ids, positions);  // [|remaining|, V]
      require_finite_output(logits, "logits", model.weights_source());
      const int64_t vocab = logits.dim(1);
      std::vector<TokenScore> best(remaining.size());
      for (size_t r = 0; r < remaining.size(); ++r)
        best[r] = top_candidates(logits.data<float>() + static_cast<int64_t>(r) * vocab, vocab, 1).front();
      // Parallel: every masked byte from this one pass (HF's fill). Iterative: in each run of
      // adjacent masked bytes, only the most confident one is decided per pass; it is written
      // into the window and the rest are predicted again with it as context.
      std::vector<bool> decide(remaining.size(), decoding == Decoding::Parallel);
      if (decoding == Decoding::Iterative)
        for (size_t r = 0; r < remaining.size();) {
          size_t end = r + 1;
          while (end < remaining.size() && mine[remaining[end]] == mine[remaining[end - 1]] + 1) ++end;
          decide[r] = true;  // the run's first byte: runs are decided left to right
          r = end;
        }
      std::vector<size_t> left;
      for (size_t r = 0; r < remaining.size(); ++r) {
        const size_t i = remaining[r];
        if (!decide[r]) {
          left.push_back(i);
          continue;
        }
        predictions[i].position = mine[i] + 1;
        predictions[i].candidates = top_candidates(logits.data<float>() + static_cast<int64_t>(r) * vocab, vocab, top_k);
        chosen[i] = best[r].id;
        if (decoding == Decoding::Iterative) {
          window_ids[static_cast<size_t>(mine[i] - starts[w] + 1)] = chosen[i];
          ids[static_cast<size_t>(mine[i])] = chosen[i];
        }
      }
      remaining.swap(left);
    }
    for (size_t i = 0; i < mine.size(); ++i) {
      for (; next < mine[i]; ++next) append_token_text(text, original[next]);
      append_token_text(text, chosen[i]);
      ++next;
    }
    if (on_window) on_window(predictions);
    p = mine.back() + 1;
  }
  for (; next < length; ++next) append_token_text(text, original[next]);
  return text;
}

FilledDocument fill_masks(const MaskedLanguageModel& model, const std::vector<int64_t>& ids, int64_t top_k,
                          Decoding decoding) {
  FilledDocument result;
  result.text = fill_masks(
      model, ids, top_k,
      [&](const std::vector<MaskPrediction>& window) { result.masks.insert(result.masks.end(), window.begin(), window.end()); },
      decoding);
  return result;
}

}  // namespace perceiver
