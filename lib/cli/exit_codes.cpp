#include "cli/exit_codes.h"

#include "perceiver/perceiver.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <vector>

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

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Every long flag of `app` and of its chosen subcommands.
void long_flags(const CLI::App& app, std::vector<std::string>& out) {
  for (const CLI::Option* option : app.get_options())
    for (const std::string& name : option->get_lnames()) out.push_back("--" + name);
  for (const CLI::App* sub : app.get_subcommands()) long_flags(*sub, out);
}

// The option a CLI11 message is about ("--top-k: Value -1 …"), searched in `app` and the
// subcommands that were given.
const CLI::Option* option_of(const CLI::App& app, const std::string& message) {
  const size_t colon = message.find(':');
  if (message.rfind("--", 0) != 0 || colon == std::string::npos) return nullptr;
  const std::string flag = message.substr(0, colon);
  if (const CLI::Option* option = app.get_option_no_throw(flag)) return option;
  for (const CLI::App* sub : app.get_subcommands())
    if (const CLI::Option* option = option_of(*sub, message)) return option;
  return nullptr;
}

bool on_command_line(const CLI::Option& option, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const std::string& name : option.get_lnames())
      if (arg == "--" + name || arg.rfind("--" + name + "=", 0) == 0) return true;
    for (const std::string& name : option.get_snames())
      if (arg.rfind("-" + name, 0) == 0 && arg.rfind("--", 0) != 0) return true;
  }
  return false;
}

// CLI11's message, made to say what is wrong in terms of the flag (or variable) the user set.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string message = e.what();
  const CLI::Option* option = option_of(app, message);
  if (option) {
    // A range check whose upper end is the largest double reads as a 309-digit number.
    const size_t value = message.find(": Value "), range = message.find(" not in range ");
    if (value != std::string::npos && range != std::string::npos && message.size() - range > 40) {
      const std::string given = message.substr(value + 8, range - value - 8);
      const std::string type = option->get_type_name();
      message = message.substr(0, value) + ": " + given + " is not allowed (" +
                (type.find("NONNEGATIVE") != std::string::npos ? "a number of 0 or more" : "a number greater than 0") + ")";
    }
    // The value came from the environment, not from the flag.
    const std::string variable = option->get_envname();
    if (!variable.empty() && std::getenv(variable.c_str()) && !on_command_line(*option, argc, argv)) {
      const size_t colon = message.find(':');
      message = variable + "=" + std::getenv(variable.c_str()) + " (the environment's value of " +
                message.substr(0, colon) + ")" + message.substr(colon);
    }
  }
  for (const std::string unexpected : {"The following argument was not expected: ", "The following arguments were not expected: "}) {
    if (message.rfind(unexpected, 0) != 0) continue;
    const std::string given = message.substr(unexpected.size());
    std::vector<std::string> flags;
    long_flags(app, flags);
    std::string best, typo;
    size_t best_distance = 3;  // at most two edits away
    std::istringstream words(given);
    for (std::string word; words >> word;) {
      if (word.rfind("--", 0) != 0) continue;
      for (const std::string& flag : flags) {
        const size_t d = edit_distance(word.substr(0, word.find('=')), flag);
        if (d < best_distance) best_distance = d, best = flag, typo = word;
      }
    }
    message = "unknown argument" + std::string(given.find(' ') == std::string::npos ? " " : "s ") + given +
              (best.empty() ? std::string() : " (" + typo + ": did you mean " + best + "?)");
    break;
  }
  return message;
}

}  // namespace

int parse_arguments(CLI::App& app, int argc, char** argv) {
  // --version on every tool: its name, then the library's build_info() line.
  const std::string tool = app.get_name().empty() ? "perceiver" : app.get_name().substr(app.get_name().rfind('/') + 1);
  app.set_version_flag("--version", [tool] { return tool + ": " + build_info(); },
                       "print the version, git commit, oneDNN version, the CPU ISA oneDNN uses and whether bf16 is "
                       "available, and exit");
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
    std::cerr << name << ": error: " << escape_control(usage_message(app, e, argc, argv)) << " (see " << name
              << " --help)" << std::endl;
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
