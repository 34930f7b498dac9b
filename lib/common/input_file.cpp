#include "common/input_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace perceiver {

namespace {

struct Fd {
  int fd = -1;
  bool owned = false;
  ~Fd() {
    if (owned && fd >= 0) ::close(fd);
  }
};

[[noreturn]] void interrupted(const std::string& path) {
  fail(ErrorKind::Interrupted, path + ": interrupted while waiting for input");
}

void open_input(const std::string& path, ErrorKind kind, Fd& file, struct stat& info) {
  if (path == "-") {
    file.fd = 0;
  } else {
    for (;;) {  // a FIFO's open waits for a writer; a signal ends the wait
      file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (file.fd >= 0 || errno != EINTR) break;
      interrupted(path);
    }
    if (file.fd < 0) fail(kind, path + ": cannot open the file (" + std::strerror(errno) + ")");
    file.owned = true;
  }
  if (::fstat(file.fd, &info) != 0) fail(kind, path + ": cannot open the file (" + std::strerror(errno) + ")");
  if (S_ISDIR(info.st_mode)) fail(kind, path + ": is a directory, not a file");
}

[[noreturn]] void too_big(const std::string& path, const std::string& size, const InputFileLimit& limit) {
  fail(ErrorKind::Limit, path + ": " + size + " bytes exceed the limit of " + std::to_string(limit.bytes) + " bytes" +
                             (limit.flag.empty() ? std::string() : " (raise it with " + limit.flag + ")"));
}

// Reads up to `count` bytes (stopping at end of file) into `out`.
void read_up_to(int fd, size_t count, const std::string& path, ErrorKind kind, std::string& out) {
  char chunk[1 << 16];
  while (out.size() < count) {
    const size_t want = std::min(sizeof chunk, count - out.size());
    const ssize_t n = ::read(fd, chunk, want);
    if (n < 0 && errno == EINTR) interrupted(path);
    if (n < 0) fail(kind, path + ": read error (" + std::strerror(errno) + ")");
    if (n == 0) return;
    out.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

std::string read_input_file(const std::string& path, const InputFileLimit& limit, ErrorKind kind,
                            const std::function<void(const std::string&)>& check_start) {
  Fd file;
  struct stat info {};
  open_input(path, kind, file, info);
  std::string text;
  if (S_ISREG(info.st_mode)) {
    if (static_cast<uint64_t>(info.st_size) > limit.bytes) too_big(path, std::to_string(info.st_size), limit);
    text.reserve(static_cast<size_t>(info.st_size));
  }
  // One byte past the limit tells "exactly the limit" from "more" without reading further.
  const size_t cap = static_cast<size_t>(std::min<uint64_t>(limit.bytes + 1, SIZE_MAX));
  if (check_start) {
    read_up_to(file.fd, std::min<size_t>(cap, size_t{1} << 16), path, kind, text);
    check_start(text);
  }
  read_up_to(file.fd, cap, path, kind, text);
  if (text.size() > limit.bytes) too_big(path, "more than " + std::to_string(limit.bytes), limit);
  return text;
}

std::string read_input_prefix(const std::string& path, size_t count, ErrorKind kind) {
  Fd file;
  struct stat info {};
  open_input(path, kind, file, info);
  std::string text;
  read_up_to(file.fd, count, path, kind, text);
  return text;
}

LineReader::LineReader(const std::string& path, const InputFileLimit& limit, ErrorKind kind, char separator)
    : path_(path), limit_(limit), kind_(kind), separator_(separator) {
  Fd file;
  struct stat info {};
  open_input(path, kind, file, info);
  if (S_ISREG(info.st_mode) && static_cast<uint64_t>(info.st_size) > limit.bytes)
    too_big(path, std::to_string(info.st_size), limit);
  fd_ = file.fd, owned_ = file.owned;
  file.owned = false;  // kept open here
}

LineReader::~LineReader() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

bool LineReader::next(std::string& line) {
  for (;;) {
    const size_t end = buffer_.find(separator_, start_);
    if (end != std::string::npos) {
      line.assign(buffer_, start_, end - start_);
      start_ = end + 1;
      return true;
    }
    if (eof_) {
      if (start_ >= buffer_.size()) return false;
      line.assign(buffer_, start_, std::string::npos);
      start_ = buffer_.size();
      return true;
    }
    buffer_.erase(0, start_);  // keep only the incomplete line
    start_ = 0;
    char chunk[1 << 16];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) interrupted(path_);
    if (n < 0) fail(kind_, path_ + ": read error (" + std::strerror(errno) + ")");
    if (n == 0) {
      eof_ = true;
      continue;
    }
    read_ += static_cast<uint64_t>(n);
    if (read_ > limit_.bytes) too_big(path_, "more than " + std::to_string(limit_.bytes), limit_);
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

bool LineReader::ready() const {
  if (eof_ || buffer_.find(separator_, start_) != std::string::npos) return true;
  pollfd waiting{fd_, POLLIN, 0};
  return ::poll(&waiting, 1, 0) > 0;  // POLLHUP (writer gone) counts: the read returns at once
}

void require_regular_file(const std::string& path, ErrorKind kind, ErrorKind missing_kind) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) fail(missing_kind, path + ": no such file");
    fail(kind, path + ": cannot open the file (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(info.st_mode)) fail(kind, path + ": is a directory, not a file");
  if (!S_ISREG(info.st_mode)) fail(kind, path + ": not a regular file (a FIFO, device or socket is not read)");
}

bool reads_once(const std::string& path) {
  if (path == "-") return true;
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode);
}

}  // namespace perceiver
