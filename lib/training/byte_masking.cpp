#include "training/byte_masking.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "common/error.h"
#include "media/byte_tokenizer.h"
#include "training/random.h"

namespace perceiver::training {

namespace {

struct Word {
  size_t start = 0, length = 0;
};

std::vector<Word> split_words(std::string_view bytes) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < bytes.size()) {
    if (is_mask_whitespace(static_cast<unsigned char>(bytes[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    if (is_word_byte(static_cast<unsigned char>(bytes[i])))
      while (i < bytes.size() && is_word_byte(static_cast<unsigned char>(bytes[i]))) ++i;
    else
      ++i;  // punctuation: a word of its own
    words.push_back({start, i - start});
  }
  return words;
}

// Masks `count` positions of `candidates` drawn uniformly without replacement (partial
// Fisher–Yates); returns how many were masked (fewer when candidates run out).
size_t mask_random_positions(std::vector<size_t>& candidates, size_t count, SplitMix64& random,
                             std::vector<bool>& masked) {
  const size_t n = std::min(count, candidates.size());
  for (size_t k = 0; k < n; ++k) {
    const size_t pick = k + static_cast<size_t>(random.below(candidates.size() - k));
    std::swap(candidates[k], candidates[pick]);
    masked[candidates[k]] = true;
  }
  return n;
}

}  // namespace

MaskedWindow mask_window(std::string_view bytes, uint64_t seed, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    fail(ErrorKind::Usage, "mask_window: the mask fraction must be in (0, 1], not " + std::to_string(fraction));
  const size_t n = bytes.size();
  size_t target = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  if (n > 0 && target == 0) target = 1;
  if (target > n) target = n;

  std::vector<bool> masked(n, false);
  size_t masked_count = 0;
  SplitMix64 random(seed);

  std::vector<Word> words = split_words(bytes);
  for (size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[static_cast<size_t>(random.below(i))]);
  for (const Word& word : words) {
    if (masked_count == target) break;
    if (masked_count + word.length > target) continue;
    for (size_t k = 0; k < word.length; ++k) masked[word.start + k] = true;
    masked_count += word.length;
  }

  if (2 * masked_count < target) {
    std::vector<size_t> text_bytes, space_bytes;  // unmasked positions, in text order
    for (size_t i = 0; i < n; ++i) {
      if (masked[i]) continue;
      (is_mask_whitespace(static_cast<unsigned char>(bytes[i])) ? space_bytes : text_bytes).push_back(i);
    }
    masked_count += mask_random_positions(text_bytes, target - masked_count, random, masked);
    masked_count += mask_random_positions(space_bytes, target - masked_count, random, masked);
  }

  MaskedWindow window;
  window.input_ids.reserve(n + 2);
  window.labels.reserve(n + 2);
  window.input_ids.push_back(tokenizer::kCls);
  window.labels.push_back(-1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t id = static_cast<int64_t>(static_cast<unsigned char>(bytes[i])) + tokenizer::kByteOffset;
    window.input_ids.push_back(masked[i] ? tokenizer::kMask : id);
    window.labels.push_back(masked[i] ? id : -1);
  }
  window.input_ids.push_back(tokenizer::kSep);
  window.labels.push_back(-1);
  return window;
}

}  // namespace perceiver::training
