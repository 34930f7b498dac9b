#include "cli/progress.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace perceiver::cli {

namespace {

using Clock = std::chrono::steady_clock;

// True when stdout and stderr are the same terminal (results would be overwritten).
bool results_on_this_terminal() {
  if (!::isatty(STDOUT_FILENO) || !::isatty(STDERR_FILENO)) return false;
  struct stat out {}, err {};
  return ::fstat(STDOUT_FILENO, &out) == 0 && ::fstat(STDERR_FILENO, &err) == 0 && out.st_rdev == err.st_rdev;
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

}  // namespace

Progress::Progress(std::string program, size_t total, bool quiet, std::string unit, std::chrono::milliseconds quiet_for)
    : program_(std::move(program)), unit_(std::move(unit)), total_(total), to_terminal_(::isatty(STDERR_FILENO) != 0),
      quiet_for_(quiet_for) {
  enabled_ = !quiet && !results_on_this_terminal();
  start_ = last_ = Clock::now();
}

Progress::~Progress() { finish(); }

void Progress::set_total(size_t total) { total_ = total; }

void Progress::advance(size_t done_now) {
  done_ += done_now;
  if (!enabled_) return;
  const auto now = Clock::now();
  if (now - start_ < quiet_for_) return;  // short work stays quiet
  const auto interval = to_terminal_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000);
  if (drawn_ && now - last_ < std::min<std::chrono::milliseconds>(interval, quiet_for_ * 5)) return;
  last_ = now;
  draw();
}

void Progress::draw() {
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  char line[256];
  if (total_ > 0) {
    const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / rate : 0.0;
    std::snprintf(line, sizeof line, "%s: %zu/%zu %s (%.0f%%), %.2f/s, ETA %s", program_.c_str(), done_, total_,
                  unit_.c_str(), 100.0 * static_cast<double>(done_) / static_cast<double>(total_), rate,
                  clock_text(eta).c_str());
  } else {
    std::snprintf(line, sizeof line, "%s: %zu %s done, %.2f/s", program_.c_str(), done_, unit_.c_str(), rate);
  }
  // On a terminal the line is redrawn in place ("\r", then cleared to its end).
  std::fprintf(stderr, to_terminal_ ? "\r%s\033[K" : "%s\n", line);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_ && drawn_ && to_terminal_) {
    std::fputs("\r\033[K", stderr);  // the summary line takes its place
    std::fflush(stderr);
  }
}

}  // namespace perceiver::cli
