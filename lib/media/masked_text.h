// Turning a user's text into the document's token ids with masks, for perceiver-mlm.
// On top of the HF byte tokenizer (a literal "[MASK]" is one masked byte) it offers two
// conveniences so nobody has to count bytes:
//   "[MASK:N]"   N masked bytes (1 ≤ N ≤ 65536), e.g. "The [MASK:5] sat" masks five bytes;
//   mask spans   every occurrence of a given string is masked byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace perceiver {

// Document ids without [CLS]/[SEP] framing.
std::vector<int64_t> encode_masked_document(std::string_view text, const std::vector<std::string>& mask_spans = {});

// The first piece of `text` that looks like a mask but is none ("[mask]", "[MASK:0]",
// "[MASK:abc]", "[MASK:70000]", "[Mask: 3]"), which is read as plain text; empty when there is none.
std::string mask_lookalike(std::string_view text);

}  // namespace perceiver
