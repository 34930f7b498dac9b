#include "training/data/byte_masking.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/error.h"
#include "common/random.h"
#include "media/byte_tokenizer.h"

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

void shuffle(std::vector<Word>& words, SplitMix64& random) {
  for (size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[static_cast<size_t>(random.below(i))]);
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

size_t target_of(size_t count, double fraction) {
  size_t target = static_cast<size_t>(std::llround(fraction * static_cast<double>(count)));
  if (count > 0 && target == 0) target = 1;
  return std::min(target, count);
}

// Masks [start, start + length) when none of it is masked yet and it fits the target.
bool mask_unit(size_t start, size_t length, size_t target, size_t& masked_count, std::vector<bool>& masked) {
  if (masked_count + length > target) return false;
  for (size_t k = 0; k < length; ++k)
    if (masked[start + k]) return false;
  for (size_t k = 0; k < length; ++k) masked[start + k] = true;
  masked_count += length;
  return true;
}

// Step 3 of `words`: single bytes when the units left the window far below its target.
void fill_with_bytes(std::string_view bytes, size_t target, size_t& masked_count, SplitMix64& random,
                     std::vector<bool>& masked) {
  if (2 * masked_count >= target) return;
  std::vector<size_t> text_bytes, space_bytes;  // unmasked positions, in text order
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (masked[i]) continue;
    (is_mask_whitespace(static_cast<unsigned char>(bytes[i])) ? space_bytes : text_bytes).push_back(i);
  }
  masked_count += mask_random_positions(text_bytes, target - masked_count, random, masked);
  masked_count += mask_random_positions(space_bytes, target - masked_count, random, masked);
}

bool after_space(std::string_view bytes, size_t start) { return start > 0 && bytes[start - 1] == ' '; }

void mask_words(std::string_view bytes, size_t target, bool with_space, SplitMix64& random, std::vector<bool>& masked) {
  std::vector<Word> words = split_words(bytes);
  shuffle(words, random);
  size_t masked_count = 0;
  for (const Word& word : words) {
    if (masked_count == target) break;
    const bool space = with_space && after_space(bytes, word.start);
    mask_unit(word.start - space, word.length + space, target, masked_count, masked);
  }
  fill_with_bytes(bytes, target, masked_count, random, masked);
}

void mask_spans(std::string_view bytes, size_t target, SplitMix64& random, std::vector<bool>& masked) {
  const std::vector<Word> in_order = split_words(bytes);
  std::vector<size_t> firsts(in_order.size());
  for (size_t i = 0; i < firsts.size(); ++i) firsts[i] = i;
  for (size_t i = firsts.size(); i > 1; --i) std::swap(firsts[i - 1], firsts[static_cast<size_t>(random.below(i))]);
  size_t masked_count = 0;
  for (const size_t first : firsts) {
    if (masked_count == target) break;
    const size_t count = 2 + static_cast<size_t>(random.below(4));
    const size_t last = std::min(in_order.size(), first + count) - 1;
    const bool space = after_space(bytes, in_order[first].start);
    const size_t start = in_order[first].start - space;
    const size_t end = in_order[last].start + in_order[last].length;
    mask_unit(start, end - start, target, masked_count, masked);
  }
  fill_with_bytes(bytes, target, masked_count, random, masked);
}

void mask_single(std::string_view bytes, double fraction, bool letters_only, SplitMix64& random,
                 std::vector<bool>& masked) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < bytes.size(); ++i)
    if (!letters_only || is_ascii_letter(static_cast<unsigned char>(bytes[i]))) candidates.push_back(i);
  mask_random_positions(candidates, target_of(candidates.size(), fraction), random, masked);
}

void mask_space_words(std::string_view bytes, double fraction, SplitMix64& random, std::vector<bool>& masked) {
  std::vector<Word> candidates;
  for (const Word& word : split_words(bytes))
    if (is_word_byte(static_cast<unsigned char>(bytes[word.start])) && after_space(bytes, word.start))
      candidates.push_back({word.start - 1, word.length + 1});
  const size_t count = target_of(candidates.size(), fraction);
  for (size_t k = 0; k < count; ++k) {
    const size_t pick = k + static_cast<size_t>(random.below(candidates.size() - k));
    std::swap(candidates[k], candidates[pick]);
    for (size_t i = 0; i < candidates[k].length; ++i) masked[candidates[k].start + i] = true;
  }
}

}  // namespace

const char* masking_rule_name(MaskingRule rule) {
  switch (rule) {
    case MaskingRule::Words: return "words";
    case MaskingRule::SpacedWords: return "spaced-words";
    case MaskingRule::Spans: return "spans";
    case MaskingRule::Letters: return "letters";
    case MaskingRule::Bytes: return "bytes";
    case MaskingRule::SpaceWords: return "space-words";
    case MaskingRule::Mixture: return "mixture";
  }
  return "?";
}

MaskingRule parse_masking_rule(const std::string& name) {
  for (MaskingRule rule : {MaskingRule::Words, MaskingRule::SpacedWords, MaskingRule::Spans, MaskingRule::Letters,
                           MaskingRule::Bytes, MaskingRule::SpaceWords, MaskingRule::Mixture})
    if (name == masking_rule_name(rule)) return rule;
  fail(ErrorKind::Usage,
       "unknown masking rule '" + name + "' (words, spaced-words, spans, letters, bytes, space-words or mixture)");
}

std::vector<bool> mask_positions(std::string_view bytes, uint64_t seed, double fraction, MaskingRule rule) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    fail(ErrorKind::Usage, "mask_window: the mask fraction must be in (0, 1], not " + std::to_string(fraction));
  std::vector<bool> masked(bytes.size(), false);
  SplitMix64 random(seed);
  if (rule == MaskingRule::Mixture) {
    const uint64_t r = random.next() % 100;
    rule = r < 20 ? MaskingRule::Words
                  : r < 50 ? MaskingRule::SpacedWords
                           : r < 70 ? MaskingRule::Letters : r < 85 ? MaskingRule::Spans : MaskingRule::Bytes;
  }
  const size_t target = target_of(bytes.size(), fraction);
  switch (rule) {
    case MaskingRule::Words: mask_words(bytes, target, false, random, masked); break;
    case MaskingRule::SpacedWords: mask_words(bytes, target, true, random, masked); break;
    case MaskingRule::Spans: mask_spans(bytes, target, random, masked); break;
    case MaskingRule::Letters: mask_single(bytes, fraction, true, random, masked); break;
    case MaskingRule::Bytes: mask_single(bytes, fraction, false, random, masked); break;
    case MaskingRule::SpaceWords: mask_space_words(bytes, fraction, random, masked); break;
    case MaskingRule::Mixture: break;  // resolved above
  }
  return masked;
}

MaskedWindow mask_window(std::string_view bytes, uint64_t seed, double fraction, MaskingRule rule) {
  const std::vector<bool> masked = mask_positions(bytes, seed, fraction, rule);
  const size_t n = bytes.size();
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
