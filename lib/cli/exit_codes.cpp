#include "cli/exit_codes.h"

#include <iostream>
#include <new>

namespace perceiver::cli {

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return kExitUsage;
    case ErrorKind::ModelMissing: return kExitModelMissing;
    case ErrorKind::ModelFormat: return kExitModelFormat;
    case ErrorKind::ModelMismatch: return kExitModelMismatch;
    case ErrorKind::ConfigInvalid: return kExitConfig;
    case ErrorKind::Input: return kExitInput;
    case ErrorKind::Output: return kExitOutput;
    case ErrorKind::Limit: return kExitLimit;
    case ErrorKind::Internal: return kExitInternal;
  }
  return kExitInternal;
}

int report(const char* program, const std::exception& error) {
  std::string message = error.what();
  for (char& c : message)
    if (c == '\n') c = ' ';  // always one line
  std::cerr << program << ": error: " << message << std::endl;
  if (auto* known = dynamic_cast<const Error*>(&error)) return exit_code_for(known->kind());
  if (dynamic_cast<const std::bad_alloc*>(&error)) return kExitLimit;
  return kExitInternal;
}

int run_guarded(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& error) {
    return report(program, error);
  }
}

}  // namespace perceiver::cli
