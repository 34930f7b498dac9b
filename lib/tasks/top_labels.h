// Label probabilities of classifier logits and the k most probable of them: the one rule every
// tool and the library API use (perceiver-classify, perceiver-autoencode, api::Model).
#pragma once

#include <cstdint>
#include <vector>

namespace perceiver {

struct LabelScore {
  int64_t id = 0;
  double p = 0;
};

// Softmax over `count` logits, in double.
std::vector<double> softmax(const float* logits, int64_t count);

// The k most probable (k ≤ 0: all), p descending, the lower id first on a tie.
std::vector<LabelScore> top_labels(const std::vector<double>& probabilities, int64_t k);

// top_labels(softmax(logits, count), k).
std::vector<LabelScore> top_labels(const float* logits, int64_t count, int64_t k);

}  // namespace perceiver
