#include "cli/resume.h"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <set>

#include "common/atomic_file.h"

namespace perceiver::cli {

namespace fs = std::filesystem;

bool outputs_exist(const std::vector<std::string>& paths) {
  bool any = false;
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    std::error_code error;
    if (!fs::is_regular_file(path, error)) return false;
    any = true;
  }
  return any;
}

void remove_stale_temporaries(const std::vector<std::string>& outputs) {
  std::map<fs::path, std::set<std::string>> by_directory;
  for (const std::string& output : outputs) {
    if (output.empty()) continue;
    const fs::path path(output);
    by_directory[path.parent_path().empty() ? fs::path(".") : path.parent_path()].insert(path.filename().string());
  }
  for (const auto& [directory, names] : by_directory) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
      const std::string name = entry.path().filename().string();
      const size_t mark = name.rfind(".tmp.");
      if (mark == std::string::npos || names.count(name.substr(0, mark)) == 0) continue;
      const long pid = temporary_owner(name, name.substr(0, mark));
      if (pid <= 0) continue;
      if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running (or not ours to ask)
      std::error_code ignored;
      fs::remove(entry.path(), ignored);
    }
  }
}

}  // namespace perceiver::cli
