#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

namespace {

// `path` itself, or for a symbolic link to a file the file it names (the link stays).
std::string replaced_path(const std::string& path, OutputTarget target) {
  if (target == OutputTarget::RegularFile) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved)) return resolved;
  }
  return path;
}

void write_fd(int fd, const std::string& bytes, const std::string& path) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorKind::Output, path + ": write failed (" + std::strerror(errno) + ")");
    written += static_cast<size_t>(n);
  }
}

}  // namespace

OutputTarget classify_output(const std::string& path) {
  struct stat followed {};
  if (::stat(path.c_str(), &followed) != 0) {
    struct stat link {};
    if (errno == ENOENT && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
      fail(ErrorKind::Output, path + ": a symbolic link to nothing (not followed, not replaced)");
    return OutputTarget::NewFile;
  }
  if (S_ISREG(followed.st_mode)) return OutputTarget::RegularFile;
  if (S_ISCHR(followed.st_mode) || S_ISFIFO(followed.st_mode)) return OutputTarget::Stream;
  if (S_ISDIR(followed.st_mode)) fail(ErrorKind::Output, path + ": is a directory, not a file");
  fail(ErrorKind::Output, path + ": not a regular file, character device or FIFO (left as it is)");
}

void check_output_path(const std::string& path) {
  if (classify_output(path) == OutputTarget::Stream) return;
  std::string folder = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (folder.empty()) folder = ".";
  struct stat info {};
  if (::stat(folder.c_str(), &info) != 0)
    fail(ErrorKind::Output, path + ": cannot be written: its folder " + folder + " does not exist");
  if (!S_ISDIR(info.st_mode)) fail(ErrorKind::Output, path + ": cannot be written: " + folder + " is not a folder");
  if (::access(folder.c_str(), W_OK) != 0)
    fail(ErrorKind::Output, path + ": cannot be written: no permission to create files in " + folder);
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const OutputTarget target = classify_output(path);
  if (target == OutputTarget::Stream) {
    // A device or FIFO is written in place: renaming a file over it would replace the node
    // itself (as root, /dev/null would become a regular file).
    std::ofstream out(path, std::ios::binary | std::ios::out);
    if (!out) fail(ErrorKind::Output, path + ": cannot open for writing (" + std::strerror(errno) + ")");
    write(out);
    out.flush();
    if (!out) fail(ErrorKind::Output, path + ": write failed");
    return;
  }
  const std::string destination = replaced_path(path, target);
  // Same directory as the target so that rename() is atomic (no cross-device move). O_EXCL: a
  // file that happens to have the temporary's name is not ours to overwrite.
  const std::string temporary = temporary_path(destination);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    fail(ErrorKind::Output, path + ": cannot create the file (" + std::strerror(errno) + ")");
  ::close(fd);
  try {
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      if (!out) fail(ErrorKind::Output, path + ": cannot create the file");
      write(out);
      out.flush();
      if (!out) fail(ErrorKind::Output, path + ": write failed (disk full?)");
      out.close();
      if (out.fail()) fail(ErrorKind::Output, path + ": write failed (disk full?)");
    }
    if (std::rename(temporary.c_str(), destination.c_str()) != 0)
      fail(ErrorKind::Output, path + ": cannot move the finished file into place (" + std::strerror(errno) + ")");
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
}

AtomicOutputFile::AtomicOutputFile(const std::string& path) : path_(path) {
  const OutputTarget target = classify_output(path);
  if (target == OutputTarget::Stream) {
    in_place_ = true;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) fail(ErrorKind::Output, path + ": cannot open for writing (" + std::strerror(errno) + ")");
    return;
  }
  destination_ = replaced_path(path, target);
  temporary_ = temporary_path(destination_);
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) fail(ErrorKind::Output, path + ": cannot create the file (" + std::strerror(errno) + ")");
}

AtomicOutputFile::~AtomicOutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!in_place_ && !committed_ && !temporary_.empty()) std::remove(temporary_.c_str());
}

void AtomicOutputFile::write(const std::string& bytes) {
  write_fd(fd_, bytes, path_);
  written_ += bytes.size();
}

bool AtomicOutputFile::truncate(uint64_t size) {
  if (in_place_) return false;
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0 || ::lseek(fd_, static_cast<off_t>(size), SEEK_SET) < 0)
    fail(ErrorKind::Output, path_ + ": cannot cut back the file (" + std::strerror(errno) + ")");
  written_ = size;
  return true;
}

void AtomicOutputFile::commit() {
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(ErrorKind::Output, path_ + ": write failed (" + std::strerror(errno) + ")");
  if (in_place_) return;
  if (std::rename(temporary_.c_str(), destination_.c_str()) != 0)
    fail(ErrorKind::Output, path_ + ": cannot move the finished file into place (" + std::strerror(errno) + ")");
  committed_ = true;
}

}  // namespace perceiver
