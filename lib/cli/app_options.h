// Flags every tool shares, declared once so they read the same everywhere.
#pragma once

#include <CLI/CLI.hpp>

namespace perceiver::cli {

// -t/--threads N (env PERCEIVER_THREADS; 0 = all cores).
inline CLI::Option* add_threads_option(CLI::App& app, int& threads) {
  return app.add_option("-t,--threads", threads, "worker threads (0 = all cores)")
      ->envname("PERCEIVER_THREADS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

// Parses argv; returns -1 to go on, else the code to exit with (0 after --help, 2 on bad usage).
inline int parse_arguments(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
}

}  // namespace perceiver::cli
