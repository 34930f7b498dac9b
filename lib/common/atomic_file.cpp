#include "common/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/error.h"

namespace perceiver {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  // Same directory as the target so that rename() is atomic (no cross-device move).
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
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
