#include "cli/exit_codes.h"

#include <iostream>

#include <CLI/CLI.hpp>
#include <dnnl.hpp>

#include "cli/app_options.h"
#include "common/escape.h"
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
    case ErrorKind::Interrupted: return kExitInterrupted;
    case ErrorKind::Internal: return kExitInternal;
  }
  return kExitInternal;
}

int report(const char* program, const std::exception& error) {
  // Always one line, and no control character from a file (a label, a tensor name) reaches the
  // terminal raw.
  std::cerr << program << ": error: " << escape_control(error.what()) << std::endl;
  return exit_code_for_exception(error);
}

int exit_code_for_exception(const std::exception& error) {
  if (auto* known = dynamic_cast<const Error*>(&error)) return exit_code_for(known->kind());
  if (dynamic_cast<const std::bad_alloc*>(&error)) return kExitLimit;
  // oneDNN reports a failed allocation as its own error ("could not create a memory object").
  if (auto* onednn = dynamic_cast<const dnnl::error*>(&error); onednn && onednn->status == dnnl_out_of_memory)
    return kExitLimit;
  return kExitInternal;
}

void report_input_error(const char* program, const std::string& message) {
  std::cerr << program << ": error: " << escape_control(message) << std::endl;
}

int parse_arguments(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 names an app without a name after argv[0]; messages use the tool's own name.
    const std::string name = app.get_name().empty() ? "perceiver" : app.get_name().substr(app.get_name().rfind('/') + 1);
    std::cerr << name << ": error: " << escape_control(e.what()) << " (see " << name << " --help)" << std::endl;
    return kExitUsage;
  }
}

int run_guarded(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& error) {
    return report(program, error);
  }
}

}  // namespace perceiver::cli
