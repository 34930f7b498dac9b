#include "media/masked_text.h"

#include <algorithm>

#include "media/byte_tokenizer.h"

namespace perceiver {

namespace {
constexpr std::string_view kCountedMask = "[MASK:";
constexpr int64_t kMaxCountedMask = 65536;

// Parses "[MASK:N]" at text[at]; returns N, or 0 when the text there is not such a marker.
int64_t counted_mask_at(std::string_view text, size_t at, size_t& length) {
  if (text.compare(at, kCountedMask.size(), kCountedMask) != 0) return 0;
  size_t i = at + kCountedMask.size();
  int64_t count = 0;
  const size_t digits_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - digits_start < 6) count = count * 10 + (text[i++] - '0');
  if (i == digits_start || i >= text.size() || text[i] != ']' || count < 1 || count > kMaxCountedMask) return 0;
  length = i + 1 - at;
  return count;
}
}  // namespace

std::vector<int64_t> encode_masked_document(std::string_view text, const std::vector<std::string>& mask_spans) {
  std::vector<int64_t> ids;
  size_t segment_start = 0;
  for (size_t at = 0; at < text.size(); ++at) {
    size_t marker_length = 0;
    const int64_t count = text[at] == '[' ? counted_mask_at(text, at, marker_length) : 0;
    if (count == 0) continue;
    // Special tokens contain no ':', so none can straddle the marker: encoding segments apart is exact.
    const auto segment = tokenizer::encode(text.substr(segment_start, at - segment_start), false);
    ids.insert(ids.end(), segment.begin(), segment.end());
    ids.insert(ids.end(), static_cast<size_t>(count), tokenizer::kMask);
    at += marker_length - 1;
    segment_start = at + 1;
  }
  const auto tail = tokenizer::encode(text.substr(std::min(segment_start, text.size())), false);
  ids.insert(ids.end(), tail.begin(), tail.end());

  for (const std::string& span : mask_spans) {
    if (span.empty()) continue;
    const std::vector<int64_t> pattern = tokenizer::encode(span, false);
    for (auto it = ids.begin(); (it = std::search(it, ids.end(), pattern.begin(), pattern.end())) != ids.end();) {
      std::fill(it, it + static_cast<std::ptrdiff_t>(pattern.size()), tokenizer::kMask);
      it += static_cast<std::ptrdiff_t>(pattern.size());
    }
  }
  return ids;
}

std::string mask_lookalike(std::string_view text) {
  for (size_t at = text.find('['); at != std::string_view::npos; at = text.find('[', at + 1)) {
    size_t length = 0;
    if (text.compare(at, 6, "[MASK]") == 0 || counted_mask_at(text, at, length) > 0) continue;
    // "[mask]", "[Mask:3]", "[MASK:0]", "[MASK:abc]", "[MASK: 3]": "[" + MASK in any case, then
    // "]" or ":" — what a user means as a mask.
    if (at + 5 >= text.size()) break;
    std::string word(text.substr(at + 1, 4));
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
    if (word != "MASK" || (text[at + 5] != ']' && text[at + 5] != ':')) continue;
    const size_t close = text.find(']', at);
    return std::string(text.substr(at, close == std::string_view::npos || close - at > 24 ? 6 : close + 1 - at));
  }
  return "";
}

}  // namespace perceiver
