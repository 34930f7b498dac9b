// Peak resident memory of this process, resettable so that several measurements in one process
// each report their own peak (Linux: /proc/self/clear_refs "5" resets VmHWM).
#pragma once

#include <fstream>
#include <string>

namespace perceiver::bench {

inline void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

// A "Name:  123 kB" field of /proc/self/status in MB (0 if /proc is not readable).
inline double status_mb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0;
}

inline double peak_rss_mb() { return status_mb("VmHWM"); }     // since start or the last reset
inline double current_rss_mb() { return status_mb("VmRSS"); }

}  // namespace perceiver::bench
