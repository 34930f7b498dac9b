// Parsing JSON text from a file the user gave us, with a one-line message that names the file.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace perceiver {

// Error(kind, "<source>: not valid JSON: <reason>") on malformed text.
inline nlohmann::json parse_json(const std::string& text, const std::string& source, ErrorKind kind) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();
    const size_t bracket = why.find("] ");  // drop nlohmann's "[json.exception.parse_error.101] "
    if (bracket != std::string::npos) why = why.substr(bracket + 2);
    fail(kind, source + ": not valid JSON: " + why);
  }
}

}  // namespace perceiver
