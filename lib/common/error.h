// Errors: one exception type with a category; each app's main turns the category into an
// exit code (lib/cli/exit_codes.h), so library code never calls exit().
#pragma once

#include <stdexcept>
#include <string>

namespace perceiver {

enum class ErrorKind {
  Usage,           // bad command-line arguments or flag values
  ModelMissing,    // model folder, config.json or weights file not found
  ModelFormat,     // weights file corrupt, truncated or of an unknown format
  ModelMismatch,   // tensors missing, unexpected or of the wrong shape for the config
  ConfigInvalid,   // config.json malformed or an unsupported architecture
  Input,           // an input file unreadable or invalid
  Output,          // an output could not be written
  Limit,           // a size limit was exceeded (the message names the flag that raises it), or out of memory
  Interrupted,     // SIGINT or SIGTERM arrived while waiting for input (a FIFO, a pipe)
  Internal,        // a bug or an unexpected library failure
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

}  // namespace perceiver
