// The data of byte-level MLM training and evaluation (masking rule: training/data/byte_masking.h).
//   training batches: window b of step s starts at a uniformly drawn offset of the training
//     text (SplitMix64 seeded by mix_seed(seed, s·B + b)) and is masked with seed
//     mix_seed(seed + 1, s·B + b): a function of (seed, step) alone, so resuming needs no state;
//   held-out windows: the held-out text cut into consecutive windows from its start, window i
//     masked with mix_seed(kHeldOutSeed, i), the same for every run and every model;
//   scores: masked-byte accuracy and mean cross-entropy over all masked bytes, and the accuracy
//     of always answering the most frequent masked byte (the baseline a model must beat).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "training/data/byte_masking.h"
#include "training/loop/training_loop.h"

namespace perceiver::training {

inline constexpr uint64_t kHeldOutSeed = 20261129;

struct MaskedBatch {
  int64_t batch = 0, length = 0;
  std::vector<int64_t> input_ids, labels;  // [B, L] each
};

// `window_bytes` = max_position_embeddings − 2 ([CLS] and [SEP] frame every window).
MaskedBatch training_batch(const std::string& text, int64_t batch, int64_t window_bytes, uint64_t seed, int64_t step,
                           MaskingRule rule = MaskingRule::Words);
std::vector<MaskedWindow> held_out_windows(const std::string& text, int64_t window_bytes, int64_t max_windows,
                                           MaskingRule rule = MaskingRule::Words);
// Windows [first, first + count) of `windows` as one batch (all the same length).
MaskedBatch batch_of(const std::vector<MaskedWindow>& windows, size_t first, size_t count);

class MaskedByteScore {
 public:
  // logits [rows, vocab] with labels [rows] (−1: not scored).
  void add(const float* logits, const int64_t* labels, int64_t rows, int64_t vocab);
  EvaluationResult result() const;  // extra: most_frequent_byte_accuracy, most_frequent_byte

 private:
  LossTally tally_;
  std::array<int64_t, 262> label_counts_{};
};

}  // namespace perceiver::training
