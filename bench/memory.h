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

// VmHWM in MB (0 if /proc is not readable).
inline double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:  123 kB"
  return 0;
}

}  // namespace perceiver::bench
