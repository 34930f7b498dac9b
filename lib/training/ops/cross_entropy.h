// Softmax cross-entropy over rows of logits with integer labels (−1: not counted), the loss
// averaged over counted rows; the gradient of that mean is written to d_logits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace perceiver::training {

struct LossResult {
  double loss = 0;       // mean over counted rows (0 when none)
  int64_t counted = 0;   // rows with a label
  int64_t correct = 0;   // counted rows whose argmax is the label
};

template <typename T>
LossResult softmax_cross_entropy(const T* logits, int64_t rows, int64_t classes, const int64_t* labels, T* d_logits) {
  LossResult result;
  for (int64_t r = 0; r < rows; ++r) result.counted += labels[r] >= 0;
  const T inv_count = result.counted ? static_cast<T>(1) / static_cast<T>(result.counted) : static_cast<T>(0);
  // Rows in parallel; each row's loss is kept and summed in row order afterwards, so the
  // reported loss is the same for any number of threads. The buffer is the calling thread's
  // own and is reused, so a training step allocates nothing here after the first; the loop
  // reaches it through a reference, since inside the parallel region the name of a
  // thread_local would mean each worker's own (empty) copy.
  thread_local std::vector<double> buffer;
  std::vector<double>& row_loss = buffer;
  row_loss.assign(static_cast<size_t>(rows), 0.0);
  int64_t correct = 0;
#pragma omp parallel for schedule(static) reduction(+ : correct)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = logits + r * classes;
    T* d_row = d_logits ? d_logits + r * classes : nullptr;
    if (labels[r] < 0) {
      if (d_row) std::fill(d_row, d_row + classes, static_cast<T>(0));
      continue;
    }
    const int64_t best = std::max_element(row, row + classes) - row;
    const T max = row[best];
    T sum = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(row[c] - max);
    const T log_sum = std::log(sum) + max;
    row_loss[r] = static_cast<double>(log_sum - row[labels[r]]);
    correct += best == labels[r];
    if (d_row)
      for (int64_t c = 0; c < classes; ++c)
        d_row[c] = (std::exp(row[c] - log_sum) - (c == labels[r] ? static_cast<T>(1) : static_cast<T>(0))) * inv_count;
  }
  result.correct = correct;
  double total = 0;
  for (double loss : row_loss) total += loss;
  result.loss = result.counted ? total / static_cast<double>(result.counted) : 0;
  return result;
}

}  // namespace perceiver::training
