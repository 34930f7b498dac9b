// A progress line on stderr for long batches: "perceiver-classify: 120/1000 inputs, 3.4/s".
// Shown only when stdout is not a terminal (results go to a file or pipe) or stderr is one,
// the batch has more than `min_total` items, and not --quiet; redrawn at most once a second.
#pragma once

#include <chrono>
#include <string>

namespace perceiver::cli {

class Progress {
 public:
  Progress(std::string program, size_t total, bool quiet, size_t min_total = 8);
  void advance(size_t done_now = 1);  // items finished since the last call
  void finish();                      // ends the line, if one was drawn

 private:
  void draw();
  std::string program_;
  size_t total_, done_ = 0;
  bool enabled_, drawn_ = false, to_terminal_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace perceiver::cli
