#include "training/data/masked_bytes.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/random.h"
#include "training/ops/cross_entropy.h"

namespace perceiver::training {

MaskedBatch training_batch(const std::string& text, int64_t batch, int64_t window_bytes, uint64_t seed, int64_t step,
                           MaskingRule rule) {
  const int64_t size = static_cast<int64_t>(text.size());
  if (size < window_bytes) fail(ErrorKind::Input, "the training text (" + std::to_string(size) +
                                                      " bytes) is shorter than one window of " +
                                                      std::to_string(window_bytes) + " bytes");
  MaskedBatch out;
  out.batch = batch;
  out.length = window_bytes + 2;
  for (int64_t b = 0; b < batch; ++b) {
    const uint64_t example = static_cast<uint64_t>(step * batch + b);
    SplitMix64 random(mix_seed(seed, example));
    const int64_t start = static_cast<int64_t>(random.below(static_cast<uint64_t>(size - window_bytes + 1)));
    const MaskedWindow window =
        mask_window(std::string_view(text).substr(start, window_bytes), mix_seed(seed + 1, example), 0.15, rule);
    out.input_ids.insert(out.input_ids.end(), window.input_ids.begin(), window.input_ids.end());
    out.labels.insert(out.labels.end(), window.labels.begin(), window.labels.end());
  }
  return out;
}

std::vector<MaskedWindow> held_out_windows(const std::string& text, int64_t window_bytes, int64_t max_windows,
                                           MaskingRule rule) {
  std::vector<MaskedWindow> windows;
  for (int64_t start = 0; start + window_bytes <= static_cast<int64_t>(text.size()); start += window_bytes) {
    if (max_windows > 0 && static_cast<int64_t>(windows.size()) >= max_windows) break;
    windows.push_back(mask_window(std::string_view(text).substr(start, window_bytes),
                                  mix_seed(kHeldOutSeed, windows.size()), 0.15, rule));
  }
  if (windows.empty()) fail(ErrorKind::Input, "the held-out text is shorter than one window of " +
                                                  std::to_string(window_bytes) + " bytes");
  return windows;
}

MaskedBatch batch_of(const std::vector<MaskedWindow>& windows, size_t first, size_t count) {
  MaskedBatch out;
  out.batch = static_cast<int64_t>(count);
  out.length = static_cast<int64_t>(windows[first].input_ids.size());
  for (size_t i = first; i < first + count; ++i) {
    out.input_ids.insert(out.input_ids.end(), windows[i].input_ids.begin(), windows[i].input_ids.end());
    out.labels.insert(out.labels.end(), windows[i].labels.begin(), windows[i].labels.end());
  }
  return out;
}

void MaskedByteScore::add(const float* logits, const int64_t* labels, int64_t rows, int64_t vocab) {
  tally_.add(softmax_cross_entropy<float>(logits, rows, vocab, labels, nullptr));
  for (int64_t r = 0; r < rows; ++r)
    if (labels[r] >= 0 && labels[r] < static_cast<int64_t>(label_counts_.size())) ++label_counts_[labels[r]];
}

EvaluationResult MaskedByteScore::result() const {
  EvaluationResult result = tally_.result();
  if (result.count == 0) return result;
  const auto most = std::max_element(label_counts_.begin(), label_counts_.end());
  result.extra["most_frequent_byte_accuracy"] = static_cast<double>(*most) / static_cast<double>(result.count);
  result.extra["most_frequent_byte"] = static_cast<double>(most - label_counts_.begin() - 6);
  return result;
}

}  // namespace perceiver::training
