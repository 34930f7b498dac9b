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

// --shard I/N (cli/shard.h; without it the Slurm array variables decide).
inline CLI::Option* add_shard_option(CLI::App& app, std::string& shard) {
  return app.add_option("--shard", shard,
                        "process only block I (from 0) of N contiguous blocks of the ordered inputs; default from "
                        "SLURM_ARRAY_TASK_ID/_MIN/_COUNT when set (docs/scaling.md)");
}

// --skip-existing (cli/resume.h, cli/output.h); `what` says what is skipped for this tool.
inline CLI::Option* add_skip_existing_flag(CLI::App& app, bool& skip, const std::string& what) {
  return app.add_flag("--skip-existing", skip, what);
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
