// The masking rules of byte-level masked-language-model training and evaluation. Users of
// perceiver-mlm mask single letters ("th[MASK] mat"), whole words with or without their leading
// space ("returns[MASK:5] when"), several words at once and punctuation, so the model is trained
// on a mixture of rules that covers all of these, and measured on each (models/README.md).
//
// For a window of n bytes and a fraction f (0 < f <= 1), every rule first sets
// target = round(f * n) (halves away from zero), at least 1 when n > 0; 0 for n = 0 — except
// `letters` and `space-words`, whose targets count letters and words. A SplitMix64 generator seeded
// with `seed` makes every draw, so the result depends only on (bytes, seed, f, rule).
//
// Words are split as BERT's whole-word masking splits text: the maximal runs of word bytes
// (ASCII letters and digits, '_', and every byte >= 0x80, so UTF-8 letters stay whole), and each
// other byte that is not ASCII whitespace (' ', '\t', '\n', '\r', '\f', '\v') alone
// (punctuation). Runs cut by the window's ends count as words.
//
//   words         1. The word list (in text order) is shuffled by Fisher–Yates: for i = W-1
//                    down to 1, swap word i with word below(i + 1).
//                 2. The words are visited in that order; a word of length k is masked (all its
//                    bytes) when masked + k <= target. Visiting stops once masked == target.
//                 3. Fallback, for text with few or no word boundaries (one huge word, no
//                    whitespace): when 2 * masked < target after all words, single bytes are
//                    masked until masked == target, drawn uniformly without replacement
//                    (partial Fisher–Yates, same generator) first among the unmasked
//                    non-whitespace bytes in text order, then among the unmasked whitespace.
//                 Whitespace is never masked unless step 3 runs out of other bytes.
//   spaced-words  as `words`, but a word directly after a ' ' is masked together with that
//                 space (k counts it), as a user writes " Paris" -> "[MASK:6]".
//   spans         units of 2 to 5 consecutive words (the count drawn uniformly per unit) from a
//                 word start, the bytes between them included, and the ' ' before the first
//                 word when there is one; units start at the words in shuffled order (as in
//                 `words` step 1), a unit is masked when none of its bytes is masked yet and
//                 masked + k <= target; then step 3 of `words`.
//   letters       single ASCII letters (a–z, A–Z): target of them drawn uniformly without
//                 replacement (partial Fisher–Yates over the letters in text order).
//   bytes         single bytes of any kind (whitespace and punctuation included), drawn the
//                 same way over all n positions.
//   space-words   the measure of "a word masked with its leading space": the runs of word bytes
//                 directly after a ' ' are the candidates; round(f * their count) of them
//                 (at least 1 when there is one) are drawn uniformly without replacement and
//                 masked with their space. Not part of the mixture (spaced-words is).
//   mixture       the rule of the training windows: a rule drawn per window from the first
//                 value of the generator, r = next() % 100: words for r < 20, spaced-words for
//                 r < 50, letters for r < 70, spans for r < 85, bytes otherwise; the drawn rule
//                 then runs with the generator as it stands.
// No <random> distributions and no floating point beyond the target, so the masks are the same
// on every platform.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perceiver::training {

enum class MaskingRule { Words, SpacedWords, Spans, Letters, Bytes, SpaceWords, Mixture };

// "words", "spaced-words", "spans", "letters", "bytes", "space-words", "mixture".
const char* masking_rule_name(MaskingRule rule);
// Error(Usage) naming the choices for an unknown name.
MaskingRule parse_masking_rule(const std::string& name);

struct MaskedWindow {
  // Both [L], L = bytes.size() + 2. input_ids = [CLS] ids [SEP] with every masked byte replaced
  // by kMask; labels = the original id (byte + 6) at masked positions, -1 elsewhere (also at CLS
  // and SEP), the "ignore" label of the loss.
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
};

// Which bytes of `bytes` the rule masks ([n]). Error(Usage) when fraction is not in (0, 1].
std::vector<bool> mask_positions(std::string_view bytes, uint64_t seed, double fraction, MaskingRule rule);

// The masked window of `bytes`, framed as perceiver-mlm frames a short document.
MaskedWindow mask_window(std::string_view bytes, uint64_t seed, double fraction = 0.15,
                         MaskingRule rule = MaskingRule::Words);

// ASCII whitespace as the rules above define it.
inline bool is_mask_whitespace(unsigned char byte) {
  return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\f' || byte == '\v';
}

// Bytes that make up words: ASCII letters and digits, '_', and bytes >= 0x80.
inline bool is_word_byte(unsigned char byte) {
  return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') || byte == '_' ||
         byte >= 0x80;
}

inline bool is_ascii_letter(unsigned char byte) { return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z'); }

}  // namespace perceiver::training
