// The Perceiver byte tokenizer (docs/spec/io_formats.md §1): id = byte + 6, six special tokens whose
// exact bracketed spelling in a text becomes their id, [CLS] … [SEP] framing, and a decode that
// replaces ill-formed UTF-8 the way Python's errors="replace" does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perceiver::tokenizer {

constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kMask = 3, kCls = 4, kSep = 5;
constexpr int64_t kByteOffset = 6;
constexpr int64_t kVocabSize = 262;

// "[PAD]", "[BOS]", … for ids 0..5; throws for other ids.
const char* special_token_name(int64_t id);

// Text (UTF-8 or any bytes) → ids. With `add_special_tokens`: [CLS] ids [SEP].
std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = true);

struct PaddedBatch {
  std::vector<std::vector<int64_t>> input_ids;       // [B][max_length]
  std::vector<std::vector<int64_t>> attention_mask;  // 1 on real tokens, 0 on padding
};
// HF tokenizer(texts, padding="max_length", truncation=True, max_length=L): too-long sequences
// are cut before the final [SEP], which is kept.
PaddedBatch encode_padded(const std::vector<std::string>& texts, size_t max_length);

// ids → text; special ids become their names unless skipped; ill-formed UTF-8 → U+FFFD per
// maximal ill-formed subsequence.
std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false);

// Replaces every maximal ill-formed UTF-8 subsequence by U+FFFD (Python errors="replace").
std::string utf8_replace_invalid(std::string_view bytes);

// A display form of one id: the byte as text when printable ASCII, `\xNN` otherwise, or the
// special token's name (used by perceiver-mlm's JSON output).
std::string token_display(int64_t id);

}  // namespace perceiver::tokenizer
