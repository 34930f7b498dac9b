// Text from files we do not control (a label in config.json, a tensor name, a file name) goes to
// terminals and line-based formats; a raw ESC can rewrite a terminal, a raw newline or tab splits
// a record. escape_control makes such bytes visible and unambiguous:
//   '\n' → \n, '\t' → \t, '\r' → \r, any other byte below 0x20 and 0x7f → \xNN;
//   with `backslash`, '\' → \\ as well (so the escaping can be undone: TSV and text output).
// UTF-8 (bytes ≥ 0x80) is left alone.
#pragma once

#include <string>
#include <string_view>

namespace perceiver {

inline std::string escape_control(std::string_view text, bool backslash = false) {
  std::string out;
  out.reserve(text.size());
  static const char* hex = "0123456789abcdef";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\\' && backslash) out += "\\\\";
    else if (byte < 0x20 || byte == 0x7f) out += std::string("\\x") + hex[byte >> 4] + hex[byte & 15];
    else out += c;
  }
  return out;
}

}  // namespace perceiver
