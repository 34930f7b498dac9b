// Parsing JSON text from a file the user gave us, with a one-line message that names the file.
// Nesting is bounded: nlohmann's parser keeps its own stack, but copying, comparing and printing
// a value recurse once per level, so a 200 kB file nested 100,000 deep would crash whoever
// touches it. No file the tools read needs more than a few levels.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace perceiver {

inline constexpr int kMaxJsonDepth = 64;
// The largest config.json / preprocessor_config.json read (the released ones are under 100 kB,
// ImageNet's 1,000 labels included).
inline constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;

// Call from a parser callback: Error(kind) naming `source` once `depth` passes kMaxJsonDepth.
inline void check_json_depth(int depth, const std::string& source, ErrorKind kind) {
  if (depth > kMaxJsonDepth)
    fail(kind, source + ": JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep");
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
inline std::string json_error_reason(const nlohmann::json::exception& e) {
  std::string why = e.what();
  const size_t bracket = why.find("] ");
  if (bracket != std::string::npos) why = why.substr(bracket + 2);
  return why;
}

// Error(kind, "<source>: not valid JSON: <reason>") on malformed text, Error(kind) on nesting
// deeper than kMaxJsonDepth.
template <typename Json = nlohmann::json, typename Iterator>
Json parse_json(Iterator begin, Iterator end, const std::string& source, ErrorKind kind) {
  const typename Json::parser_callback_t guard = [&](int depth, typename Json::parse_event_t, Json&) {
    check_json_depth(depth, source, kind);
    return true;
  };
  try {
    return Json::parse(begin, end, guard);
  } catch (const nlohmann::json::exception& e) {
    fail(kind, source + ": not valid JSON: " + json_error_reason(e));
  }
}

inline nlohmann::json parse_json(const std::string& text, const std::string& source, ErrorKind kind) {
  return parse_json(text.begin(), text.end(), source, kind);
}

}  // namespace perceiver
