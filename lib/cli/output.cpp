#include "cli/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace perceiver::cli {

std::string input_key(const std::string& file, int64_t line) { return file + '\n' + std::to_string(line); }

std::optional<std::string> file_record_key(const nlohmann::json& record) {
  if (!record.is_object()) return std::nullopt;
  const auto file = record.find("file");
  if (file == record.end() || !file->is_string()) return std::nullopt;
  int64_t line = 0;
  if (const auto l = record.find("line"); l != record.end()) {
    if (!l->is_number_integer()) return std::nullopt;
    line = l->get<int64_t>();
  }
  return input_key(file->get<std::string>(), line);
}

ResultOutput::ResultOutput(const char* program, std::string path, bool journal, RecordKey key) : path_(std::move(path)) {
  if (journal && !path_.empty()) open_journal(program, key);
}

ResultOutput::~ResultOutput() {
  if (fd_ >= 0) ::close(fd_);
}

void ResultOutput::open_journal(const char* program, const RecordKey& key) {
  std::string text;
  {
    std::ifstream in(path_, std::ios::binary);
    if (in) {
      std::ostringstream all;
      all << in.rdbuf();
      if (in.bad()) fail(ErrorKind::Output, path_ + ": cannot read the existing output");
      text = all.str();
    }
  }
  // Complete lines that parse are kept; the first that does not must be the last line.
  size_t kept = 0;
  int64_t number = 0;
  while (kept < text.size()) {
    const size_t end = text.find('\n', kept);
    ++number;
    if (end == std::string::npos) break;  // no newline: torn
    std::optional<std::string> record;
    try {
      record = key(nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(kept), text.begin() + static_cast<std::ptrdiff_t>(end)));
    } catch (const nlohmann::json::exception&) {
    }
    if (!record) {
      if (end + 1 == text.size()) break;  // an invalid last line: torn
      fail(ErrorKind::Output, path_ + ":" + std::to_string(number) +
                                  ": not a record of this tool, so --skip-existing will not append to the file "
                                  "(remove it, or run without --skip-existing to replace it)");
    }
    present_.insert(*record);
    kept = end + 1;
  }
  if (kept < text.size()) {
    if (::truncate(path_.c_str(), static_cast<off_t>(kept)) != 0)
      fail(ErrorKind::Output, path_ + ": cannot cut off the torn last line (" + std::strerror(errno) + ")");
    std::cerr << program << ": " << path_ << ": dropped a torn last line (" << text.size() - kept
              << " bytes) left by an interrupted run" << std::endl;
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) fail(ErrorKind::Output, path_ + ": cannot open the file for appending (" + std::strerror(errno) + ")");
}

void ResultOutput::write(const std::string& text) {
  if (fd_ >= 0) {
    // One write() per record where the kernel allows: a killed run leaves whole lines, or at
    // worst one torn last line, which the next --skip-existing run cuts off.
    size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(ErrorKind::Output, path_ + ": write failed (" + std::strerror(errno) + ")");
      written += static_cast<size_t>(n);
    }
  } else if (path_.empty()) {
    std::cout << text << std::flush;
    if (!std::cout) fail(ErrorKind::Output, "standard output: write failed");
  } else {
    buffer_ << text;
  }
}

void ResultOutput::close(bool complete) {
  if (fd_ >= 0) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(ErrorKind::Output, path_ + ": write failed (" + std::strerror(errno) + ")");
  } else if (!path_.empty() && complete) {
    write_file_atomically(path_, [&](std::ostream& stream) { stream << buffer_.str(); });
  }
}

}  // namespace perceiver::cli
