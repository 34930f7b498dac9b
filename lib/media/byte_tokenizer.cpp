// The Perceiver byte tokenizer (docs/spec/io_formats.md §1).
#include "media/byte_tokenizer.h"

#include <algorithm>
#include <array>
#include <string>

#include "common/error.h"

namespace perceiver::tokenizer {

namespace {

constexpr std::array<const char*, 6> kSpecialNames = {"[PAD]", "[BOS]", "[EOS]",
                                                      "[MASK]", "[CLS]", "[SEP]"};

bool is_special(int64_t id) { return id >= 0 && id < kByteOffset; }

void check_id(int64_t id) {
  if (id < 0 || id >= kVocabSize) {
    fail(ErrorKind::Input,
         "token id " + std::to_string(id) + " is outside the vocabulary 0.." +
             std::to_string(kVocabSize - 1));
  }
}

// The special token spelled at the start of `rest`, or -1.
int64_t special_at(std::string_view rest) {
  if (rest.empty() || rest.front() != '[') return -1;
  for (size_t i = 0; i < kSpecialNames.size(); ++i) {
    const std::string_view name = kSpecialNames[i];
    if (rest.substr(0, name.size()) == name) return static_cast<int64_t>(i);
  }
  return -1;
}

constexpr const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char b) { return b >= 0x80 && b <= 0xBF; }

}  // namespace

const char* special_token_name(int64_t id) {
  if (!is_special(id)) {
    fail(ErrorKind::Input, "token id " + std::to_string(id) + " is not a special token");
  }
  return kSpecialNames[static_cast<size_t>(id)];
}

std::vector<int64_t> encode(std::string_view text, bool add_special_tokens) {
  std::vector<int64_t> ids;
  ids.reserve(text.size() + 2);
  if (add_special_tokens) ids.push_back(kCls);
  size_t i = 0;
  while (i < text.size()) {
    const int64_t special = special_at(text.substr(i));
    if (special >= 0) {
      ids.push_back(special);
      i += std::string_view(kSpecialNames[static_cast<size_t>(special)]).size();
    } else {
      ids.push_back(static_cast<int64_t>(static_cast<unsigned char>(text[i])) + kByteOffset);
      ++i;
    }
  }
  if (add_special_tokens) ids.push_back(kSep);
  return ids;
}

PaddedBatch encode_padded(const std::vector<std::string>& texts, size_t max_length) {
  if (max_length < 2) {
    fail(ErrorKind::Usage, "max_length must be at least 2 to hold [CLS] and [SEP], got " +
                               std::to_string(max_length));
  }
  PaddedBatch batch;
  batch.input_ids.reserve(texts.size());
  batch.attention_mask.reserve(texts.size());
  for (const std::string& text : texts) {
    std::vector<int64_t> ids = encode(text, true);
    if (ids.size() > max_length) {
      ids.resize(max_length - 1);  // [CLS] + the first max_length - 2 content ids
      ids.push_back(kSep);
    }
    std::vector<int64_t> mask(max_length, 0);
    std::fill(mask.begin(), mask.begin() + static_cast<std::ptrdiff_t>(ids.size()), 1);
    ids.resize(max_length, kPad);
    batch.input_ids.push_back(std::move(ids));
    batch.attention_mask.push_back(std::move(mask));
  }
  return batch;
}

std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) {
  // Special names are ASCII, and an ASCII byte always ends an incomplete sequence, so decoding each
  // run of byte ids on its own gives the same text as decoding the joined byte string.
  std::string out, run;
  out.reserve(ids.size());
  for (const int64_t id : ids) {
    check_id(id);
    if (is_special(id)) {
      out += utf8_replace_invalid(run);
      run.clear();
      if (!skip_special_tokens) out += kSpecialNames[static_cast<size_t>(id)];
    } else {
      run.push_back(static_cast<char>(static_cast<unsigned char>(id - kByteOffset)));
    }
  }
  out += utf8_replace_invalid(run);
  return out;
}

std::string utf8_replace_invalid(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char lead = static_cast<unsigned char>(bytes[i]);
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    // Length of the sequence and the allowed range of its second byte (Unicode Table 3-7).
    size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    }
    if (length == 0) {  // 80..BF stray continuation, C0, C1, F5..FF
      out += kReplacement;
      ++i;
      continue;
    }
    // Accept bytes while they keep the sequence well-formed; stop at the first that does not.
    size_t accepted = 1;
    while (accepted < length && i + accepted < n) {
      const unsigned char b = static_cast<unsigned char>(bytes[i + accepted]);
      const bool ok = accepted == 1 ? (b >= lo && b <= hi) : is_continuation(b);
      if (!ok) break;
      ++accepted;
    }
    if (accepted == length) {
      out.append(bytes.data() + i, length);
    } else {
      out += kReplacement;  // one U+FFFD for the maximal ill-formed subpart
    }
    i += accepted;
  }
  return out;
}

std::string token_display(int64_t id) {
  check_id(id);
  if (is_special(id)) return kSpecialNames[static_cast<size_t>(id)];
  const unsigned byte = static_cast<unsigned>(id - kByteOffset);
  if (byte >= 0x20 && byte <= 0x7E) return std::string(1, static_cast<char>(byte));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "\\x";
  s.push_back(kHex[byte >> 4]);
  s.push_back(kHex[byte & 0xF]);
  return s;
}

}  // namespace perceiver::tokenizer
