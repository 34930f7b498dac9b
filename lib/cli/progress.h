// Progress on stderr for work that takes a while, the same in every tool:
//   "perceiver-flow: 5/16 tiles (31%), 0.52/s, ETA 0:21"  ("N done, rate" when the total is unknown)
// Nothing for the first two seconds (short jobs stay quiet), nothing with --quiet, and nothing
// while results go to the same terminal (they are the progress there). On a terminal the line is
// redrawn in place at most twice a second and cleared at the end; when stderr is a file or pipe,
// a plain line at most every ten seconds.
#pragma once

#include <chrono>
#include <string>

namespace perceiver::cli {

class Progress {
 public:
  // `total` 0: not known in advance. `unit`: what is counted ("inputs", "tiles", "windows").
  // `quiet_for` and the redraw intervals are the defaults above; tests shorten them.
  Progress(std::string program, size_t total, bool quiet, std::string unit = "inputs",
           std::chrono::milliseconds quiet_for = std::chrono::milliseconds(2000));
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(size_t done_now = 1);  // items finished since the last call
  void set_total(size_t total);       // once known
  void finish();                      // clears the line on a terminal

 private:
  void draw();
  std::string program_, unit_;
  size_t total_, done_ = 0;
  bool enabled_, drawn_ = false, to_terminal_, finished_ = false;
  std::chrono::milliseconds quiet_for_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace perceiver::cli
