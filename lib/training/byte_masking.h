// The masking rule for byte-level masked-language-model training: whole words are masked, as
// in the Perceiver IO paper's span masking, so the model must reconstruct words from context
// rather than single bytes from their neighbours.
//
// For a window of n bytes and a fraction f (0 < f <= 1):
//   1. target = round(f * n) (halves away from zero), at least 1 when n > 0; 0 for n = 0.
//   2. Words, as BERT's whole-word masking splits text: the maximal runs of word bytes (ASCII
//      letters and digits, '_', and every byte >= 0x80, so UTF-8 letters stay whole), and each
//      other byte that is not ASCII whitespace (' ', '\t', '\n', '\r', '\f', '\v') alone
//      (punctuation). Runs cut by the window's ends count as words.
//   3. A SplitMix64 generator is seeded with `seed`; the word list (in text order) is shuffled by
//      Fisher–Yates: for i = W-1 down to 1, swap word i with word below(i + 1).
//   4. The words are visited in that order; a word of length k is masked (all its bytes) when
//      masked + k <= target. Visiting stops as soon as masked == target.
//   5. Fallback, for text with few or no word boundaries (one huge word, no whitespace): when
//      2 * masked < target after all words, single bytes are masked until masked == target,
//      drawn uniformly without replacement (partial Fisher–Yates, same generator) first among
//      the unmasked non-whitespace bytes in text order, then, if those run out, among the
//      unmasked whitespace bytes.
// Whitespace is therefore never masked unless step 5 runs out of other bytes, and without step 5
// every masked run is exactly one word. The result depends only on (bytes, seed, f), on every
// platform (no <random> distributions, no floating point beyond step 1).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace perceiver::training {

struct MaskedWindow {
  // Both [L], L = bytes.size() + 2. input_ids = [CLS] ids [SEP] with every masked byte replaced
  // by kMask; labels = the original id (byte + 6) at masked positions, -1 elsewhere (also at CLS
  // and SEP), the "ignore" label of the loss.
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
};

// Error(Usage) when fraction is not in (0, 1].
MaskedWindow mask_window(std::string_view bytes, uint64_t seed, double fraction = 0.15);

// ASCII whitespace as the rule above defines it.
inline bool is_mask_whitespace(unsigned char byte) {
  return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\f' || byte == '\v';
}

// Bytes that make up words (step 2): ASCII letters and digits, '_', and bytes >= 0x80.
inline bool is_word_byte(unsigned char byte) {
  return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') || byte == '_' ||
         byte >= 0x80;
}

}  // namespace perceiver::training
