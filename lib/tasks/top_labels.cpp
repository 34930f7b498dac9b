#include "tasks/top_labels.h"

#include <algorithm>
#include <cmath>

namespace perceiver {

std::vector<double> softmax(const float* logits, int64_t count) {
  const float peak = *std::max_element(logits, logits + count);
  std::vector<double> p(static_cast<size_t>(count));
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) sum += p[static_cast<size_t>(i)] = std::exp(static_cast<double>(logits[i]) - peak);
  for (double& v : p) v /= sum;
  return p;
}

std::vector<LabelScore> top_labels(const std::vector<double>& probabilities, int64_t k) {
  std::vector<LabelScore> labels;
  labels.reserve(probabilities.size());
  for (size_t i = 0; i < probabilities.size(); ++i) labels.push_back({static_cast<int64_t>(i), probabilities[i]});
  const size_t keep = k <= 0 ? labels.size() : std::min(labels.size(), static_cast<size_t>(k));
  std::partial_sort(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(keep), labels.end(),
                    [](const LabelScore& a, const LabelScore& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); });
  labels.resize(keep);
  return labels;
}

std::vector<LabelScore> top_labels(const float* logits, int64_t count, int64_t k) {
  return top_labels(softmax(logits, count), k);
}

}  // namespace perceiver
