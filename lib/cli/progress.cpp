#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace perceiver::cli {

Progress::Progress(std::string program, size_t total, bool quiet, size_t min_total)
    : program_(std::move(program)), total_(total), to_terminal_(::isatty(STDERR_FILENO) != 0) {
  enabled_ = !quiet && total > min_total && !::isatty(STDOUT_FILENO);
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::advance(size_t done_now) {
  done_ += done_now;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::seconds(1) && done_ < total_) return;
  last_ = now;
  draw();
}

void Progress::draw() {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // On a terminal the line is redrawn in place; in a log file each update is its own line.
  std::fprintf(stderr, "%s%s: %zu/%zu inputs, %.2f/s%s", to_terminal_ ? "\r" : "", program_.c_str(), done_, total_,
               seconds > 0 ? done_ / seconds : 0.0, to_terminal_ ? "" : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (enabled_ && drawn_ && to_terminal_) std::fputc('\n', stderr);
}

}  // namespace perceiver::cli
