// Exit codes shared by every tool (README.md has the table), and the one place where an
// exception becomes a one-line message on stderr and an exit code.
#pragma once

#include <functional>
#include <string>

#include "common/error.h"

namespace perceiver::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,      // a bug or an unexpected failure
  kExitUsage = 2,         // bad flags or arguments
  kExitModelMissing = 3,  // model folder, config.json or weights file not found
  kExitModelFormat = 4,   // weights file corrupt, truncated or unsupported
  kExitModelMismatch = 5, // weights do not fit config.json (missing / unexpected / mis-shaped tensors)
  kExitConfig = 6,        // config.json invalid or an unsupported architecture
  kExitInput = 7,         // an input unreadable or invalid (single-input tools)
  kExitOutput = 8,        // an output could not be written
  kExitLimit = 9,         // a size limit exceeded, or out of memory
  kExitSomeFailed = 10,   // a batch finished, but some inputs failed (each reported)
  kExitInterrupted = 11,  // SIGINT or SIGTERM: stopped between inputs, the summary says what was done
};

int exit_code_for(ErrorKind kind);
// The exit code for any exception: an Error's kind; std::bad_alloc and oneDNN's out-of-memory
// errors → kExitLimit; anything else → kExitInternal.
int exit_code_for_exception(const std::exception& error);

// Prints "program: error: message" on stderr (one line) and returns the exit code for `error`.
int report(const char* program, const std::exception& error);

// Prints "program: error: message" for one failed input of a batch (escaped like report()).
void report_input_error(const char* program, const std::string& message);

// Runs `body` and turns any exception into report(); returns body's result otherwise.
int run_guarded(const char* program, const std::function<int()>& body);

}  // namespace perceiver::cli
