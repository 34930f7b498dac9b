#include "common/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/error.h"

namespace perceiver {

std::string temporary_path(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

long temporary_owner(const std::string& file_name, const std::string& target_name) {
  const std::string prefix = target_name + ".tmp.";
  if (file_name.size() <= prefix.size() || file_name.compare(0, prefix.size(), prefix) != 0) return 0;
  long pid = 0;
  for (size_t i = prefix.size(); i < file_name.size(); ++i) {
    const char c = file_name[i];
    if (c < '0' || c > '9' || pid > 100'000'000) return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  // Same directory as the target so that rename() is atomic (no cross-device move).
  const std::string temporary = temporary_path(path);
  try {
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      if (!out) fail(ErrorKind::Output, path + ": cannot create the file");
      write(out);
      out.flush();
      if (!out) fail(ErrorKind::Output, path + ": write failed (disk full?)");
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
      fail(ErrorKind::Output, path + ": cannot move the finished file into place");
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
}

}  // namespace perceiver
